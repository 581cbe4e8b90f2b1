# Reference values for tests/analysis/test_network.py::test_*_match_r_on_public_data
# Run from the repo root:  Rscript tests/r/network_public.R
# (R 4.x, igraph 1.3.5, sna 2.7-1). Reads the public fixtures tests/data/public/{s50-three,lazega,coleman}
# and writes tests/data/network_public_ref.csv (one row per study x wave x tie type, "any" = the union)
# and tests/data/network_public_groups_ref.csv (one row per study x wave x tie type x group).
#
# The graphs are built as the network stage builds them: every respondent of the wave is a vertex,
# a nomination is kept when ego and alter are both respondents of that wave and differ, duplicates
# are dropped. The calls:
#   reciprocity(g, mode = "default")               edgewise (arc) reciprocity: share of ties returned
#   sna::grecip(adj, measure = "edgewise")         the same, second implementation
#   reciprocity(g, mode = "ratio")                 dyadic: mutual pairs / tied pairs
#   sna::grecip(adj, measure = "dyadic.nonnull")   the same, second implementation
#   centr_degree(g, mode = "in" / "out", loops = FALSE)$centralization          Freeman, normalised
#   sna::centralization(adj, sna::degree, cmode = "indegree" / "outdegree")      the same
#   transitivity(as.undirected(g, mode = "collapse"), type = "global")
# Group E-I from the mixing matrix M (rows = sender's group, columns = receiver's group):
#   sent and received: E = row sum + column sum of the group's off-diagonal cells, I = M[g, g]
#   sent only:         E = row sum of the group's off-diagonal cells,              I = M[g, g]
suppressMessages({library(igraph); library(sna)})
studies <- c("s50-three", "lazega", "coleman")
whole <- list(); groups_out <- list()
for (st in studies) {
  dir <- file.path("tests/data/public", st, "data")
  resp <- read.csv(file.path(dir, "respondents.csv"), stringsAsFactors = FALSE)
  ties <- read.csv(file.path(dir, "ties.csv"), stringsAsFactors = FALSE)
  for (w in unique(resp$wave)) {
    rw <- resp[resp$wave == w, ]
    ids <- rw$respondent_id
    tw <- ties[ties$wave == w & ties$ego %in% ids & ties$alter %in% ids & ties$ego != ties$alter, ]
    for (tt in c(unique(ties$tie_type), "any")) {
      te <- if (tt == "any") tw else tw[tw$tie_type == tt, ]
      te <- unique(te[, c("ego", "alter")])
      g <- graph_from_data_frame(te, directed = TRUE, vertices = data.frame(name = ids))
      adj <- as.matrix(as_adjacency_matrix(g, sparse = FALSE))
      und <- as.undirected(g, mode = "collapse")
      whole[[length(whole) + 1]] <- data.frame(
        study = st, wave = w, tie_type = tt, n_nodes = vcount(g), n_ties = ecount(g),
        reciprocity_igraph = reciprocity(g, mode = "default"),
        reciprocity_sna = unname(grecip(adj, measure = "edgewise")),
        reciprocity_dyadic_igraph = reciprocity(g, mode = "ratio"),
        reciprocity_dyadic_sna = unname(grecip(adj, measure = "dyadic.nonnull")),
        centralization_in_igraph = centr_degree(g, mode = "in", loops = FALSE)$centralization,
        centralization_in_sna = centralization(adj, sna::degree, cmode = "indegree"),
        centralization_out_igraph = centr_degree(g, mode = "out", loops = FALSE)$centralization,
        centralization_out_sna = centralization(adj, sna::degree, cmode = "outdegree"),
        transitivity = transitivity(und, type = "global"))
      grp <- factor(rw$group[match(te$ego, ids)], levels = unique(rw$group))
      grp_to <- factor(rw$group[match(te$alter, ids)], levels = unique(rw$group))
      mix <- table(grp, grp_to)
      for (k in levels(grp)) {
        internal <- mix[k, k]
        sent <- sum(mix[k, ]) - internal
        received <- sum(mix[, k]) - internal
        groups_out[[length(groups_out) + 1]] <- data.frame(
          study = st, wave = w, tie_type = tt, group = k, ties_internal = internal,
          ties_external = sent + received, ties_external_sent = sent,
          ei = (sent + received - internal) / (sent + received + internal),
          ei_sent = (sent - internal) / (sent + internal))
      }
    }
  }
}
write.csv(do.call(rbind, whole), "tests/data/network_public_ref.csv", row.names = FALSE)
write.csv(do.call(rbind, groups_out), "tests/data/network_public_groups_ref.csv", row.names = FALSE)
