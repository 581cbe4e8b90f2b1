"""The files each stage writes to ``data/processed/<study>/``, named once.

The CLI, the report (its "run ``make …``" notes and the tables it reads) and the Makefile's
``*_OUT`` lists use these names; ``tests/test_outputs_registry.py`` checks the Makefile against them.
:func:`read_table` is the one way to read such a file back (the CLI's later stages and the report).

>>> STAGE_OF["scores.csv"]
'make scales'
>>> "network_whole.csv" in OUTPUTS["network"]
True
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["OUTPUTS", "STAGE_OF", "TEXT_COLUMNS", "report_inputs", "read_table"]

#: stage (the ``make`` target and ``sinergi`` command) → the files it writes, in order
OUTPUTS: dict[str, tuple[str, ...]] = {
    "tidy": ("respondents.parquet", "responses.parquet", "ties.parquet", "scale_map.parquet", "quality.csv",
             "sample.csv"),
    "scales": ("scores.csv", "reliability.csv", "items.csv"),
    "network": ("network_whole.csv", "network_groups.csv", "mixing.csv", "network_nodes.csv", "brokerage.csv",
                "network_change.csv"),
    "prepost": ("prepost.csv", "mixed_models.csv", "dose_response.csv", "collective.csv", "descriptives.csv"),
    "district": ("district.csv", "district_sites.csv"),
    "did": ("did.csv", "balance.csv"),
    "invariance": ("invariance.csv",),
    "coverage": ("network_coverage.csv",),
    "plan": ("plan.csv",),
}

#: file → the command that makes it (named in the report when a file is missing)
STAGE_OF: dict[str, str] = {name: f"make {stage}" for stage, names in OUTPUTS.items() for name in names}


def report_inputs() -> list[str]:
    """Every processed file the report may read, in stage order."""
    return [name for names in OUTPUTS.values() for name in names]


#: columns read back as text whatever they hold (ids, wave and group names that may look like numbers)
TEXT_COLUMNS = ("respondent_id", "wave", "group", "site", "wave_pre", "wave_post", "tie_type", "from_group",
                "to_group", "ego", "alter", "item", "dimension", "submission_id")


def read_table(path: str | Path) -> pd.DataFrame:
    """A processed table as its stage wrote it: Parquet as stored, CSV with :data:`TEXT_COLUMNS` as text.

    Every other CSV column is parsed as pandas infers it (numbers as numbers, empty cells as NaN), so a
    wave named ``2024`` or a respondent id ``007`` stays the string it was.

    Parameters
    ----------
    path : a ``.parquet`` or ``.csv`` file of :data:`OUTPUTS`.

    Returns
    -------
    pandas.DataFrame
        The file's columns in its order; those of :data:`TEXT_COLUMNS` present in a CSV as ``str``
        (missing cells NaN).
    """
    path = Path(path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=dict.fromkeys(TEXT_COLUMNS, str), keep_default_na=True)
