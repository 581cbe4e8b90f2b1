"""A small `tables` study written by the tests: 40 people, two waves, two groups, ties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
ITEMS = {  # item: (dimension, subscale, reverse)
    "t1": ("trust", "outgroup", False), "t2": ("trust", "outgroup", False), "t3": ("trust", "outgroup", True),
    "t4": ("trust", "ingroup", False), "t5": ("trust", "ingroup", False), "t6": ("trust", "ingroup", True),
    "n1": ("norms", "reciprocity", False), "n2": ("norms", "reciprocity", False), "n3": ("norms", "reciprocity", True),
}


def write_tables_study(folder: Path, *, seed: int = 7, n: int = 40, study_id: str = "tables-test",
                       sites: int = 1) -> Path:
    """Write CSVs and a study file into ``folder``; return the study file's path.

    With ``sites`` > 1, person ``i`` lives in village ``desa<i % sites>`` (a ``site`` column) and
    names only people of the same village.
    """
    rng = np.random.default_rng(seed)
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    ids = [f"person{i:02d}" for i in range(n)]
    group = np.where(np.arange(n) < int(n * 0.6), "lokal", "pendatang")
    latent = rng.normal(size=n)
    resp, items, ties = [], [], []
    for w, wave in enumerate(["pre", "post"]):
        present = np.ones(n, bool) if w == 0 else rng.random(n) > 0.1
        for i in np.flatnonzero(present):
            row = {"respondent_id": ids[i], "wave": wave, "group": group[i],
                   "forum_meetings": int(rng.integers(0, 8)) if w else 0, "revenue": int(rng.integers(2, 20)) * 500_000}
            if sites > 1:
                row["site"] = f"desa{i % sites}"
            resp.append(row)
            for item, (_, _, rev) in ITEMS.items():
                x = latent[i] + 0.5 * w + rng.normal(scale=0.8)
                v = int(np.clip(np.round(3 + x * (-1 if rev else 1)), 1, 5))
                items.append({"respondent_id": ids[i], "wave": wave, "item": item,
                              "value": "" if rng.random() < 0.03 else v})
            neighbours = [j for j in range(n) if j % sites == i % sites]
            for alter in rng.choice(neighbours, size=3, replace=False):
                if alter != i:
                    ties.append({"wave": wave, "tie_type": "info", "ego": ids[i], "alter": ids[alter],
                                 "weight": int(rng.integers(1, 5))})
    pd.DataFrame(resp).to_csv(data / "respondents.csv", index=False)
    pd.DataFrame(items).to_csv(data / "responses.csv", index=False)
    pd.DataFrame(ties).to_csv(data / "ties.csv", index=False)
    pd.DataFrame([{"item": k, "dimension": d, "subscale": s, "reverse": str(r).lower(), "min": 1, "max": 5}
                  for k, (d, s, r) in ITEMS.items()]).to_csv(data / "scales.csv", index=False)
    study = {"id": study_id, "title": "Tables test study", "language": "en", "site": "Desa Uji",
             "instrument": str(ROOT / "instruments" / "sinergi.yaml"),
             "source": {"kind": "tables", "path": "data"},
             "waves": [{"id": "pre", "label": "Before"}, {"id": "post", "label": "After"}],
             "tie_types": ["info"], "analysis": {"seed": 1, "permutations": 199}}
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(study), encoding="utf-8")
    return path


def tidied_tables_study(folder: Path, **kwargs) -> Path:
    """:func:`write_tables_study` into ``folder``, then ``sinergi pull`` and ``tidy`` run there (studies
    write data/ relative to the working folder); return the study file's path."""
    import os

    from pipeline.cli import main

    old = os.getcwd()
    os.chdir(folder)
    try:
        path = write_tables_study(folder, **kwargs)
        for stage in ("pull", "tidy"):
            assert main([stage, "--study", str(path), *(["--quiet"] if stage == "pull" else [])]) == 0
    finally:
        os.chdir(old)
    return path
