# Reference values for tests/analysis/test_scales.py and tests/analysis/test_prepost.py.
#
#   .venv/bin/python tests/r/testdata.py   # writes tests/r/data/*.csv from tests/r/testdata.py
#   Rscript tests/r/reference.R            # prints Python literals, pasted into the test files
#
# Used: R 4.2.2, psych 2.2.9, lme4 1.1.31, effectsize 0.8.3 (Debian r-cran-* packages).
suppressPackageStartupMessages({library(psych); library(lme4); library(effectsize)})
options(warn = -1)
here <- tryCatch(dirname(normalizePath(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))),
                 error = function(e) "tests/r")
dat <- function(f) read.csv(file.path(here, "data", f), stringsAsFactors = FALSE)
num <- function(x) ifelse(is.na(x), "nan", sprintf("%.15g", x))
lit <- function(v) paste0("[", paste(num(v), collapse = ", "), "]")

resp <- dat("respondents.csv"); ans <- dat("responses.csv"); sm <- dat("scale_map.csv")
scores <- dat("scores.csv")
sm$reverse <- as.logical(sm$reverse)
ans$coded <- ifelse(sm$reverse[match(ans$item, sm$item)],
                    sm$min[match(ans$item, sm$item)] + sm$max[match(ans$item, sm$item)] - ans$value,
                    ans$value)
dims <- list()
for (d in unique(sm$dimension)) {
  dims[[d]] <- sm$item[sm$dimension == d]
  for (s in unique(sm$subscale[sm$dimension == d])) dims[[paste0(d, "_", s)]] <- sm$item[sm$dimension == d & sm$subscale == s]
}
wide <- function(wave, col) {
  a <- ans[ans$wave == wave, ]
  ids <- resp$respondent_id[resp$wave == wave]
  m <- matrix(NA_real_, length(ids), nrow(sm), dimnames = list(ids, sm$item))
  m[cbind(match(a$respondent_id, ids), match(a$item, sm$item))] <- a[[col]]
  m
}

cat("# ---- scales ----\n")
cat("# per wave x dimension, x = reverse-coded items, cc = na.omit(x)\n")
cat("# a <- psych::alpha(cc); alpha = a$total$raw_alpha; ci = a$feldt$lower.ci / upper.ci\n")
cat("# r_drop = a$item.stats$r.drop; alpha_drop = a$alpha.drop$raw_alpha (k >= 3)\n")
cat("# omega: l <- psych::fa(cc, nfactors=1, fm='minres')$loadings; (sum l)^2/((sum l)^2 + sum(1 - l^2))\n")
cat("# omega_psych = psych::omega(cc, nfactors=1)$omega.tot (equal to omega when k == 3)\n")
cat("# mean/sd = mean(x[,i], na.rm=TRUE)/sd(...) (reverse-coded); pct_agree = mean(raw[,i] >= 4, na.rm=TRUE)\n")
cat("R_RELIABILITY = {\n")
for (w in c("pre", "post")) {
  x <- wide(w, "coded"); raw <- wide(w, "value")
  for (d in names(dims)) {
    it <- dims[[d]]; cc <- na.omit(x[, it, drop = FALSE]); k <- length(it)
    a <- psych::alpha(cc, warnings = FALSE)
    om <- NA; omp <- NA
    if (k >= 3) {
      l <- as.numeric(psych::fa(cc, nfactors = 1, fm = "minres")$loadings)
      om <- sum(l)^2 / (sum(l)^2 + sum(1 - l^2))
      omp <- suppressMessages(psych::omega(cc, nfactors = 1, plot = FALSE)$omega.tot)
    }
    adrop <- if (k >= 3) a$alpha.drop$raw_alpha else rep(NA, k)
    cat(sprintf("    (%s, %s): dict(n=%d, k=%d, alpha=%s, ci=%s, omega=%s, omega_psych=%s,\n",
                shQuote(w), shQuote(d), nrow(cc), k, num(a$total$raw_alpha),
                lit(c(a$feldt$lower.ci$raw_alpha, a$feldt$upper.ci$raw_alpha)), num(om), num(omp)))
    cat(sprintf("        r_drop=%s,\n        alpha_drop=%s,\n", lit(a$item.stats$r.drop), lit(adrop)))
    cat(sprintf("        mean=%s,\n        sd=%s,\n        pct_agree=%s),\n",
                lit(colMeans(x[, it, drop = FALSE], na.rm = TRUE)),
                lit(apply(x[, it, drop = FALSE], 2, sd, na.rm = TRUE)),
                lit(colMeans(raw[, it, drop = FALSE] >= 4, na.rm = TRUE))))
  }
}
cat("}\n")
cat("# scores recomputed in R: rowMeans(x[, items], na.rm=TRUE), NA when sum(!is.na) < ceiling(2/3*k);\n")
cat("# value = (sum of scores, number of NA) per wave x dimension\n")
cat("R_SCORE_SUMS = {\n")
for (w in c("pre", "post")) {
  x <- wide(w, "coded")
  for (d in names(dims)) {
    it <- dims[[d]]; k <- length(it)
    s <- rowMeans(x[, it, drop = FALSE], na.rm = TRUE)
    s[rowSums(!is.na(x[, it, drop = FALSE])) < ceiling(2 / 3 * k)] <- NA
    cat(sprintf("    (%s, %s): (%s, %d),\n", shQuote(w), shQuote(d), num(sum(s, na.rm = TRUE)), sum(is.na(s))))
  }
}
cat("}\n\n")

cat("# ---- paired (scores.csv, written by Python with 17 significant digits) ----\n")
cat("# pre/post = scores of respondents with a score in both waves, group from the pre row (post row when absent)\n")
cat("# tt <- t.test(post, pre, paired=TRUE): t, df, p, ci; ww <- wilcox.test(post, pre, paired=TRUE): V, p\n")
cat("# ef <- effectsize::cohens_d(post, pre, paired=TRUE) (effectsize 0.8.3: d_z, ncp CI via optim)\n")
cat("# dz_ci = noncentral t CI solved with uniroot(function(ncp) pt(t, df, ncp) - 0.975 / 0.025, tol=1e-12) / sqrt(n)\n")
cat("# holm = p.adjust(p, 'holm') over the dimensions within each group; shapiro = shapiro.test(post - pre)$p.value\n")
cat("# sd_diff = sd(post - pre), se_diff = tt$stderr (R 4.2.2)\n")
ncp_ci <- function(t, df) {
  f <- function(target) uniroot(function(ncp) pt(t, df, ncp) - target, c(t - 20, t + 20), tol = 1e-13)$root
  c(f(0.975), f(0.025))
}
grp <- tapply(scores$group, scores$respondent_id, function(g) g[1])
pre_g <- scores[scores$wave == "pre", ]; grp[pre_g$respondent_id] <- pre_g$group
cat("R_PAIRED = {\n")
res <- list()
for (g in c("all", "lokal", "pendatang")) {
  ps <- c()
  for (d in names(dims)) {
    s <- scores[scores$dimension == d, ]
    pre <- s$score[s$wave == "pre"]; names(pre) <- s$respondent_id[s$wave == "pre"]
    post <- s$score[s$wave == "post"]; names(post) <- s$respondent_id[s$wave == "post"]
    ids <- intersect(names(pre)[!is.na(pre)], names(post)[!is.na(post)])
    unm <- length(setdiff(union(names(pre)[!is.na(pre)], names(post)[!is.na(post)]), ids))
    if (g != "all") {
      ids <- ids[grp[ids] == g]
      allid <- union(names(pre)[!is.na(pre)], names(post)[!is.na(post)])
      unm <- length(setdiff(allid[grp[allid] == g], ids))
    }
    x <- post[ids]; y <- pre[ids]; n <- length(ids)
    tt <- t.test(x, y, paired = TRUE); ww <- wilcox.test(x, y, paired = TRUE)
    ef <- effectsize::cohens_d(x, y, paired = TRUE)
    dz <- ncp_ci(unname(tt$statistic), n - 1) / sqrt(n)
    ps[d] <- tt$p.value
    res[[paste(g, d)]] <- sprintf("    (%s, %s): dict(n=%d, n_unmatched=%d, mean_pre=%s, sd_pre=%s, mean_post=%s, sd_post=%s,\n        t=%s, df=%s, p=%s, ci=%s,\n        sd_diff=%s, se_diff=%s,  # sd(post - pre), t.test(post, pre, paired=TRUE)$stderr\n        V=%s, p_wilcoxon=%s, d_z=%s, d_z_ci_effectsize=%s, d_z_ci=%s, shapiro=%s,\n",
      shQuote(d), shQuote(g), n, unm, num(mean(y)), num(sd(y)), num(mean(x)), num(sd(x)),
      num(tt$statistic), num(tt$parameter), num(tt$p.value), lit(tt$conf.int),
      num(sd(x - y)), num(tt$stderr), num(ww$statistic), num(ww$p.value), num(ef$Cohens_d), lit(c(ef$CI_low, ef$CI_high)), lit(dz),
      num(shapiro.test(x - y)$p.value))
  }
  h <- p.adjust(ps, "holm")
  for (d in names(dims)) cat(res[[paste(g, d)]], sprintf("        p_holm=%s),\n", num(h[d])), sep = "")
}
cat("}\n\n")

cat("# ---- Wilcoxon special cases (wilcox_cases.csv) : wilcox.test(post, pre, paired=TRUE) ----\n")
wc <- dat("wilcox_cases.csv")
cat("R_WILCOX = {\n")
for (cs in unique(wc$case)) {
  z <- wc[wc$case == cs, ]
  ww <- wilcox.test(z$post, z$pre, paired = TRUE)
  cat(sprintf("    %s: (%s, %s),\n", shQuote(cs), num(ww$statistic), num(ww$p.value)))
}
cat("}\n\n")

cat("# ---- mixed: lme4::lmer(score ~ wave * group + (1 | respondent_id), REML=TRUE) ----\n")
cat("# wave = factor(levels=c('pre','post')), group = factor (lokal first); fixef(m), sqrt(diag(vcov(m))), VarCorr(m)\n")
cat("R_LMER = {\n")
sc <- scores[!is.na(scores$score), ]
sc$wave <- factor(sc$wave, levels = c("pre", "post")); sc$group <- factor(sc$group)
for (d in names(dims)) {
  m <- lmer(score ~ wave * group + (1 | respondent_id), data = sc[sc$dimension == d, ], REML = TRUE)
  vc <- as.data.frame(VarCorr(m))
  cat(sprintf("    %s: dict(est=%s,\n        se=%s,\n        var_respondent=%s, var_residual=%s),\n", shQuote(d),
              lit(fixef(m)), lit(sqrt(diag(as.matrix(vcov(m))))), num(vc$vcov[1]), num(vc$vcov[2])))
}
cat("}\n")
cat("# two sites (site = desa_b for odd respondent numbers):\n")
cat("# lmer(score ~ wave * group + (1 | site) + (1 | site:respondent_id), REML=TRUE)\n")
cat("R_LMER_2SITE = {\n")
sc$site <- ifelse(as.integer(sub("r", "", sc$respondent_id)) %% 2 == 1, "desa_b", "desa_a")
for (d in c("trust", "norms")) {
  m <- lmer(score ~ wave * group + (1 | site) + (1 | site:respondent_id), data = sc[sc$dimension == d, ], REML = TRUE)
  vc <- as.data.frame(VarCorr(m))
  cat(sprintf("    %s: dict(est=%s,\n        se=%s,\n        var_respondent=%s, var_site=%s, var_residual=%s),\n", shQuote(d),
              lit(fixef(m)), lit(sqrt(diag(as.matrix(vcov(m))))),
              num(vc$vcov[vc$grp == "site:respondent_id"]), num(vc$vcov[vc$grp == "site"]), num(vc$vcov[vc$grp == "Residual"])))
}
cat("}\n\n")

cat("# ---- dose response: m <- lm(change ~ exposure); coef/SE/p from summary(m), confint(m), cor(change, exposure) ----\n")
cat("# change = score[post] - score[pre] per respondent; exposure from the post row of respondents.csv\n")
cat("R_DOSE = {\n")
for (d in names(dims)) for (e in c("forum_meetings", "trainings_n")) {
  s <- scores[scores$dimension == d, ]
  pre <- setNames(s$score[s$wave == "pre"], s$respondent_id[s$wave == "pre"])
  post <- setNames(s$score[s$wave == "post"], s$respondent_id[s$wave == "post"])
  ids <- intersect(names(pre), names(post))
  ch <- post[ids] - pre[ids]; ids <- ids[!is.na(ch)]; ch <- ch[ids]
  rp <- resp[resp$wave == "post", ]; ex <- rp[[e]][match(ids, rp$respondent_id)]
  m <- lm(ch ~ ex); co <- summary(m)$coefficients
  cat(sprintf("    (%s, %s): dict(n=%d, slope=%s, se=%s, p=%s, ci=%s, r=%s),\n", shQuote(d), shQuote(e), length(ids),
              num(co[2, 1]), num(co[2, 2]), num(co[2, 4]), lit(confint(m)[2, ]), num(cor(ch, ex))))
}
cat("}\n\n")

cat("# ---- collective: tt <- t.test(y[x == 1], y[x == 0]) (Welch); estimate = diff(rev(tt$estimate)) ----\n")
cat("R_COLLECTIVE = {\n")
for (w in c("pre", "post")) {
  r <- resp[resp$wave == w, ]
  for (cl in list(c("joint_purchasing_input_cost_ratio", "joint_purchasing"), c("collective_brand_digital_channels", "collective_brand"))) {
    y <- if (cl[2] == "joint_purchasing") r$input_costs / r$revenue else r$digital_channels_n
    x <- r[[cl[2]]]
    tt <- t.test(y[x == 1], y[x == 0])
    cat(sprintf("    (%s, %s): dict(n=%d, estimate=%s, ci=%s, p=%s),\n", shQuote(cl[1]), shQuote(w), sum(!is.na(y) & !is.na(x)),
                num(unname(tt$estimate[1] - tt$estimate[2])), lit(tt$conf.int), num(tt$p.value)))
  }
}
cat("}\n")

cat("\n# ---- mixed, 4 sites with real site effects: site = s<id %% 4>, score + c(0, .8, -.6, .3)[id %% 4 + 1] ----\n")
cat("# lmer(score ~ wave * group + (1 | site) + (1 | site:respondent_id), REML=TRUE)\n")
cat("R_LMER_4SITE = {\n")
for (d in c("trust", "norms")) {
  s4 <- sc[sc$dimension == d, ]
  k <- as.integer(sub("r", "", s4$respondent_id)) %% 4
  s4$site <- paste0("s", k); s4$score <- s4$score + c(0, .8, -.6, .3)[k + 1]
  m <- lmer(score ~ wave * group + (1 | site) + (1 | site:respondent_id), data = s4, REML = TRUE)
  vc <- as.data.frame(VarCorr(m))
  cat(sprintf("    %s: dict(est=%s,\n        se=%s,\n        var_respondent=%s, var_site=%s, var_residual=%s),\n", shQuote(d),
              lit(fixef(m)), lit(sqrt(diag(as.matrix(vcov(m))))),
              num(vc$vcov[vc$grp == "site:respondent_id"]), num(vc$vcov[vc$grp == "site"]), num(vc$vcov[vc$grp == "Residual"])))
}
cat("}\n")
