# Reference values for the district statistics in tests/report/test_district.py (R_DISTRICT).
#
#   .venv/bin/python tests/r/district_data.py   # writes tests/r/data/district_scores.csv
#   Rscript tests/r/district.R        # prints the Python literal pasted into the test file
#
# Used: R 4.2.2, lme4 1.1.31, metafor (Debian r-cran-*). Per dimension:
#   per village: t.test(post, pre, paired = TRUE) over the village's complete pairs
#   nested:      lmer(score ~ wave + (1 | site) + (1 | site:respondent_id), REML = TRUE, control = tight)
#   random eff.: rma(yi = village mean change, vi = its se^2, method = "DL"); predict() for the PI
suppressPackageStartupMessages({library(lme4); library(metafor)})
here <- tryCatch(dirname(normalizePath(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))),
                 error = function(e) "tests/r")
num <- function(x) ifelse(is.na(x), "nan", sprintf("%.15g", x))
lit <- function(v) paste0("[", paste(num(v), collapse = ", "), "]")
d <- read.csv(file.path(here, "data", "district_scores.csv"), stringsAsFactors = FALSE)
d <- d[!is.na(d$score), ]
tight <- lmerControl(optimizer = "nloptwrap",
                     optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-15, xtol_rel = 1e-14, ftol_rel = 1e-15,
                                    maxeval = 1e5))
cat("R_DISTRICT = {\n")
for (dim in unique(d$dimension)) {
  x <- d[d$dimension == dim, ]
  x$wave <- factor(x$wave, levels = c("pre", "post"))
  m <- lmer(score ~ wave + (1 | site) + (1 | site:respondent_id), data = x, REML = TRUE, control = tight)
  vc <- as.data.frame(VarCorr(m))
  sites <- sort(unique(x$site))
  yi <- vi <- lo <- hi <- p <- n <- c()
  for (s in sites) {
    pre <- x[x$site == s & x$wave == "pre", c("respondent_id", "score")]
    post <- x[x$site == s & x$wave == "post", c("respondent_id", "score")]
    pr <- merge(pre, post, by = "respondent_id", suffixes = c("_pre", "_post"))
    tt <- t.test(pr$score_post, pr$score_pre, paired = TRUE)
    yi <- c(yi, unname(tt$estimate)); vi <- c(vi, unname(tt$stderr)^2)
    lo <- c(lo, tt$conf.int[1]); hi <- c(hi, tt$conf.int[2]); p <- c(p, tt$p.value); n <- c(n, nrow(pr))
  }
  re <- rma(yi = yi, vi = vi, method = "DL")
  pr <- predict(re)
  cat(sprintf("    %s: dict(\n", shQuote(dim, "sh")))
  cat(sprintf("        sites=[%s], n=%s, diff=%s, ci_low=%s, ci_high=%s, p=%s,\n",
              paste(shQuote(sites, "sh"), collapse = ", "), lit(n), lit(yi), lit(lo), lit(hi), lit(p)))
  cat(sprintf("        nested=dict(estimate=%s, se=%s, var_site=%s, var_respondent=%s, var_residual=%s),\n",
              num(fixef(m)[2]), num(sqrt(diag(vcov(m)))[2]),
              num(vc$vcov[vc$grp == "site"]), num(vc$vcov[vc$grp == "site:respondent_id"]),
              num(vc$vcov[vc$grp == "Residual"])))
  cat(sprintf("        re=dict(estimate=%s, se=%s, tau2=%s, q=%s, q_p=%s, i2=%s, pi_low=%s, pi_high=%s)),\n",
              num(re$b[1]), num(re$se), num(re$tau2), num(re$QE), num(re$QEp), num(re$I2),
              num(pr$pi.lb), num(pr$pi.ub)))
}
cat("}\n")
