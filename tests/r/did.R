# Reference values for tests/analysis/test_did.py (R 4.2.2, lme4 1.1.31).
#   .venv/bin/python tests/r/did_data.py && Rscript tests/r/did.R
suppressPackageStartupMessages({library(lme4)})
here <- tryCatch(dirname(normalizePath(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))),
                 error = function(e) "tests/r")
d <- read.csv(file.path(here, "data", "did.csv"), stringsAsFactors = FALSE)
d$post <- as.numeric(d$wave == "post")
num <- function(x) sprintf("%.15g", x)
m <- lmer(y ~ post * program + (1 | site) + (1 | site:respondent_id), data = d, REML = TRUE)
vc <- as.data.frame(VarCorr(m))
cat(sprintf("R_DID = dict(est=%s, se=%s, var_respondent=%s, var_site=%s, var_residual=%s)\n",
            num(fixef(m)[["post:program"]]), num(sqrt(diag(vcov(m)))[4]),
            num(vc$vcov[vc$grp == "site:respondent_id"]), num(vc$vcov[vc$grp == "site"]),
            num(vc$vcov[vc$grp == "Residual"])))
w <- reshape(d[, c("respondent_id", "site", "program", "wave", "y")], idvar = c("respondent_id", "site", "program"),
             timevar = "wave", direction = "wide")
w <- w[complete.cases(w), ]
a <- lmer(y.post ~ program + y.pre + (1 | site), data = w, REML = TRUE)
vca <- as.data.frame(VarCorr(a))
cat(sprintf("R_ANCOVA = dict(n=%d, est=%s, se=%s, var_site=%s, var_residual=%s)\n", nrow(w),
            num(fixef(a)[["program"]]), num(sqrt(diag(vcov(a)))[2]),
            num(vca$vcov[vca$grp == "site"]), num(vca$vcov[vca$grp == "Residual"])))
o <- lm(y.post ~ program + y.pre, data = w)
cat(sprintf("R_ANCOVA_OLS = dict(est=%s)\n", num(coef(o)[["program"]])))
