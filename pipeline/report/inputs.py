"""The report's reading role: :class:`Inputs`, the processed tables read once at the edge.

Every processed file the report may read (:func:`pipeline.outputs.report_inputs`) that exists is
read by :meth:`Inputs.read`; a section asks for a table by its file name and gets a copy (a
copy-on-write one: nothing is copied until it is changed), or ``None`` when the stage that makes
it has not run.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..outputs import read_table, report_inputs

__all__ = ["Inputs"]

#: columns turned into Python strings (missing: None) in every table, parquet files included
STRING_COLUMNS = ("respondent_id", "wave", "group", "site", "wave_pre", "wave_post", "tie_type", "ego", "alter")


class Inputs:
    """The processed tables by file name; calling it gives a copy, or ``None`` for a missing file.

    Parameters
    ----------
    tables : dict
        File name → table.
    folder : Path, optional
        Where they were read from (named in messages).
    """

    def __init__(self, tables: dict[str, pd.DataFrame], folder: Path | None = None):
        self.tables = tables
        self.folder = Path(folder) if folder is not None else None

    def has(self, name: str) -> bool:
        """Whether the file ``name`` was read."""
        return name in self.tables

    def path(self, name: str) -> Path:
        """Where ``name`` was read from (for messages)."""
        return (self.folder or Path(".")) / name

    def __call__(self, name: str) -> pd.DataFrame | None:
        df = self.tables.get(name)
        # pandas' copy-on-write (always on since pandas 3): a shallow copy the caller may change
        # freely (a change copies what it touches), without copying the table on every call --
        # at 1,000 villages each deep copy of responses.parquet held 13.5 million rows twice
        return None if df is None else df.copy(deep=False)

    @classmethod
    def read(cls, folder: Path) -> "Inputs":
        """Read every processed file the report uses that exists in ``folder``."""
        folder = Path(folder)
        tables = {}
        for name in report_inputs():
            p = folder / name
            if not p.exists():
                continue
            tables[name] = _strings(read_table(p))  # the load rule of every processed table (outputs.py)
        return cls(tables, folder)


#: the dtype pandas infers for a list of Python strings (missing: None), as :func:`_strings` makes
_INFERRED_STR = pd.Series(["a", None]).dtype


def _strings(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the :data:`STRING_COLUMNS` it has as Python strings (missing: None), in the dtype
    pandas infers for them; a column already of that dtype with a value is kept as it is (the
    same column; converting it cost 4 s at 200 villages: 2.6 million responses)."""
    for c in STRING_COLUMNS:
        if c in df.columns:
            col = df[c]
            if col.dtype == _INFERRED_STR and col.notna().any():  # already str: the conversion is the identity
                continue
            out = col.astype(str).astype(object)  # str(v) in one vectorised pass, not a call per value
            df[c] = pd.Series(out.where(col.notna(), None).tolist(), index=df.index)  # dtype as map() infers
    return df
