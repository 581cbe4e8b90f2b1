"""Tests of pipeline.analysis.scales against R (psych 2.2.9) on the same data.

The data come from tests/r/testdata.py (seeded numpy); tests/r/reference.R reads the CSV copy in
tests/r/data and printed the literals below (rerun it after changing the data and paste them in).
"""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from pipeline.analysis import scales
from pipeline.errors import SinergiError

_spec = importlib.util.spec_from_file_location(
    "sinergi_testdata", Path(__file__).parents[1] / "r" / "testdata.py")
testdata = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(testdata)

STAT = 1e-6   # statistics
CI = 1e-4     # confidence limits (Feldt limits are closed-form and checked at STAT)
nan = float("nan")

# ---- scales ----
# per wave x dimension, x = reverse-coded items, cc = na.omit(x)
# a <- psych::alpha(cc); alpha = a$total$raw_alpha; ci = a$feldt$lower.ci / upper.ci
# r_drop = a$item.stats$r.drop; alpha_drop = a$alpha.drop$raw_alpha (k >= 3)
# omega: l <- psych::fa(cc, nfactors=1, fm='minres')$loadings; (sum l)^2/((sum l)^2 + sum(1 - l^2))
# omega_psych = psych::omega(cc, nfactors=1)$omega.tot (equal to omega when k == 3)
# mean/sd = mean(x[,i], na.rm=TRUE)/sd(...) (reverse-coded); pct_agree = mean(raw[,i] >= 4, na.rm=TRUE)
R_RELIABILITY = {
    ('pre', 'trust'): dict(n=35, k=7, alpha=0.677408312958435, ci=[0.482884603674214, 0.817366744451775], omega=0.689724990892113, omega_psych=0.692362411439243,
        r_drop=[0.243856655694668, 0.384495871907426, 0.568477051597398, 0.563919680618718, 0.097330460648543, 0.369343523127607, 0.492886992373299],
        alpha_drop=[0.676319350473613, 0.645361930294906, 0.586406117247239, 0.584122316965598, 0.708637236084453, 0.64808954071787, 0.621115241635688],
        mean=[2.97826086956522, 3.09090909090909, 2.70212765957447, 3.34782608695652, 3.26666666666667, 3.13333333333333, 2.77272727272727],
        sd=[0.906498279333603, 1.2165177489062, 1.08176372926691, 1.13953969857907, 0.863397096042456, 1.03572548135463, 0.911518956254336],
        pct_agree=[0.326086956521739, 0.340909090909091, 0.234042553191489, 0.543478260869565, 0.377777777777778, 0.288888888888889, 0.204545454545455]),
    ('pre', 'trust_generalized'): dict(n=43, k=3, alpha=0.509818257781491, ci=[0.18692766445042, 0.718097636378576], omega=0.531663794081153, omega_psych=0.531664491791509,
        r_drop=[0.207782975160454, 0.386006256647192, 0.399858271440226],
        alpha_drop=[0.573050492978787, 0.299810246679317, 0.282504012841092],
        mean=[2.97826086956522, 3.09090909090909, 2.70212765957447],
        sd=[0.906498279333603, 1.2165177489062, 1.08176372926691],
        pct_agree=[0.326086956521739, 0.340909090909091, 0.234042553191489]),
    ('pre', 'trust_outgroup'): dict(n=39, k=4, alpha=0.534513025770662, ci=[0.239684720752793, 0.73414631975664], omega=0.609406809766343, omega_psych=0.606225206238922,
        r_drop=[0.538532048780712, 0.156726607171459, 0.233486911216131, 0.401103236634204],
        alpha_drop=[0.228735125605994, 0.581005586592179, 0.546370322993284, 0.407634307257304],
        mean=[3.34782608695652, 3.26666666666667, 3.13333333333333, 2.77272727272727],
        sd=[1.13953969857907, 0.863397096042456, 1.03572548135463, 0.911518956254336],
        pct_agree=[0.543478260869565, 0.377777777777778, 0.288888888888889, 0.204545454545455]),
    ('pre', 'norms'): dict(n=35, k=5, alpha=0.834424778761062, ci=[0.728417103145183, 0.907505637500011], omega=0.835059392112487, omega_psych=0.835082988332886,
        r_drop=[0.640640581081907, 0.656302264038834, 0.684615001563441, 0.567726192983525, 0.625612278661914],
        alpha_drop=[0.799607554574442, 0.79496090356212, 0.78675799086758, 0.818997856377278, 0.803762883032441],
        mean=[2.85365853658537, 3.40909090909091, 3.06521739130435, 3, 3.08695652173913],
        sd=[1.17390322449843, 1.24486259292513, 1.30643150797283, 1.09544511501033, 1.1318831301375],
        pct_agree=[0.292682926829268, 0.545454545454545, 0.391304347826087, 0.347826086956522, 0.326086956521739]),
    ('pre', 'norms_reciprocity'): dict(n=37, k=3, alpha=0.765938341813828, ci=[0.596123488004611, 0.871636185367419], omega=0.767683053452067, omega_psych=0.767683060357123,
        r_drop=[0.561666156338368, 0.602151853114712, 0.633565895430712],
        alpha_drop=[0.725379853685988, 0.681159420289855, 0.644847699287103],
        mean=[2.85365853658537, 3.40909090909091, 3.06521739130435],
        sd=[1.17390322449843, 1.24486259292513, 1.30643150797283],
        pct_agree=[0.292682926829268, 0.545454545454545, 0.391304347826087]),
    ('pre', 'norms_conflict'): dict(n=45, k=2, alpha=0.49740616417455, ci=[0.0854264624932384, 0.723805081329644], omega=nan, omega_psych=nan,
        r_drop=[0.331197938489436, 0.331197938489436],
        alpha_drop=[nan, nan],
        mean=[3, 3.08695652173913],
        sd=[1.09544511501033, 1.1318831301375],
        pct_agree=[0.347826086956522, 0.326086956521739]),
    ('post', 'trust'): dict(n=37, k=7, alpha=0.716565209370965, ci=[0.551209060922354, 0.836657081848963], omega=0.723652261453068, omega_psych=0.72389774794843,
        r_drop=[0.416572882249852, 0.541355986779953, 0.275181184496411, 0.520790522343968, 0.399157676327936, 0.401223989719527, 0.451117313698059],
        alpha_drop=[0.686648165279062, 0.653726399470023, 0.722181396248308, 0.660711614488727, 0.691728074727556, 0.690534979423868, 0.678575074002245],
        mean=[3.15555555555556, 3.41860465116279, 3.44444444444444, 3.37777777777778, 3.5, 3.17391304347826, 3.17021276595745],
        sd=[1.0861850578046, 1.0742119623137, 1.1590661514488, 0.983705630601334, 1.04880884817015, 0.973067265599682, 1.06972464836132],
        pct_agree=[0.355555555555556, 0.162790697674419, 0.533333333333333, 0.533333333333333, 0.478260869565217, 0.217391304347826, 0.425531914893617]),
    ('post', 'trust_generalized'): dict(n=39, k=3, alpha=0.55158924205379, ci=[0.237158945740789, 0.749830631151411], omega=0.643621976322105, omega_psych=0.641156427338267,
        r_drop=[0.235771574398013, 0.549304658283686, 0.328484977177103],
        alpha_drop=[0.636078431372549, 0.123620309050773, 0.502160760587727],
        mean=[3.15555555555556, 3.41860465116279, 3.44444444444444],
        sd=[1.0861850578046, 1.0742119623137, 1.1590661514488],
        pct_agree=[0.355555555555556, 0.162790697674419, 0.533333333333333]),
    ('post', 'trust_outgroup'): dict(n=45, k=4, alpha=0.598400297619048, ci=[0.365404900461936, 0.760620777978476], omega=0.622150498471972, omega_psych=0.621683445534703,
        r_drop=[0.511262413907128, 0.249640352334715, 0.357462532422773, 0.417231763894275],
        alpha_drop=[0.42260619150468, 0.629160710639167, 0.543527945148556, 0.497278911564626],
        mean=[3.37777777777778, 3.5, 3.17391304347826, 3.17021276595745],
        sd=[0.983705630601334, 1.04880884817015, 0.973067265599682, 1.06972464836132],
        pct_agree=[0.533333333333333, 0.478260869565217, 0.217391304347826, 0.425531914893617]),
    ('post', 'norms'): dict(n=43, k=5, alpha=0.775541795665635, ci=[0.648660257082153, 0.866369268657164], omega=0.777754921142814, omega_psych=0.777770670874749,
        r_drop=[0.583411911723149, 0.560593087360596, 0.548187094359688, 0.53333516165545, 0.524112338493148],
        alpha_drop=[0.722799864084268, 0.729963008631319, 0.734254682403578, 0.742027742027742, 0.742531180508556],
        mean=[3.23913043478261, 3.28888888888889, 3.3695652173913, 3.43181818181818, 3.3695652173913],
        sd=[1.07878084704078, 1.14061829768337, 1.08235741995935, 1.24634772990838, 1.01890345529286],
        pct_agree=[0.326086956521739, 0.444444444444444, 0.195652173913043, 0.5, 0.41304347826087]),
    ('post', 'norms_reciprocity'): dict(n=45, k=3, alpha=0.651534629599872, ci=[0.428516523485752, 0.796869231239157], omega=0.673706908059013, omega_psych=0.67370684437411,
        r_drop=[0.521853789180001, 0.539854294132153, 0.337379070040748],
        alpha_drop=[0.474233322794815, 0.440251572327044, 0.711672942442173],
        mean=[3.23913043478261, 3.28888888888889, 3.3695652173913],
        sd=[1.07878084704078, 1.14061829768337, 1.08235741995935],
        pct_agree=[0.326086956521739, 0.444444444444444, 0.195652173913043]),
    ('post', 'norms_conflict'): dict(n=44, k=2, alpha=0.464555984555985, ci=[0.0187017006665853, 0.707835737747061], omega=nan, omega_psych=nan,
        r_drop=[0.307720334424923, 0.307720334424923],
        alpha_drop=[nan, nan],
        mean=[3.43181818181818, 3.3695652173913],
        sd=[1.24634772990838, 1.01890345529286],
        pct_agree=[0.5, 0.41304347826087]),
}
# scores recomputed in R: rowMeans(x[, items], na.rm=TRUE), NA when sum(!is.na) < ceiling(2/3*k);
# value = (sum of scores, number of NA) per wave x dimension
R_SCORE_SUMS = {
    ('pre', 'trust'): (143.285714285714, 0),
    ('pre', 'trust_generalized'): (137.5, 0),
    ('pre', 'trust_outgroup'): (148.166666666667, 0),
    ('pre', 'norms'): (144.5, 0),
    ('pre', 'norms_reciprocity'): (145.166666666667, 0),
    ('pre', 'norms_conflict'): (137, 2),
    ('post', 'trust'): (153.309523809524, 1),
    ('post', 'trust_generalized'): (155.833333333333, 0),
    ('post', 'trust_outgroup'): (152.916666666667, 1),
    ('post', 'norms'): (153.75, 1),
    ('post', 'norms_reciprocity'): (152.333333333333, 1),
    ('post', 'norms_conflict'): (149.5, 3),
}



@pytest.fixture(scope="module")
def data():
    return testdata.make_data()


@pytest.fixture(scope="module")
def result(data):
    r, a, sm = data
    return scales.run(r, a, sm, ["pre", "post"])


def test_reference_csvs_match_the_generator(data, result):
    """tests/r/data/*.csv (read by R) are what make_data() builds: the same ids and answers, the
    scores to 1e-12 (they were written with 17 digits on another machine; a mean's last bit may
    differ with the CPU's summation, far below the 1e-6 the R references are compared with)."""
    r, a, sm = data
    d = testdata.DATA
    pd.testing.assert_frame_equal(pd.read_csv(d / "respondents.csv"), r, check_dtype=False)
    pd.testing.assert_frame_equal(pd.read_csv(d / "responses.csv"), a, check_dtype=False)
    pd.testing.assert_frame_equal(pd.read_csv(d / "scores.csv"), result["scores"],
                                  check_dtype=False, rtol=0, atol=1e-12)
    pd.testing.assert_frame_equal(pd.read_csv(d / "wilcox_cases.csv"), testdata.wilcox_cases(),
                                  check_dtype=False)


def test_score_columns_and_rows(data, result):
    r, _, sm = data
    sc = result["scores"]
    assert list(sc.columns) == ["respondent_id", "wave", "group", "site", "dimension", "score",
                                "n_items", "n_answered"]
    dims = ["trust", "trust_generalized", "trust_outgroup", "norms", "norms_reciprocity",
            "norms_conflict"]
    assert list(pd.unique(sc["dimension"])) == dims
    assert len(sc) == len(r) * len(dims)  # every respondent x wave kept, even without a score
    n_items = sc.drop_duplicates("dimension").set_index("dimension")["n_items"].to_dict()
    assert n_items == {"trust": 7, "trust_generalized": 3, "trust_outgroup": 4, "norms": 5,
                       "norms_reciprocity": 3, "norms_conflict": 2}


def test_scores_match_R(result):
    sc = result["scores"]
    for (wave, dim), (total, n_na) in R_SCORE_SUMS.items():
        part = sc[(sc["wave"] == wave) & (sc["dimension"] == dim)]["score"]
        assert part.sum() == pytest.approx(total, abs=STAT)
        assert part.isna().sum() == n_na


def test_reverse_coding_and_min_share():
    resp = pd.DataFrame({"respondent_id": ["a", "b", "c"], "wave": "pre", "group": "lokal",
                         "site": "s"})
    sm = pd.DataFrame({"item": ["i1", "i2", "i3"], "dimension": "trust", "subscale": "gen",
                       "reverse": [False, True, False], "min": 1.0, "max": 5.0})
    ans = pd.DataFrame({"respondent_id": ["a"] * 3 + ["b"] * 3 + ["c"] * 3, "wave": "pre",
                        "item": ["i1", "i2", "i3"] * 3,
                        "value": [5, 1, 4, 5, np.nan, 2, np.nan, np.nan, 3.0]})
    sc = scales.score(resp, ans, sm).set_index(["respondent_id", "dimension"])
    assert sc.loc[("a", "trust"), "score"] == pytest.approx((5 + 5 + 4) / 3)  # 6 - 1 = 5
    assert sc.loc[("b", "trust"), "score"] == pytest.approx(3.5)  # 2 of 3 >= ceil(2/3*3)=2
    assert sc.loc[("b", "trust"), "n_answered"] == 2
    assert np.isnan(sc.loc[("c", "trust"), "score"])  # 1 of 3: row kept, NaN
    assert sc.loc[("c", "trust"), "n_answered"] == 1
    # a stricter share drops b; a respondent with no answer rows at all still gets a NaN row
    strict = scales.score(resp, ans, sm, min_share=1.0).set_index(["respondent_id", "dimension"])
    assert np.isnan(strict.loc[("b", "trust"), "score"])
    only_a = scales.score(resp, ans[ans.respondent_id == "a"], sm)
    assert only_a.set_index("respondent_id").loc["c", "n_answered"].tolist() == [0, 0]


def test_score_errors():
    resp = pd.DataFrame({"respondent_id": ["a"], "wave": "pre", "group": "lokal", "site": "s"})
    sm = pd.DataFrame({"item": ["i1"], "dimension": "trust", "subscale": "gen",
                       "reverse": [False], "min": 1.0, "max": 5.0})
    with pytest.raises(SinergiError, match="outside"):
        scales.score(resp, pd.DataFrame({"respondent_id": ["a"], "wave": ["pre"],
                                         "item": ["i1"], "value": [7.0]}), sm)
    with pytest.raises(SinergiError, match="not in the respondents"):
        scales.score(resp, pd.DataFrame({"respondent_id": ["zz"], "wave": ["pre"],
                                         "item": ["i1"], "value": [3.0]}), sm)


def test_reliability_matches_psych(data, result):
    coded = scales._coded(*data)[0]
    items_of = {d: its for d, its in scales._scale_defs(data[2])}

    def coded_complete(key):
        return coded.xs(key[0], level="wave")[items_of[key[1]]].dropna().to_numpy()

    heywood = []
    rel = result["reliability"].set_index(["wave", "dimension"])
    items = result["items"]
    assert list(result["reliability"].columns) == [
        "wave", "dimension", "n", "k", "alpha", "alpha_ci_low", "alpha_ci_high", "omega", "heywood",
        "flag"]
    assert list(items.columns) == ["wave", "dimension", "item", "n", "mean", "sd",
                                   "item_total_r", "alpha_if_deleted", "pct_agree"]
    assert set(rel.index) == set(R_RELIABILITY)
    for key, ref in R_RELIABILITY.items():
        row = rel.loc[key]
        assert row["n"] == ref["n"] and row["k"] == ref["k"]
        assert row["alpha"] == pytest.approx(ref["alpha"], abs=STAT)
        assert [row["alpha_ci_low"], row["alpha_ci_high"]] == pytest.approx(ref["ci"], abs=STAT)
        if ref["k"] >= 3:
            # psych::fa's L-BFGS-B stops ~1e-6 from the minres optimum we solve to 1e-13.
            # Heywood cases (a communality at the 0.995 bound): psych stops somewhere on a flat
            # boundary (and may report a loading > 1), so only agreement to 1e-3 is expected
            cc = coded_complete(key)
            lam = scales._minres_one_factor(np.corrcoef(cc, rowvar=False))
            tol = 1e-3 if np.max(lam ** 2) >= 0.995 - 1e-9 else 5e-6
            heywood.append(tol == 1e-3)
            assert row["heywood"] == heywood[-1]
            assert row["omega"] == pytest.approx(ref["omega"], abs=tol)
            if ref["k"] == 3 and not heywood[-1]:  # saturated model: = psych::omega omega.tot
                assert row["omega"] == pytest.approx(ref["omega_psych"], abs=tol)
        else:
            assert np.isnan(row["omega"]) and not row["heywood"]
        it = items[(items.wave == key[0]) & (items.dimension == key[1])]
        assert it["item_total_r"].to_numpy() == pytest.approx(ref["r_drop"], abs=STAT)
        assert it["alpha_if_deleted"].to_numpy() == pytest.approx(ref["alpha_drop"], abs=STAT,
                                                                    nan_ok=True)
        assert it["mean"].to_numpy() == pytest.approx(ref["mean"], abs=STAT)
        assert it["sd"].to_numpy() == pytest.approx(ref["sd"], abs=STAT)
        assert it["pct_agree"].to_numpy() == pytest.approx(ref["pct_agree"], abs=STAT)
        expect = "low" if (ref["alpha"] < .7 or (ref["k"] >= 3 and ref["omega"] < .7)) else "ok"
        assert row["flag"] == expect
    assert 0 < sum(heywood) < len(heywood) // 2  # both kinds occur in this data


def test_omega_flags_a_heywood_case():
    rng = np.random.default_rng(7)
    f = rng.normal(size=200)
    proper = np.column_stack([f + rng.normal(size=200) for _ in range(4)])
    om, heywood = scales.omega_total(proper, with_heywood=True)
    assert 0.6 < om < 0.9 and not heywood
    # two items that are nearly the same question: the factor explains one of them fully
    twins = np.column_stack([f, f + rng.normal(scale=0.01, size=200), rng.normal(size=200) + f * 0.3])
    om, heywood = scales.omega_total(twins, with_heywood=True)
    assert heywood and np.isfinite(om)
    assert scales.omega_total(twins) == om


def test_alpha_agrees_with_pingouin_listwise(data):
    r, a, sm = data
    coded, _ = scales._coded(r, a, sm)
    x = coded.xs("post", level="wave")[sm.item[sm.dimension == "norms"]]
    assert x.isna().any(axis=None)
    alpha, (lo, hi) = pg.cronbach_alpha(x, nan_policy="listwise")
    ours = scales.cronbach_alpha(x.dropna().to_numpy())
    assert ours[0] == pytest.approx(alpha, abs=1e-12)
    # pingouin 0.7 takes n for the Feldt CI *before* listwise deletion (its CI is then too
    # narrow); ours uses the complete cases like psych. Reproduce pingouin's limits that way:
    from scipy.stats import f
    n, k = x.shape
    quirk = [1 - (1 - alpha) * f.isf(q, n - 1, (n - 1) * (k - 1)) for q in (0.025, 0.975)]
    assert [lo, hi] == pytest.approx(np.round(quirk, 3))
    assert [round(ours[1], 3), round(ours[2], 3)] != pytest.approx([lo, hi])


def test_omega_recovers_exact_one_factor_structure():
    lam = np.array([0.8, 0.7, 0.6, 0.5, 0.4])
    r = np.outer(lam, lam)
    np.fill_diagonal(r, 1.0)
    got = scales._minres_one_factor(r)
    assert got == pytest.approx(lam, abs=1e-8)
    s = lam.sum() ** 2
    assert s / (s + np.sum(1 - lam ** 2)) == pytest.approx(3.0 ** 2 / (9 + 5 - 1.9))


def test_reliability_degenerate_cases():
    resp = pd.DataFrame({"respondent_id": ["a", "b"], "wave": "pre", "group": "lokal",
                         "site": "s"})
    sm = pd.DataFrame({"item": ["i1", "i2", "i3"], "dimension": "trust", "subscale": "gen",
                       "reverse": False, "min": 1.0, "max": 5.0})
    ans = pd.DataFrame({"respondent_id": ["a"] * 3 + ["b"] * 3, "wave": "pre",
                        "item": ["i1", "i2", "i3"] * 2, "value": [1, 2, 3, np.nan, 4, 5.0]})
    rel, items = scales.reliability(resp, ans, sm, ["pre", "post"])
    assert rel["n"].tolist() == [1, 1, 0, 0]  # one complete case; no post rows at all
    assert rel["alpha"].isna().all() and rel["omega"].isna().all()
    assert (rel["flag"] == "").all()
    assert items.loc[items.wave == "pre", "pct_agree"].tolist()[:3] == [0.0, 0.5, 0.5]
