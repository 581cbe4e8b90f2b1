# Real public datasets as small `tables` studies: tests/data/public/<name>/
#   study.yaml + data/{respondents,responses,ties,scales}.csv
# Sources, licences and citations: tests/data/public/README.md.
#
# Run from the repo root:
#   Rscript tests/r/public_data.R [RSiena.rda] [lazega.rda]
#
# psychTools (affect/msqR, bfi) and sna (coleman) are read from the installed packages.
# s50 comes from RSiena and the Lazega lawyers from networkdata; where those packages are not
# installed, give the package's data file instead: RSiena's data/RSiena.rda (RSiena 1.6.6) and
# networkdata's data/lazega.rda (networkdata 0.01, github zalmquist/networkdata).
# Written with R 4.x, psychTools 2.x, sna 2.7-1, network 1.18.1. Deterministic (set.seed).
suppressMessages({library(psychTools); library(sna); library(network)})

args <- commandArgs(trailingOnly = TRUE)
out_root <- "tests/data/public"

from_package_or_file <- function(name, package, file) {
  e <- new.env()
  if (requireNamespace(package, quietly = TRUE)) {
    utils::data(list = name, package = package, envir = e)
  } else {
    if (is.na(file) || !file.exists(file))
      stop(sprintf("%s is not installed: give the path of its data file (%s) on the command line", package, name))
    load(file, envir = e)
  }
  e
}

write_study <- function(name, yaml, respondents, responses, ties, scales) {
  dir <- file.path(out_root, name, "data")
  dir.create(dir, recursive = TRUE, showWarnings = FALSE)
  w <- function(df, f) write.csv(df, file.path(dir, f), row.names = FALSE, quote = FALSE, na = "")
  w(respondents, "respondents.csv"); w(responses, "responses.csv"); w(ties, "ties.csv"); w(scales, "scales.csv")
  writeLines(c("# Written by tests/r/public_data.R; the data's source: tests/data/public/README.md", yaml),
             file.path(out_root, name, "study.yaml"))
}

no_responses <- data.frame(respondent_id = character(), wave = character(), item = character(),
                           value = numeric())
no_ties <- data.frame(wave = character(), tie_type = character(), ego = character(), alter = character())
no_scales <- data.frame(item = character(), dimension = character(), subscale = character(),
                        reverse = character(), min = numeric(), max = numeric())

adj_ties <- function(adj, ids, wave, tie_type) {
  # ego named alter where adj[ego, alter] == 1 (RSiena's 10 = structural zero is not a tie)
  ix <- which(adj == 1, arr.ind = TRUE)
  ix <- ix[order(ix[, 1], ix[, 2]), , drop = FALSE]
  data.frame(wave = rep(wave, nrow(ix)), tie_type = rep(tie_type, nrow(ix)),
             ego = ids[ix[, 1]], alter = ids[ix[, 2]], stringsAsFactors = FALSE)
}

common <- function(id, title, language, site, waves, group_levels, tie_types, extra = character()) {
  c(sprintf("id: %s", id), sprintf("title: \"%s\"", title), sprintf("language: %s", language),
    sprintf("site: \"%s\"", site), "instrument: ../../../../instruments/sinergi.yaml",
    "source: {kind: tables, path: data}", "waves:", waves, "group:", "  levels:", group_levels,
    # a study without networks leaves tie_types out (a tables study then has none)
    if (length(tie_types)) sprintf("tie_types: [%s]", paste(tie_types, collapse = ", ")) else character(),
    "analysis: {seed: 12, permutations: 199}", extra)
}

# ---- s50: Teenage Friends and Lifestyle Study, 50 girls, friendship at three waves -------------
s50 <- from_package_or_file("s50", "RSiena", args[1])
girls <- sprintf("girl%02d", 1:50)
smoke <- s50$s50s      # 1 = non, 2 = occasional, 3 = regular; per wave
alcohol <- s50$s50a    # 1 = non ... 5 = more than once a week; per wave
nets <- list(s50$s501, s50$s502, s50$s503)
# group: smoking at the first wave (fixed), smoker = occasional or regular
s50_group <- ifelse(smoke[, 1] >= 2, "smoker", "nonsmoker")
s50_study <- function(name, waves_used, wave_lines) {
  wids <- paste0("t", waves_used)
  resp <- do.call(rbind, lapply(seq_along(waves_used), function(k) {
    data.frame(respondent_id = girls, wave = wids[k], group = s50_group)
  }))
  # two one-item scales with their own ranges: alcohol 1..5, smoking 1..3
  items <- do.call(rbind, lapply(seq_along(waves_used), function(k) {
    rbind(data.frame(respondent_id = girls, wave = wids[k], item = "alcohol", value = alcohol[, waves_used[k]]),
          data.frame(respondent_id = girls, wave = wids[k], item = "smoking", value = smoke[, waves_used[k]]))
  }))
  ties <- do.call(rbind, lapply(seq_along(waves_used), function(k)
    adj_ties(nets[[waves_used[k]]], girls, wids[k], "friend")))
  scales <- data.frame(item = c("alcohol", "smoking"), dimension = c("alcohol", "smoking"),
                       subscale = c("frequency", "frequency"), reverse = "false", min = 1, max = c(5, 3))
  write_study(name, common(name, "Teenage Friends and Lifestyle Study: 50 girls (s50)", "en",
                           "West of Scotland school", wave_lines,
                           c("    - {value: nonsmoker, label: {id: Bukan perokok, en: Non-smokers}}",
                             "    - {value: smoker, label: {id: Perokok, en: Smokers}}"),
                           "friend"),
              resp, items, ties, scales)
}
s50_study("s50-three", 1:3, c("  - {id: t1, label: {id: Tahun ke-2 (1995), en: Year 2 (1995)}}",
                              "  - {id: t2, label: {id: Tahun ke-3 (1996), en: Year 3 (1996)}}",
                              "  - {id: t3, label: {id: Tahun ke-4 (1997), en: Year 4 (1997)}}"))
s50_study("s50-two", 1:2, c("  - {id: t1, label: {id: Tahun ke-2 (1995), en: Year 2 (1995)}}",
                            "  - {id: t2, label: {id: Tahun ke-3 (1996), en: Year 3 (1996)}}"))

# ---- coleman: 73 boys of one high school, friendship in fall and spring 1957-58 ---------------
data(coleman, package = "sna")
boys <- sprintf("boy%02d", 1:73)
resp <- rbind(data.frame(respondent_id = boys, wave = "fall", group = "boy"),
              data.frame(respondent_id = boys, wave = "spring", group = "boy"))
ties <- rbind(adj_ties(coleman[1, , ], boys, "fall", "friend"), adj_ties(coleman[2, , ], boys, "spring", "friend"))
write_study("coleman", common("coleman", "Coleman (1964): friendship among 73 high-school boys", "id",
                              "Illinois high school",
                              c("  - {id: fall, label: {id: Musim gugur 1957, en: Fall 1957}}",
                                "  - {id: spring, label: {id: Musim semi 1958, en: Spring 1958}}"),
                              # one group: every respondent is a boy; the config needs two levels
                              c("    - {value: boy, label: {id: Siswa laki-laki, en: Boys}}",
                                "    - {value: girl, label: {id: Siswa perempuan, en: Girls}}"),
                              "friend"),
            resp, no_responses, ties, no_scales)

# ---- Lazega lawyers: 71 attorneys of a New England law firm, one wave, by office ----------------
lz <- from_package_or_file("lazega", "networkdata", args[2])$lazega
lawyers <- sprintf("lawyer%02d", 1:71)
office <- c("boston", "hartford", "providence")[get.vertex.attribute(lz$ADVICE, "office")]
resp <- data.frame(respondent_id = lawyers, wave = "y1988", group = office,
                   partner = as.integer(get.vertex.attribute(lz$ADVICE, "status") == 1),
                   seniority = get.vertex.attribute(lz$ADVICE, "seniority"),
                   age = get.vertex.attribute(lz$ADVICE, "age"))
ties <- rbind(adj_ties(as.matrix(lz$ADVICE), lawyers, "y1988", "advice"),
              adj_ties(as.matrix(lz$FRIENDSHIP), lawyers, "y1988", "friendship"),
              adj_ties(as.matrix(lz$COWORK), lawyers, "y1988", "cowork"))
write_study("lazega", common("lazega", "Lazega law firm: advice, friendship and co-work among 71 lawyers", "en",
                             "SG&R law firm",
                             "  - {id: y1988, label: {id: 1988–1991, en: 1988–1991}}",
                             c("    - {value: boston, label: Boston}", "    - {value: hartford, label: Hartford}",
                               "    - {value: providence, label: Providence}"),
                             c("advice", "friendship", "cowork")),
            resp, no_responses, ties, no_scales)

# ---- msqR "Maps" study (the affect data's mood items): before and after a film -------------------
# Items scored 0 (not at all) .. 3 (very much). Films 2 = Halloween (horror), 3 = Nat Geo (nature);
# energetic arousal (energy + / tiredness −, 7 + 3 items) and tense arousal (tension + / calmness −,
# 5 + 5 items), Thayer's scales as keyed in psychTools::msq.keys. No ties.
data(msqR, package = "psychTools")
m <- msqR[msqR$study == "Maps" & msqR$film %in% c(2, 3), ]
keys <- list(energetic_arousal = c("active", "energetic", "vigorous", "wakeful", "wide.awake", "full.of.pep", "lively",
                        "-sleepy", "-tired", "-drowsy"),
             tense_arousal = c("intense", "jittery", "fearful", "tense", "clutched.up", "-quiet", "-still", "-placid",
                         "-calm", "-at.rest"))
scales <- do.call(rbind, lapply(names(keys), function(d) {
  k <- keys[[d]]
  data.frame(item = gsub("[.]", "_", sub("^-", "", k)), dimension = d,
             subscale = ifelse(grepl("^-", k), c(energetic_arousal = "tiredness", tense_arousal = "calmness")[d],
                               c(energetic_arousal = "energy", tense_arousal = "tension")[d]),
             reverse = ifelse(grepl("^-", k), "true", "false"), min = 0, max = 3)
}))
m$rid <- sprintf("p%03d", m$id)
m$wave <- c("before", "after")[m$time]
resp <- unique(data.frame(respondent_id = m$rid, wave = m$wave,
                          group = c(NA, "halloween", "natgeo")[m$film]))
resp <- resp[order(match(resp$wave, c("before", "after")), resp$respondent_id), ]
items <- do.call(rbind, lapply(sub("^-", "", unlist(keys)), function(it)
  data.frame(respondent_id = m$rid, wave = m$wave, item = gsub("[.]", "_", it), value = m[[it]])))
items <- items[order(match(items$wave, c("before", "after")), items$respondent_id, items$item), ]
write_study("affect-film", common("affect-film", "Mood before and after a film (msqR, Maps study)", "en",
                                  "Personality lab",
                                  c("  - {id: before, label: {id: Sebelum film, en: Before the film}}",
                                    "  - {id: after, label: {id: Sesudah film, en: After the film}}"),
                                  c("    - {value: halloween, label: {id: Halloween (horor), en: Halloween (horror)}}",
                                    "    - {value: natgeo, label: {id: Nat Geo (alam), en: Nat Geo (nature)}}"),
                                  character()),
            resp, items, no_ties, scales)

# ---- bfi: Big Five items (1..6), one wave, by gender; 120 of the 2,800 (seeded sample) ---------
data(bfi, package = "psychTools")
set.seed(20261201)
b <- bfi[sort(sample(nrow(bfi), 120)), ]
b$rid <- paste0("r", rownames(b))
dims <- c(A = "agreeableness", C = "conscientiousness", E = "extraversion", N = "neuroticism", O = "openness")
rev_items <- c("A1", "C4", "C5", "E1", "E2", "O2", "O5")
bitems <- paste0(rep(names(dims), each = 5), 1:5)
scales <- data.frame(item = bitems, dimension = dims[substr(bitems, 1, 1)], subscale = dims[substr(bitems, 1, 1)],
                     reverse = ifelse(bitems %in% rev_items, "true", "false"), min = 1, max = 6)
resp <- data.frame(respondent_id = b$rid, wave = "w1", group = c("male", "female")[b$gender], age = b$age)
items <- do.call(rbind, lapply(bitems, function(it)
  data.frame(respondent_id = b$rid, wave = "w1", item = it, value = b[[it]])))
items <- items[order(items$respondent_id, items$item), ]
write_study("bfi", common("bfi", "Big Five personality items (bfi, SAPA project)", "id", "SAPA",
                          "  - {id: w1, label: {id: Survei 2010, en: Survey 2010}}",
                          c("    - {value: male, label: {id: Laki-laki, en: Men}}",
                            "    - {value: female, label: {id: Perempuan, en: Women}}"),
                          character()),
            resp, items, no_ties, scales)
