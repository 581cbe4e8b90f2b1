# Reference values for tests/analysis/test_network.py::test_brokerage_matches_sna
# Run from the repo root:  Rscript tests/r/brokerage.R
# (R 4.x, sna 2.7-1). Reads tests/data/brokerage_{edges,groups}.csv, writes
# tests/data/brokerage_ref_nodes.csv (sna::brokerage(g, cl)$raw.nli) and
# tests/data/brokerage_ref_global.csv (raw.gli, exp.gli, sd.gli, z.gli).
suppressMessages(library(sna))
edges <- read.csv("tests/data/brokerage_edges.csv", stringsAsFactors = FALSE)
groups <- read.csv("tests/data/brokerage_groups.csv", stringsAsFactors = FALSE)
nodes_out <- list(); global_out <- list()
for (gname in unique(groups$graph)) {
  vg <- groups[groups$graph == gname, ]
  eg <- edges[edges$graph == gname, ]
  n <- nrow(vg)
  adj <- matrix(0, n, n)
  adj[cbind(eg$from, eg$to)] <- 1
  b <- brokerage(adj, vg$group)
  raw <- as.data.frame(b$raw.nli)
  raw$graph <- gname; raw$node <- vg$node
  nodes_out[[gname]] <- raw
  global_out[[gname]] <- data.frame(graph = gname, role = names(b$raw.gli),
                                    raw = b$raw.gli, exp = b$exp.gli,
                                    sd = b$sd.gli, z = b$z.gli)
}
write.csv(do.call(rbind, nodes_out), "tests/data/brokerage_ref_nodes.csv", row.names = FALSE)
write.csv(do.call(rbind, global_out), "tests/data/brokerage_ref_global.csv", row.names = FALSE)
