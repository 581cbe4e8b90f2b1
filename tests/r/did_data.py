"""Planted difference-in-differences data for tests/analysis/test_did.py and tests/r/did.R.

    .venv/bin/python tests/r/did_data.py   # writes tests/r/data/did.csv
    Rscript tests/r/did.R                  # prints the lme4 reference values pasted into tests/analysis/test_did.py

Six villages (v1, v2 program; v3–v6 comparison), 30 respondents each, two waves. Village
intercepts N(0, 0.3²), respondent intercepts N(0, 0.6²), a village-level change N(0.1, 0.1²) for
every village, plus the planted program effect EFFECT at post; residual N(0, 0.5²); about 10% of
respondents are missing at post and 5% at pre.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

EFFECT = 0.5
HERE = Path(__file__).resolve().parent


def make(seed: int = 20261201) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for v in range(1, 7):
        site, prog = f"v{v}", v <= 2
        a_v, c_v = rng.normal(0, 0.3), rng.normal(0.1, 0.1)
        for i in range(30):
            rid = f"{site}r{i:02d}"
            a_i = rng.normal(0, 0.6)
            miss = rng.random()
            for wave in ("pre", "post"):
                if (wave == "post" and miss < 0.10) or (wave == "pre" and miss > 0.95):
                    rng.normal()  # keep the stream aligned
                    continue
                post = wave == "post"
                y = 3 + a_v + a_i + post * (c_v + EFFECT * prog) + rng.normal(0, 0.5)
                rows.append({"respondent_id": rid, "site": site, "wave": wave, "program": int(prog),
                             "y": round(float(y), 6)})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    (HERE / "data").mkdir(exist_ok=True)
    make().to_csv(HERE / "data" / "did.csv", index=False)
