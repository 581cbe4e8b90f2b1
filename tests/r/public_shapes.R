# Three more real public datasets as small `tables` studies, of shapes the first six
# (tests/r/public_data.R) do not have: tests/data/public/<name>/ = study.yaml + data/*.csv.
# Sources, licences and citations: tests/data/public/README.md.
#
#   sampson       three waves, four groups, no scale items (Sampson's monastery, liking at T2-T4)
#   caffeine      randomized arms (placebo / caffeine), two waves, 20 items, no ties, blank
#                 questionnaires (psychTools sai, XRAY study; arms from msqR's `drug`)
#   film-anxiety  a subscale that changes clearly (after Holm) where its dimension does not
#                 (psychTools sai, FIAT study: state anxiety before and after one of three films)
#
# Run from the repo root:
#   Rscript tests/r/public_shapes.R [samplk.RData]
#
# psychTools is read from the installed package (r-cran-psychtools 2.2.9). Sampson's networks are
# in the ergm package (data/samplk.RData: samplk1, samplk2, samplk3, network objects); where ergm
# is not installed give that file instead (it was read from github.com/statnet/ergm, version
# 4.13.0, commit df2ead19). Needs the network package (r-cran-network). Deterministic.
suppressMessages({library(psychTools); library(network)})

args <- commandArgs(trailingOnly = TRUE)
out_root <- "tests/data/public"

# ---- helpers (as in tests/r/public_data.R) ------------------------------------------------------
write_study <- function(name, yaml, respondents, responses, ties, scales) {
  dir <- file.path(out_root, name, "data")
  dir.create(dir, recursive = TRUE, showWarnings = FALSE)
  w <- function(df, f) write.csv(df, file.path(dir, f), row.names = FALSE, quote = FALSE, na = "")
  w(respondents, "respondents.csv"); w(responses, "responses.csv"); w(ties, "ties.csv"); w(scales, "scales.csv")
  writeLines(c("# Written by tests/r/public_shapes.R; the data's source: tests/data/public/README.md", yaml),
             file.path(out_root, name, "study.yaml"))
}

no_responses <- data.frame(respondent_id = character(), wave = character(), item = character(),
                           value = numeric())
no_ties <- data.frame(wave = character(), tie_type = character(), ego = character(), alter = character())
no_scales <- data.frame(item = character(), dimension = character(), subscale = character(),
                        reverse = character(), min = numeric(), max = numeric())

common <- function(id, title, language, site, waves, group_levels, tie_types) {
  c(sprintf("id: %s", id), sprintf("title: \"%s\"", title), sprintf("language: %s", language),
    sprintf("site: \"%s\"", site), "instrument: ../../../../instruments/sinergi.yaml",
    "source: {kind: tables, path: data}", "waves:", waves, "group:", "  levels:", group_levels,
    sprintf("tie_types: [%s]", paste(tie_types, collapse = ", ")),
    "analysis: {seed: 12, permutations: 199}")
}

# ---- sampson: 18 novices, liking nominations at Sampson's T2, T3, T4; four groups ---------------
e <- new.env()
if (requireNamespace("ergm", quietly = TRUE)) {
  utils::data(list = "samplk", package = "ergm", envir = e)
} else {
  if (is.na(args[1]) || !file.exists(args[1])) stop("ergm is not installed: give the path of its data/samplk.RData")
  load(args[1], envir = e)
}
nets <- list(e$samplk1, e$samplk2, e$samplk3)
monks <- sprintf("monk%02d", 1:18)
group4 <- get.vertex.attribute(nets[[1]], "group4")          # the same in the three networks
stopifnot(identical(group4, get.vertex.attribute(nets[[3]], "group4")))
gval <- c(Turks = "turks", Loyal = "loyal", Outcasts = "outcasts", Waverers = "waverers")[group4]
wids <- c("t2", "t3", "t4")
resp <- do.call(rbind, lapply(wids, function(w)
  data.frame(respondent_id = monks, wave = w, group = gval,
             cloisterville = as.integer(get.vertex.attribute(nets[[1]], "cloisterville")))))
ties <- do.call(rbind, lapply(1:3, function(k) {
  ix <- which(as.matrix(nets[[k]]) == 1, arr.ind = TRUE)
  ix <- ix[order(ix[, 1], ix[, 2]), , drop = FALSE]
  data.frame(wave = wids[k], tie_type = "liking", ego = monks[ix[, 1]], alter = monks[ix[, 2]])
}))
write_study("sampson", common("sampson", "Sampson's monastery: liking among 18 novices", "id", "New England monastery",
                              c("  - {id: t2, label: {id: Waktu 2, en: Time 2}}",
                                "  - {id: t3, label: {id: Waktu 3, en: Time 3}}",
                                "  - {id: t4, label: {id: Waktu 4, en: Time 4}}"),
                              c("    - {value: loyal, label: {id: Oposisi Loyal, en: Loyal Opposition}}",
                                "    - {value: turks, label: {id: Turki Muda, en: Young Turks}}",
                                "    - {value: outcasts, label: {id: Orang Buangan, en: Outcasts}}",
                                "    - {value: waverers, label: {id: Peragu, en: Waverers}}"),
                              "liking"),
            resp, no_responses, ties, no_scales)

# ---- the State-Trait Anxiety Inventory's state items (sai), items 1..4 ---------------------------
# anxiety present (scored as answered) and anxiety absent (reverse-scored): Spielberger's STAI-Y1
data(sai, package = "psychTools")
data(msqR, package = "psychTools")
present <- c("tense", "regretful", "upset", "worrying", "anxious", "nervous", "jittery", "high.strung",
             "worried", "rattled")
absent <- c("calm", "secure", "at.ease", "rested", "comfortable", "confident", "relaxed", "content",
            "joyful", "pleasant")
stai_scales <- data.frame(item = gsub("[.]", "_", c(present, absent)), dimension = "anxiety",
                          subscale = rep(c("present", "absent"), each = 10),
                          reverse = rep(c("false", "true"), each = 10), min = 1, max = 4)

stai_study <- function(study, prefix, wave_ids, group_of) {
  x <- sai[sai$study == study, ]
  x$rid <- sprintf("%s%03d", prefix, x$id)
  x$wave <- wave_ids[x$time]
  x <- x[order(x$time, x$id), ]
  resp <- data.frame(respondent_id = x$rid, wave = x$wave, group = group_of[as.character(x$id)])
  # every item of every questionnaire, an unanswered one empty: a blank questionnaire is a row of
  # respondents.csv whose 20 answers are all empty
  items <- do.call(rbind, lapply(seq_len(nrow(x)), function(i)
    data.frame(respondent_id = x$rid[i], wave = x$wave[i], item = gsub("[.]", "_", c(present, absent)),
               value = unlist(x[i, c(present, absent)]))))
  list(resp = resp, items = items)
}

# ---- caffeine: XRAY, 200 students randomly given caffeine or a placebo, two STAI measurements ----
m <- unique(msqR[msqR$study == "XRAY", c("id", "drug")])    # drug: 1 placebo, 2 caffeine
stopifnot(!any(duplicated(m$id)))
arm <- setNames(c("placebo", "caffeine")[m$drug], m$id)
s <- stai_study("XRAY", "x", c("first", "second"), arm)
write_study("caffeine", common("caffeine", "State anxiety after caffeine or a placebo (XRAY study)", "en",
                               "Personality-Motivation-Cognition lab",
                               c("  - {id: first, label: {id: Pengukuran pertama, en: First measurement}}",
                                 "  - {id: second, label: {id: Pengukuran kedua, en: Second measurement}}"),
                               c("    - {value: placebo, label: Placebo}",
                                 "    - {value: caffeine, label: {id: Kafein, en: Caffeine}}"),
                               "friend"),
            s$resp, s$items, no_ties, stai_scales)

# ---- film-anxiety: FIAT, 70 students, STAI before and after one of three film clips --------------
m <- unique(msqR[msqR$study == "FIAT", c("id", "film")])    # film: 2 Halloween, 3 Nat Geo, 4 Parenthood
stopifnot(!any(duplicated(m$id)))
film <- setNames(c("halloween", "natgeo", "parenthood")[m$film - 1], m$id)
s <- stai_study("FIAT", "f", c("before", "after"), film)
write_study("film-anxiety", common("film-anxiety", "State anxiety before and after a film (FIAT study)", "id",
                                   "Personality-Motivation-Cognition lab",
                                   c("  - {id: before, label: {id: Sebelum film, en: Before the film}}",
                                     "  - {id: after, label: {id: Sesudah film, en: After the film}}"),
                                   c("    - {value: halloween, label: {id: Halloween (horor), en: Halloween (horror)}}",
                                     "    - {value: natgeo, label: {id: Nat Geo (alam), en: Nat Geo (nature)}}",
                                     "    - {value: parenthood, label: {id: Parenthood (komedi), en: Parenthood (comedy)}}"),
                                   "friend"),
            s$resp, s$items, no_ties, stai_scales)
