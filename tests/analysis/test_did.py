"""Tests of pipeline.analysis.did: REML against lme4, randomization inference against a brute-force second
implementation, a planted effect, and the demo's comparison villages."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from pipeline.analysis import did
from pipeline.errors import SinergiError

sys.path.insert(0, str(Path(__file__).parents[1] / "r"))
import did_data  # noqa: E402

# tests/r/did.R on tests/r/data/did.csv (R 4.2.2, lme4 1.1.31):
# m <- lmer(y ~ post * program + (1 | site) + (1 | site:respondent_id), data = d, REML = TRUE)
R_DID = dict(est=0.43027800168063, se=0.116570684179663, var_respondent=0.455557751534219,
             var_site=0.146992023088428, var_residual=0.24465256922562)
# w = respondents with both waves; a <- lmer(y.post ~ program + y.pre + (1 | site), data = w, REML = TRUE)
R_ANCOVA = dict(n=158, est=0.382508110467778, se=0.225542683985549, var_site=0.0524893484764858,
                var_residual=0.40373689441677)
# o <- lm(y.post ~ program + y.pre, data = w)
R_ANCOVA_OLS = dict(est=0.393945371278662)

ARMS = {f"v{i}": ("program" if i <= 2 else "comparison") for i in range(1, 7)}


@pytest.fixture(scope="module")
def planted():
    return did_data.make()


def _scores(d):
    return d.assign(dimension="trust", score=d["y"])[["respondent_id", "wave", "site", "dimension", "score"]]


def test_csv_copy_is_current(planted):
    on_disk = pd.read_csv(Path(__file__).parents[1] / "r" / "data" / "did.csv")
    pd.testing.assert_frame_equal(on_disk, planted, check_dtype=False)


def test_reml_matches_lme4(planted):
    d = planted
    post = (d["wave"] == "post").to_numpy(float)
    prog = d["program"].to_numpy(float)
    X = np.column_stack([np.ones(len(d)), post, prog, post * prog])
    fit = did.reml(d["y"].to_numpy(), X, d["site"].to_numpy(), d["respondent_id"].to_numpy())
    assert fit["beta"][3] == pytest.approx(R_DID["est"], abs=1e-5)
    assert fit["se"][3] == pytest.approx(R_DID["se"], abs=1e-5)
    assert fit["var_inner"] == pytest.approx(R_DID["var_respondent"], abs=1e-4)
    assert fit["var_block"] == pytest.approx(R_DID["var_site"], abs=1e-4)
    assert fit["var_residual"] == pytest.approx(R_DID["var_residual"], abs=1e-4)


def test_did_table_matches_lme4_and_ols(planted):
    out = did.did(_scores(planted), ARMS, ["pre", "post"])
    row = out.set_index("method")
    assert row.loc["did_mixed", "estimate"] == pytest.approx(R_DID["est"], abs=1e-5)
    assert row.loc["did_mixed", "se"] == pytest.approx(R_DID["se"], abs=1e-5)
    assert row.loc["ancova_mixed", "estimate"] == pytest.approx(R_ANCOVA["est"], abs=1e-5)
    assert row.loc["ancova_mixed", "se"] == pytest.approx(R_ANCOVA["se"], abs=1e-5)
    assert row.loc["ancova_mixed", "n_obs"] == R_ANCOVA["n"]
    assert row.loc["ancova_ri", "estimate"] == pytest.approx(R_ANCOVA_OLS["est"], abs=1e-10)
    # the RI estimate is the OLS interaction of y ~ post * program
    d = planted.assign(post=(planted["wave"] == "post").astype(float))
    ols = smf.ols("y ~ post * program", d).fit()
    assert row.loc["did_ri", "estimate"] == pytest.approx(ols.params["post:program"], abs=1e-10)
    assert set(out.columns) >= {"dimension", "estimate", "se", "ci_low", "ci_high", "p_val", "method",
                                "n_clusters", "n_obs"}
    assert (out["n_clusters"] == 6).all() and row.loc["did_ri", "n_assignments"] == 15


def _brute_ri(d, arms, delta=0.0):
    """Second implementation: refit OLS for every assignment of 2 program villages out of 6."""
    sites = sorted(arms)
    obs_prog = {s for s in sites if arms[s] == "program"}
    d = d.assign(post=(d["wave"] == "post").astype(float))
    d = d.assign(y=d["y"] - delta * d["post"] * d["site"].isin(obs_prog))

    def est(prog):
        return smf.ols("y ~ post * program", d.assign(program=d["site"].isin(prog).astype(float))).fit().params["post:program"]

    t0 = abs(est(obs_prog))
    stats_ = [abs(est(set(c))) for c in itertools.combinations(sites, len(obs_prog))]
    return np.mean([t >= t0 - 1e-9 for t in stats_])


def test_ri_p_and_ci_match_brute_force(planted):
    # 15 assignments: the smallest p is 1/15 > 0.05, so a 95% CI is unbounded; a 90% CI is not
    out95 = did.did(_scores(planted), ARMS, ["pre", "post"], mixed=False).set_index("method").loc["did_ri"]
    assert out95["ci_low"] == -np.inf and out95["ci_high"] == np.inf
    out = did.did(_scores(planted), ARMS, ["pre", "post"], mixed=False, alpha=0.10)
    r = out.set_index("method").loc["did_ri"]
    assert r["p_val"] == pytest.approx(_brute_ri(planted, ARMS), abs=1e-12)
    assert r["p_val"] == pytest.approx(1 / 15)  # the planted effect is the most extreme assignment
    # the CI bounds are where the inverted test starts to reject at alpha = 0.10 (p = 1/15 outside)
    lo, hi = r["ci_low"], r["ci_high"]
    assert np.isfinite(lo) and np.isfinite(hi) and lo < r["estimate"] < hi
    eps = 1e-6 * (1 + abs(hi - lo))
    assert _brute_ri(planted, ARMS, lo + eps) > 0.10 and _brute_ri(planted, ARMS, hi - eps) > 0.10
    assert _brute_ri(planted, ARMS, lo - eps) <= 0.10 and _brute_ri(planted, ARMS, hi + eps) <= 0.10


def test_planted_effect_recovered_over_many_seeds():
    """Across 40 simulated studies the DiD estimate centres on the planted 0.5."""
    ests = []
    for seed in range(40):
        out = did.did(_scores(did_data.make(seed)), ARMS, ["pre", "post"], mixed=False)
        ests.append(out.set_index("method").loc["did_ri", "estimate"])
    assert np.mean(ests) == pytest.approx(did_data.EFFECT, abs=0.06)


def test_few_villages_cannot_reject():
    d = did_data.make()
    d = d[d["site"].isin(["v1", "v3"])]
    out = did.did(_scores(d), {"v1": "program", "v3": "comparison"}, ["pre", "post"], mixed=False)
    r = out.set_index("method").loc["did_ri"]
    assert r["n_assignments"] == 2 and r["p_val"] == 1.0 and r["p_min"] == 0.5
    assert r["ci_low"] == -np.inf and r["ci_high"] == np.inf


def test_ri_test_simple_case():
    # stat linear in y; 4 assignments, observed most extreme → p = 1/4 > alpha → unbounded CI
    p, lo, hi = did.ri_test(np.array([1.0, 0.1, -0.2, 0.3]), np.array([1.0, -1 / 3, -1 / 3, -1 / 3]), 0.05)
    assert p == 0.25 and lo == -np.inf and hi == np.inf


def test_balance_and_village_outcomes(planted):
    resp = planted.assign(group=np.where(planted.index % 3 == 0, "pendatang", "lokal"))
    bal = did.balance(_scores(planted), resp, ARMS, ["pre", "post"], group_values=["lokal", "pendatang"])
    assert list(bal["variable"]) == ["trust", "share_pendatang"]
    pre = planted[planted["wave"] == "pre"]
    prog = pre["site"].isin(["v1", "v2"])
    r = bal.iloc[0]
    assert r["mean_program"] == pytest.approx(pre.loc[prog, "y"].mean())
    sd = np.sqrt((pre.loc[prog, "y"].var() + pre.loc[~prog, "y"].var()) / 2)
    assert r["smd"] == pytest.approx((pre.loc[prog, "y"].mean() - pre.loc[~prog, "y"].mean()) / sd)
    whole = pd.DataFrame([{"site": s, "wave": w, "tie_type": "any", "ei": e, "assortativity": -e,
                           "ties_between": round(50 * (1 + e)), "ties_within": round(50 * (1 - e))}  # 100 ties
                          for s, (e0, e1) in zip(sorted(ARMS), [(-.5, 0), (-.4, .1), (-.5, -.5), (-.3, -.3),
                                                                (-.2, -.1), (-.6, -.6)])
                          for w, e in (("pre", e0), ("post", e1))])
    out = did.did(_scores(planted), ARMS, ["pre", "post"], network_whole=whole, mixed=False)
    v = out[(out["kind"] == "village") & (out["dimension"] == "ei")].iloc[0]
    # program villages change +0.5, comparison 0, 0, +0.1, 0 → 0.5 − 0.025
    assert v["estimate"] == pytest.approx(0.475) and v["n_clusters"] == 6
    cs = out[(out["kind"] == "village") & (out["dimension"] == "cross_share")].iloc[0]
    assert cs["estimate"] == pytest.approx(0.475 / 2)


def test_bad_arms():
    d = _scores(did_data.make())
    with pytest.raises(SinergiError, match="at least one program and one comparison"):
        did.did(d, {s: "program" for s in ARMS}, ["pre", "post"])
    with pytest.raises(SinergiError, match="'v6' has no arm"):
        did.did(d, {s: a for s, a in ARMS.items() if s != "v6"}, ["pre", "post"])


def test_study_arms_key(tmp_path):
    from pipeline.config import load_study

    root = Path(__file__).resolve().parents[2]
    text = (root / "study.yaml").read_text().replace("id: demo-kaloran", "id: arms-test")
    f = tmp_path / "study.yaml"
    f.write_text(text.replace("privacy:", "arms: {Kaloran Brimob: program, Desa Lain: comparison}\nprivacy:")
                 .replace("instruments/sinergi.yaml", str(root / "instruments/sinergi.yaml")))
    st = load_study(f)
    assert st.site_arms(["Kaloran Brimob", "Desa Lain"]) == {"Desa Lain": "comparison", "Kaloran Brimob": "program"}
    with pytest.raises(SinergiError, match=r"arms: 'Desa Lain' is not a site of the data"):
        st.site_arms(["Kaloran Brimob"])
    f.write_text(f.read_text().replace("Desa Lain: comparison", "Desa Lain: control"))
    with pytest.raises(SinergiError, match="arms.Desa Lain"):
        load_study(f)


@pytest.mark.slow
def test_demo_comparison_villages(tmp_path):
    """`source.comparison_villages: 1` adds a village without a program; `make did` works on it and the
    default demo study is unchanged (its raw data is checked byte for byte in test_demo)."""
    root = Path(__file__).resolve().parents[2]
    text = (root / "study.yaml").read_text().replace("id: demo-kaloran", "id: demo-cmp-test")
    text = text.replace("  share_migrant: 0.4\n", "  share_migrant: 0.4\n  comparison_villages: 1\n")
    f = root / ".make" / "test-did-study.yaml"
    f.parent.mkdir(exist_ok=True)
    f.write_text(text)
    try:
        r = subprocess.run(["make", "-s", "did", f"STUDY={f}"], cwd=root, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        proc = root / "data" / "processed" / "demo-cmp-test"
        resp = pd.read_parquet(proc / "respondents.parquet")
        assert set(resp["site"]) == {"Kaloran Brimob", "Desa Pembanding 1"}
        out = pd.read_csv(proc / "did.csv")
        assert (out["n_clusters"] == 2).all()
        ri = out[out["method"] == "did_ri"]
        assert (ri["p_min"] == 0.5).all()  # two villages: nothing can be tested, and the table says so
        bal = pd.read_csv(proc / "balance.csv")
        assert "trust" in set(bal["variable"])
        # planted truth: the program village's expected change minus the comparison village's
        # (nobody takes part there: the non-participant change), per scale score
        import json

        truth = json.loads((root / "data" / "raw" / "demo-cmp-test" / "demo_truth.json").read_text())
        assert truth["comparison_villages"][0]["site"] == "Desa Pembanding 1"
        mixed = out[(out["method"] == "did_mixed") & (out["kind"] == "scale")].set_index("dimension")
        z = []
        for dim, ec in truth["expected_change"].items():
            planted_did = ec["all"]["all"] - ec["all"]["non_participant"]
            z.append((mixed.loc[dim, "estimate"] - planted_did) / mixed.loc[dim, "se"])
        assert np.max(np.abs(z)) < 3.5 and abs(np.mean(z)) < 1.5, z
    finally:
        import shutil

        f.unlink(missing_ok=True)
        for d in ("raw", "processed"):
            shutil.rmtree(root / "data" / d / "demo-cmp-test", ignore_errors=True)
