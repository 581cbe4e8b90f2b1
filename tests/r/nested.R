# Reference values for the nested random-intercept REML in tests/analysis/test_prepost.py (R_LMER_NESTED).
#
#   .venv/bin/python tests/r/testdata.py   # writes tests/r/data/nested.csv (nested_cases())
#   Rscript tests/r/nested.R               # prints the Python literal pasted into the test file
#
# Used: R 4.2.2, lme4 1.1.31 (Debian r-cran-lme4). Each case is fitted twice:
#   lmer(score ~ wave * group + (1 | site) + (1 | site:respondent_id), REML = TRUE)       # defaults
#   the same with control = lmerControl(optimizer = "nloptwrap", optCtrl = list(xtol_abs = 1e-14,
#     ftol_abs = 1e-15, xtol_rel = 1e-14, ftol_rel = 1e-15, maxeval = 1e5))                # tight
# The defaults stop within ~1e-6 of the optimum (deviance ~1e-9 above it); the tight fit is the
# optimum to ~1e-9 and is what the tests compare with at 1e-6.
suppressPackageStartupMessages(library(lme4))
here <- tryCatch(dirname(normalizePath(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))),
                 error = function(e) "tests/r")
num <- function(x) ifelse(is.na(x), "nan", sprintf("%.15g", x))
lit <- function(v) paste0("[", paste(num(v), collapse = ", "), "]")
d <- read.csv(file.path(here, "data", "nested.csv"), stringsAsFactors = FALSE)
tight <- lmerControl(optimizer = "nloptwrap",
                     optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-15, xtol_rel = 1e-14, ftol_rel = 1e-15,
                                    maxeval = 1e5))
levels_of <- list(nested12 = list(wave = c("pre", "post"), group = c("lokal", "pendatang")),
                  nested3w = list(wave = c("pre", "mid", "post"), group = c("a", "b", "c")))
cat("# lmer(score ~ wave * group + (1 | site) + (1 | site:respondent_id), REML=TRUE[, control=tight])\n")
cat("# est = fixef(m), se = sqrt(diag(vcov(m))), var_* = as.data.frame(VarCorr(m))$vcov, reml = REMLcrit(m)\n")
cat("R_LMER_NESTED = {\n")
for (cs in names(levels_of)) {
  x <- d[d$case == cs, ]
  x$wave <- factor(x$wave, levels = levels_of[[cs]]$wave)
  x$group <- factor(x$group, levels = levels_of[[cs]]$group)
  for (ctl in c("default", "tight")) {
    m <- if (ctl == "tight") {
      lmer(score ~ wave * group + (1 | site) + (1 | site:respondent_id), data = x, REML = TRUE, control = tight)
    } else {
      lmer(score ~ wave * group + (1 | site) + (1 | site:respondent_id), data = x, REML = TRUE)
    }
    vc <- as.data.frame(VarCorr(m))
    cat(sprintf("    (%s, %s): dict(terms=%s,\n        est=%s,\n        se=%s,\n        var_respondent=%s, var_site=%s, var_residual=%s, reml=%s),\n",
                shQuote(cs), shQuote(ctl), paste0("[", paste(shQuote(names(fixef(m))), collapse = ", "), "]"),
                lit(fixef(m)), lit(sqrt(diag(as.matrix(vcov(m))))),
                num(vc$vcov[vc$grp == "site:respondent_id"]), num(vc$vcov[vc$grp == "site"]),
                num(vc$vcov[vc$grp == "Residual"]), num(REMLcrit(m))))
  }
}
cat("}\n\n")

# the existing 2- and 4-site designs of reference.R (R_LMER_2SITE, R_LMER_4SITE), refitted tight
sc <- read.csv(file.path(here, "data", "scores.csv"), stringsAsFactors = FALSE)
sc <- sc[!is.na(sc$score), ]
sc$wave <- factor(sc$wave, levels = c("pre", "post")); sc$group <- factor(sc$group)
id <- as.integer(sub("r", "", sc$respondent_id))
cat("# R_LMER_2SITE / R_LMER_4SITE designs (see reference.R), control = tight\n")
cat("R_LMER_SITES_TIGHT = {\n")
for (design in c("2site", "4site")) for (dd in c("trust", "norms")) {
  x <- sc[sc$dimension == dd, ]; k <- id[sc$dimension == dd]
  if (design == "2site") {
    x$site <- ifelse(k %% 2 == 1, "desa_b", "desa_a")
  } else {
    x$site <- paste0("s", k %% 4); x$score <- x$score + c(0, .8, -.6, .3)[k %% 4 + 1]
  }
  m <- lmer(score ~ wave * group + (1 | site) + (1 | site:respondent_id), data = x, REML = TRUE, control = tight)
  vc <- as.data.frame(VarCorr(m))
  cat(sprintf("    (%s, %s): dict(est=%s,\n        se=%s,\n        var_respondent=%s, var_site=%s, var_residual=%s, reml=%s),\n",
              shQuote(design), shQuote(dd), lit(fixef(m)), lit(sqrt(diag(as.matrix(vcov(m))))),
              num(vc$vcov[vc$grp == "site:respondent_id"]), num(vc$vcov[vc$grp == "site"]),
              num(vc$vcov[vc$grp == "Residual"]), num(REMLcrit(m))))
}
cat("}\n")
