"""Data for tests/analysis/test_invariance.py and tests/r/invariance.R.

    .venv/bin/python tests/r/invariance_data.py   # writes tests/r/data/invariance_*.csv
    Rscript tests/r/invariance.R                  # prints the lavaan reference values

``planted``: two groups (a: 300, b: 250), two correlated factors with three items each; in group b
item x3's intercept is 0.8 higher (a planted non-invariant item: scalar invariance must fail,
metric must hold). ``demo``: the demo study's first-wave items (reverse-coded) with the
respondent's group, read from data/processed/demo-kaloran (written by `make scales`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def planted(seed: int = 20261201, shift: float = 0.8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lam = np.array([[1.0, 0], [0.8, 0], [0.9, 0], [0, 1.0], [0, 0.7], [0, 1.1]])
    phi = np.array([[1.0, 0.4], [0.4, 0.8]])
    out = []
    for g, n, mean in (("a", 300, [0.0, 0.0]), ("b", 250, [0.3, -0.2])):
        eta = rng.multivariate_normal(mean, phi, n)
        x = 3 + eta @ lam.T + rng.normal(0, 0.6, (n, 6))
        if g == "b":
            x[:, 2] += shift
        out.append(pd.DataFrame(np.round(x, 4), columns=[f"x{i}" for i in range(1, 7)]).assign(g=g))
    return pd.concat(out, ignore_index=True)


def demo() -> pd.DataFrame:
    from pipeline.analysis.invariance import wide_items

    proc = ROOT / "data" / "processed" / "demo-kaloran"
    resp = pd.read_parquet(proc / "respondents.parquet")
    ans = pd.read_parquet(proc / "responses.parquet")
    sm = pd.read_parquet(proc / "scale_map.parquet")
    w = wide_items(ans, resp, sm)
    w = w[w.index.get_level_values("wave") == "pre"][list(sm["item"]) + ["group"]]
    return w.reset_index(drop=True)


if __name__ == "__main__":
    (HERE / "data").mkdir(exist_ok=True)
    planted().to_csv(HERE / "data" / "invariance_planted.csv", index=False)
    demo().to_csv(HERE / "data" / "invariance_demo.csv", index=False)
