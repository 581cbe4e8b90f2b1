"""A randomized, placebo-controlled `tables` study written by the tests: no networks, labelled scales.

Its shape is one the demo never has: arms instead of locals and migrants, listed with the control
first although it sorts last (``placebo`` after ``caffeine``), no ``ties.csv`` and no ``tie_types``,
and a ``scales.csv`` that names its dimensions, subscales and items — ``anxiety`` in both
languages, ``alertness`` in English only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
#: item: (dimension, subscale, reverse, statement in English, statement in Indonesian or None)
ITEMS = {
    "tense": ("anxiety", "tension", False, "I feel tense", "Saya merasa tegang"),
    "worried": ("anxiety", "tension", False, "I am worried", "Saya merasa cemas"),
    "jittery": ("anxiety", "tension", False, "I feel jittery", "Saya merasa gelisah"),
    "calm": ("anxiety", "calm", True, "I feel calm", "Saya merasa tenang"),
    "relaxed": ("anxiety", "calm", True, "I feel relaxed", "Saya merasa santai"),
    "alert": ("alertness", "alert", False, "I feel alert", None),
    "awake": ("alertness", "alert", False, "I feel wide awake", None),
    "sleepy": ("alertness", "alert", True, "I feel sleepy", None),
}
DIMENSION_LABELS = {"anxiety": ("State anxiety", "Kecemasan sesaat"), "alertness": ("Alertness", None)}
SUBSCALE_LABELS = {("anxiety", "tension"): ("Tension", "Ketegangan"), ("anxiety", "calm"): ("Calmness", "Ketenangan"),
                   ("alertness", "alert"): ("Alert", None)}
#: planted change (after − before, on the latent 1–4 answer scale) per arm and dimension
EFFECT = {"placebo": {"anxiety": 0.0, "alertness": 0.1}, "caffeine": {"anxiety": 0.8, "alertness": 0.9},
          "decaf": {"anxiety": 0.1, "alertness": 0.3}}


def write_trial_study(folder: Path, *, seed: int = 11, n: int = 60, study_id: str = "trial",
                      arms: tuple[str, ...] = ("placebo", "caffeine"), language: str = "en",
                      reference: str | None = None) -> Path:
    """Write the CSVs (``respondents``, ``responses``, ``scales``; no ``ties.csv``) and a study file
    into ``folder``; return the study file's path. Person ``i`` is in arm ``arms[i % len(arms)]``;
    everyone answers both waves."""
    rng = np.random.default_rng(seed)
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    ids = [f"s{i:03d}" for i in range(n)]
    arm = [arms[i % len(arms)] for i in range(n)]
    latent = rng.normal(scale=0.6, size=(n, 2))
    resp, items = [], []
    for w, wave in enumerate(["before", "after"]):
        for i in range(n):
            resp.append({"respondent_id": ids[i], "wave": wave, "arm": arm[i], "age": int(rng.integers(18, 40))})
            for item, (dim, _, rev, _, _) in ITEMS.items():
                x = 2.5 + latent[i, int(dim == "alertness")] + w * EFFECT[arm[i]][dim] + rng.normal(scale=0.5)
                v = int(np.clip(np.round(5 - x if rev else x), 1, 4))
                items.append({"respondent_id": ids[i], "wave": wave, "item": item, "value": v})
    pd.DataFrame(resp).to_csv(data / "respondents.csv", index=False)
    pd.DataFrame(items).to_csv(data / "responses.csv", index=False)
    rows = []
    for item, (dim, sub, rev, en, id_) in ITEMS.items():
        rows.append({"item": item, "dimension": dim, "subscale": sub, "reverse": str(rev).lower(), "min": 1, "max": 4,
                     "dimension_label_en": DIMENSION_LABELS[dim][0], "dimension_label_id": DIMENSION_LABELS[dim][1],
                     "subscale_label_en": SUBSCALE_LABELS[(dim, sub)][0],
                     "subscale_label_id": SUBSCALE_LABELS[(dim, sub)][1], "label_en": en, "label_id": id_})
    pd.DataFrame(rows).to_csv(data / "scales.csv", index=False)
    labels = {"placebo": ("Plasebo", "Placebo"), "caffeine": ("Kafein", "Caffeine"), "decaf": ("Dekaf", "Decaf")}
    group = {"variable": "arm", "levels": [{"value": a, "label": {"id": labels[a][0], "en": labels[a][1]}}
                                           for a in arms]}
    if reference:
        group["reference"] = reference
    study = {"id": study_id, "title": "Caffeine and state anxiety (simulated trial)", "language": language,
             "site": "Sleep lab", "instrument": str(ROOT / "instruments" / "sinergi.yaml"),
             "source": {"kind": "tables", "path": "data"},
             "waves": [{"id": "before", "label": {"id": "Sebelum", "en": "Before"}},
                       {"id": "after", "label": {"id": "Sesudah", "en": "After"}}],
             "group": group, "analysis": {"seed": 3, "permutations": 199}}
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(study, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
