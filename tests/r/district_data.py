"""The scores for tests/r/district.R (the district reference values): six villages with their own
level and their own change, so the site variance and the between-village variance of the change are
not zero. ``.venv/bin/python tests/r/district_data.py`` writes tests/r/data/district_scores.csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parent / "data"
CHANGE = [0.0, 0.2, 0.35, 0.4, 0.5, 1.1]  # village 5 changes far more than the others


def district_scores(seed: int = 15) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s, change in enumerate(CHANGE):
        level = rng.normal(0, 0.4)
        n = 24 + 4 * s
        person = rng.normal(0, 0.6, n)
        for w, wave in enumerate(["pre", "post"]):
            present = np.ones(n, bool) if w == 0 else rng.random(n) > 0.12
            for dim, scale in (("trust", 1.0), ("norms", 0.6)):
                y = 3 + level + person + w * change * scale + rng.normal(0, 0.5, n)
                for i in np.flatnonzero(present):
                    rows.append({"respondent_id": f"s{s}p{i:02d}", "wave": wave, "site": f"desa{s}",
                                 "dimension": dim, "score": round(float(y[i]), 6)})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    district_scores().to_csv(DATA / "district_scores.csv", index=False)
