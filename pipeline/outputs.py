"""The files each stage writes to ``data/processed/<study>/``, named once.

The CLI, the report (its "run ``make …``" notes and the tables it reads) and the Makefile's
``*_OUT`` lists use these names; ``tests/test_outputs_registry.py`` checks the Makefile against them.

>>> STAGE_OF["scores.csv"]
'make scales'
>>> "network_whole.csv" in OUTPUTS["network"]
True
"""

from __future__ import annotations

__all__ = ["OUTPUTS", "STAGE_OF", "report_inputs"]

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
