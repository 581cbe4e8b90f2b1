"""Deterministic test data for tests/analysis/test_scales.py and tests/analysis/test_prepost.py, and its CSV copy for R.

The tests build the data with :func:`make_data` (seeded numpy, no files). ``tests/r/reference.R``
reads the same data from ``tests/r/data/*.csv``; regenerate those with

    .venv/bin/python tests/r/testdata.py        # writes tests/r/data/*.csv
    Rscript tests/r/reference.R                 # prints the reference values pasted into the tests

and a test checks that the CSVs still equal what :func:`make_data` builds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

#: item -> (dimension, subscale, reverse)
ITEMS = {
    "tr_gen1": ("trust", "generalized", False),
    "tr_gen2": ("trust", "generalized", True),
    "tr_gen3": ("trust", "generalized", False),
    "tr_out1": ("trust", "outgroup", False),
    "tr_out2": ("trust", "outgroup", False),
    "tr_out3": ("trust", "outgroup", True),
    "tr_out4": ("trust", "outgroup", False),
    "nr_rec1": ("norms", "reciprocity", False),
    "nr_rec2": ("norms", "reciprocity", False),
    "nr_rec3": ("norms", "reciprocity", True),
    "nr_con1": ("norms", "conflict", False),
    "nr_con2": ("norms", "conflict", False),
}


def scale_map() -> pd.DataFrame:
    return pd.DataFrame([{"item": k, "dimension": d, "subscale": s, "reverse": r, "min": 1.0,
                          "max": 5.0} for k, (d, s, r) in ITEMS.items()])


def make_data(seed: int = 20240601, n: int = 48):
    """respondents, responses, scale_map for ``n`` people × pre/post (some attrition, some NaN).

    A latent trait per person and dimension, a program effect at post (larger for "pendatang"),
    items = round(3 + loading*latent + noise) clipped to 1..5, reverse items mirrored.
    Respondent r01 answers only pre (attrition), r02 only post (joiner); r03 leaves every norms
    item blank at post; about 4% of other answers are blank.
    """
    rng = np.random.default_rng(seed)
    ids = [f"r{i:02d}" for i in range(1, n + 1)]
    group = np.where(np.arange(n) % 3 == 0, "pendatang", "lokal")
    person = {"trust": rng.normal(0, 0.8, n), "norms": rng.normal(0, 0.8, n)}
    effect = {"trust": 0.35, "norms": 0.2}
    resp_rows, ans_rows = [], []
    forum = rng.poisson(3, n).astype(float)
    trainings = rng.integers(0, 4, n).astype(float)
    for w, wave in enumerate(["pre", "post"]):
        for i, rid in enumerate(ids):
            if (rid == "r01" and wave == "post") or (rid == "r02" and wave == "pre"):
                continue
            revenue = float(np.round(rng.lognormal(15, 0.5), -3))
            joint = float(rng.random() < 0.4)
            brand = float(rng.random() < 0.3)
            resp_rows.append({
                "respondent_id": rid, "wave": wave, "group": group[i], "site": "desa_a",
                "forum_meetings": forum[i] * w, "trainings_n": trainings[i] * w,
                "joint_purchasing": joint, "collective_brand": brand,
                "digital_channels_n": float(rng.poisson(1 + 1.2 * brand)),
                "revenue": revenue,
                "input_costs": float(np.round(revenue * rng.uniform(0.3, 0.7) * (1 - 0.15 * joint),
                                              -3)),
            })
            for item, (dim, sub, rev) in ITEMS.items():
                gain = effect[dim] * w * (1.6 if group[i] == "pendatang" else 1.0)
                gain += 0.03 * forum[i] * w
                lat = person[dim][i] + gain + rng.normal(0, 0.6)
                v = float(np.clip(np.round(3 + 0.9 * lat + rng.normal(0, 0.7)), 1, 5))
                if rev:
                    v = 6.0 - v
                if (rid == "r03" and wave == "post" and dim == "norms") or rng.random() < 0.04:
                    v = np.nan
                ans_rows.append({"respondent_id": rid, "wave": wave, "item": item, "value": v})
    return pd.DataFrame(resp_rows), pd.DataFrame(ans_rows), scale_map()


def wilcox_cases() -> pd.DataFrame:
    """Paired vectors exercising each branch of R's wilcox.test(paired=TRUE) (columns case, pre, post)."""
    rng = np.random.default_rng(7)
    rows = []

    def add(case, pre, post):
        rows.extend({"case": case, "pre": float(a), "post": float(b)} for a, b in zip(pre, post))

    pre = rng.normal(3, 1, 12)
    add("exact_n12", pre, pre + rng.normal(0.5, 1, 12))
    pre = rng.normal(3, 1, 10)
    add("exact_negative_n10", pre, pre - rng.normal(0.4, 1, 10))
    pre = rng.normal(3, 1, 60)
    add("normal_n60", pre, pre + rng.normal(0.2, 1, 60))
    pre = rng.integers(1, 6, 20).astype(float)
    add("ties_zeros_n20", pre, np.clip(pre + rng.integers(-1, 3, 20), 1, 5))
    add("all_plus_one_n8", np.arange(8.0), np.arange(8.0) + 1)
    return pd.DataFrame(rows)


def nested_cases() -> pd.DataFrame:
    """Scores of respondents nested in sites, for the nested random-intercept REML (columns
    ``case``, ``site``, ``respondent_id``, ``wave``, ``group``, ``score``).

    ``nested12``: 12 sites of 5-30 respondents, pre/post, two groups, site sd 0.4, person sd
    0.5, residual sd 0.35, a program effect larger for "pendatang", ~12% attrition and ~5%
    joiners. ``nested3w``: 7 sites, three waves and three group levels, ~15% of the rows missing.
    Scores are continuous (no rounding), so the REML optimum is unique and interior.
    """
    rng = np.random.default_rng(20261201)
    rows = []

    def add(case, n_sites, sizes, waves, levels, effects):
        k = 0
        for s in range(n_sites):
            u_site = rng.normal(0, 0.4)
            for _ in range(int(sizes[s])):
                k += 1
                rid = f"p{k:03d}"
                g = levels[int(rng.integers(0, len(levels)))]
                u_person = rng.normal(0, 0.5)
                for w, wave in enumerate(waves):
                    if rng.random() < (0.12 if case == "nested12" else 0.15) and w > 0:
                        continue
                    if case == "nested12" and w == 0 and rng.random() < 0.05:
                        continue  # a joiner: post only
                    mu = 3.0 + u_site + u_person + effects[w] * (1.5 if g == levels[-1] else 1.0)
                    rows.append({"case": case, "site": f"s{s:02d}", "respondent_id": rid,
                                 "wave": wave, "group": g,
                                 "score": float(mu + rng.normal(0, 0.35))})

    add("nested12", 12, rng.integers(5, 31, 12), ["pre", "post"], ["lokal", "pendatang"],
        [0.0, 0.3])
    add("nested3w", 7, rng.integers(8, 20, 7), ["pre", "mid", "post"], ["a", "b", "c"],
        [0.0, 0.15, 0.3])
    return pd.DataFrame(rows)


def write_csvs() -> None:
    """Write the default data set, and its scores, to tests/r/data for the R script."""
    sys.path.insert(0, str(HERE.parent.parent))
    from pipeline.analysis import scales

    DATA.mkdir(exist_ok=True)
    respondents, responses, sm = make_data()
    respondents.to_csv(DATA / "respondents.csv", index=False, float_format="%.17g")
    responses.to_csv(DATA / "responses.csv", index=False, float_format="%.17g")
    sm.to_csv(DATA / "scale_map.csv", index=False)
    sc = scales.score(respondents, responses, sm)
    sc.to_csv(DATA / "scores.csv", index=False, float_format="%.17g")
    wilcox_cases().to_csv(DATA / "wilcox_cases.csv", index=False, float_format="%.17g")
    nested_cases().to_csv(DATA / "nested.csv", index=False, float_format="%.17g")


if __name__ == "__main__":
    write_csvs()
