# Reference values for tests/analysis/test_invariance.py (R 4.2.2, lavaan, Debian r-cran-lavaan).
#   .venv/bin/python tests/r/invariance_data.py && Rscript tests/r/invariance.R
suppressPackageStartupMessages({library(lavaan)})
here <- tryCatch(dirname(normalizePath(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))),
                 error = function(e) "tests/r")
num <- function(x) sprintf("%.10g", x)
run <- function(name, model, d) {
  cat(sprintf("    %s: {\n", shQuote(name)))
  for (lv in list(list("configural", ""), list("metric", "loadings"), list("scalar", c("loadings", "intercepts")))) {
    f <- cfa(model, data = d, group = "g", group.equal = lv[[2]], estimator = "ML")
    m <- fitMeasures(f, c("chisq", "df", "cfi", "rmsea", "baseline.chisq"))
    cat(sprintf("        %s: dict(chisq=%s, df=%d, cfi=%s, rmsea=%s, baseline=%s),\n", shQuote(lv[[1]]),
                num(m[["chisq"]]), as.integer(m[["df"]]), num(m[["cfi"]]), num(m[["rmsea"]]), num(m[["baseline.chisq"]])))
  }
  cat("    },\n")
}
cat(sprintf("# lavaan %s\nR_LAVAAN = {\n", packageVersion("lavaan")))
p <- read.csv(file.path(here, "data", "invariance_planted.csv"))
run("planted", "f1 =~ x1 + x2 + x3\n f2 =~ x4 + x5 + x6", p)
d <- read.csv(file.path(here, "data", "invariance_demo.csv"))
d$g <- d$group
run("demo_trust", paste("gen =~ tr_gen1 + tr_gen2 + tr_gen3", "ing =~ tr_in1 + tr_in2 + tr_in3",
                        "out =~ tr_out1 + tr_out2 + tr_out3 + tr_out4", "inst =~ tr_inst1 + tr_inst2 + tr_inst3",
                        sep = "\n"), d)
run("demo_norms", paste("rec =~ nr_rec1 + nr_rec2 + nr_rec3", "gr =~ nr_gr1 + nr_gr2 + nr_gr3",
                        "tr =~ nr_tr1 + nr_tr2 + nr_tr3", "kom =~ nr_kom1 + nr_kom2 + nr_kom3",
                        "kon =~ nr_kon1 + nr_kon2 + nr_kon3", sep = "\n"), d)
cat("}\n")
