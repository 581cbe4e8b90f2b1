"""The report's reading role: :class:`Inputs`, the processed tables read when a section asks.

:meth:`Inputs.read` notes which processed files the report may read (:func:`pipeline.outputs.report_inputs`)
exist; nothing is read until a section asks. A section asks for a table by its file name and gets
a copy (a copy-on-write one: nothing is copied until it is changed), or ``None`` when the stage that
makes it has not run; the table is read on that first call and kept.

The four tables that grow with the study (:data:`LARGE`: every answer, tie, score and network
position; 18 million answers at 2,313 villages) are never kept whole by the report's own sections
and exports; they read them through the compact ways here instead:

* :meth:`Inputs.n_rows`, :meth:`Inputs.any_rows` -- how many rows (a Parquet file's footer says
  it, nothing decoded), whether there is one (a CSV file's first row);
* :meth:`Inputs.batches` -- a Parquet table's rows in batches of whole row groups (a partitioned
  table has one row group per village: :mod:`pipeline.partitions`), in the file's order;
* :meth:`Inputs.site_rows` -- the rows of a few villages (their row groups only);
* :meth:`Inputs.csv_batches` -- some columns of a CSV table in batches of rows, text as pandas
  categoricals made from Arrow dictionary codes, numbers as float64; :meth:`Inputs.compact` the
  same columns whole (:func:`pipeline.coded.read_coded`).

Each works the same on a table handed over in memory (``Inputs({name: frame})``, tests and the
village pages). :meth:`Inputs.memo` keeps a result computed from them (the report is assembled in
each language from the same inputs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from ..coded import COLUMN_TYPES, NA_VALUES, csv_header, read_coded, readable_error
from ..errors import SinergiError
from ..outputs import TEXT_COLUMNS, read_table, report_inputs
from ..partitions import is_partitioned
from ..partitions import sites as file_sites

__all__ = ["Inputs", "LARGE", "category_codes"]

#: columns turned into Python strings (missing: None) in every table, parquet files included
STRING_COLUMNS = ("respondent_id", "wave", "group", "site", "wave_pre", "wave_post", "tie_type", "ego", "alter")
#: the processed tables that grow with the number of respondents (read in parts, never kept whole by the report)
LARGE = ("responses.parquet", "ties.parquet", "scores.csv", "network_nodes.csv")
#: rows :meth:`Inputs.batches` reads at once (whole row groups: at least one village)
BATCH_ROWS = 1 << 20
#: bytes of a CSV file :meth:`Inputs.csv_batches` reads at once (≈ 200,000 rows of scores.csv)
CSV_BLOCK = 1 << 24


class Inputs:
    """The processed tables by file name; calling it gives a copy, or ``None`` for a missing file.

    Parameters
    ----------
    tables : dict
        File name → table (tables already in memory).
    folder : Path, optional
        Where the tables are read from (named in messages).
    files : dict, optional
        File name → path of the tables read when asked (:meth:`read`).
    """

    def __init__(self, tables: dict[str, pd.DataFrame], folder: Path | None = None,
                 files: dict[str, Path] | None = None):
        self.tables = dict(tables)
        self.folder = Path(folder) if folder is not None else None
        self.files = dict(files or {})
        self._memo: dict[Any, Any] = {}

    def has(self, name: str) -> bool:
        """Whether the file ``name`` exists (was read or can be)."""
        return name in self.tables or name in self.files

    def path(self, name: str) -> Path:
        """Where ``name`` was read from (for messages)."""
        return self.folder / name if self.folder is not None else self.files.get(name) or Path(name)

    def __call__(self, name: str) -> pd.DataFrame | None:
        if name not in self.tables and name in self.files:
            self.tables[name] = _strings(read_table(self.files[name]))  # the load rule of every processed table
        df = self.tables.get(name)
        # pandas' copy-on-write (always on since pandas 3): a shallow copy the caller may change
        # freely (a change copies what it touches), without copying the table on every call --
        # at 1,000 villages each deep copy of responses.parquet held 13.5 million rows twice
        return None if df is None else df.copy(deep=False)

    @classmethod
    def read(cls, folder: Path) -> "Inputs":
        """The processed files the report uses that exist in ``folder``, each read when first asked for."""
        folder = Path(folder)
        # absolute: a table is read when first asked for, perhaps after the caller changed folder
        files = {name: (folder / name).absolute() for name in report_inputs() if (folder / name).exists()}
        return cls({}, folder, files)

    # -- the large tables, in parts ---------------------------------------------------------------
    def _projected(self, name: str, columns: list[str]) -> pd.DataFrame | None:
        """The ``columns`` (those it has) of the table ``name`` held in memory, or None."""
        df = self.tables.get(name)
        return None if df is None else df[[c for c in columns if c in df.columns]]

    def _on_file(self, name: str) -> Path | None:
        """The file of ``name`` when it is not already in memory."""
        return self.files.get(name) if name not in self.tables else None

    def n_rows(self, name: str) -> int | None:
        """The number of rows of ``name`` (None when missing); a Parquet file's footer, nothing decoded."""
        path = self._on_file(name)
        if path is not None and path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        df = self(name)
        return None if df is None else len(df)

    def any_rows(self, name: str) -> bool:
        """Whether ``name`` exists and has a row (a Parquet footer, or a CSV file's first row: nothing more is read)."""
        path = self._on_file(name)
        if path is not None:
            if path.suffix == ".parquet":
                return bool(self.n_rows(name))
            return len(pd.read_csv(path, nrows=1, dtype=str)) > 0
        df = self.tables.get(name)
        return df is not None and len(df) > 0

    def columns(self, name: str) -> list[str]:
        """The column names of ``name`` ([] when missing), without reading its rows."""
        path = self._on_file(name)
        if path is not None and path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return list(pq.ParquetFile(path).schema_arrow.names)
        if path is not None:
            return list(pd.read_csv(path, nrows=0).columns)
        df = self.tables.get(name)
        return [] if df is None else list(df.columns)

    def batches(self, name: str, columns: list[str]) -> Iterator[pd.DataFrame]:
        """The ``columns`` (those the table has) of the Parquet table ``name`` in batches of whole row
        groups (≈ :data:`BATCH_ROWS` rows), in the file's order; text columns as categoricals (the
        file's dictionary), numbers as stored. A table in memory: one batch, as it is; a missing one:
        none."""
        path = self._on_file(name)
        if path is None:
            df = self._projected(name, columns)
            if df is not None:
                yield df
            return
        import pyarrow.parquet as pq

        f = pq.ParquetFile(path, read_dictionary=[c for c in columns if c in TEXT_COLUMNS])
        have = [c for c in columns if c in f.schema_arrow.names]
        group, n = 0, f.num_row_groups
        while group < n:
            upto, rows = group, 0
            while upto < n and (upto == group or rows + f.metadata.row_group(upto).num_rows <= BATCH_ROWS):
                rows += f.metadata.row_group(upto).num_rows
                upto += 1
            yield f.read_row_groups(list(range(group, upto)), columns=have).to_pandas()
            group = upto

    def site_rows(self, name: str, sites: list[str]) -> pd.DataFrame | None:
        """The rows of the villages ``sites`` of a table with a ``site`` column, in the table's order,
        as the whole table has them (``self(name)`` filtered); a partitioned Parquet file reads only
        their row groups. None when the table is missing."""
        path = self._on_file(name)
        if path is not None and path.suffix == ".parquet":
            if is_partitioned(path):
                import pyarrow.parquet as pq

                wanted = set(map(str, sites))
                f = pq.ParquetFile(path)
                groups = [i for i, s in enumerate(file_sites(path)) if s in wanted]  # the file's order
                df = (f.read_row_groups(groups, use_pandas_metadata=True) if groups else
                      f.schema_arrow.empty_table()).to_pandas()
                return _strings(df)
        df = self(name)
        if df is None or "site" not in df:
            return df
        return df[df["site"].astype(str).isin(list(map(str, sites)))]

    def compact(self, name: str, columns: list[str]) -> pd.DataFrame | None:
        """The ``columns`` (those the table has) of the CSV table ``name``: text columns
        (:data:`pipeline.outputs.TEXT_COLUMNS`) as categoricals made from Arrow dictionary codes
        (:func:`pipeline.coded.read_coded`: ≈ 4 bytes a cell), numbers as float64; None when missing.
        A table in memory: those columns as they are."""
        path = self._on_file(name)
        if path is None:
            return self._projected(name, columns)
        kinds = {c: "text" if c in TEXT_COLUMNS else "number" for c in columns}
        table = read_coded(path, kinds, optional=tuple(columns))
        return table.to_pandas()

    def csv_batches(self, name: str, columns: list[str]) -> Iterator[pd.DataFrame]:
        """The ``columns`` (those the table has) of the CSV table ``name`` in batches of rows (≈
        :data:`CSV_BLOCK` bytes of the file each), in the file's order, read as :meth:`compact`
        reads them (text as categoricals, numbers float64) without ever holding the whole file. A
        table in memory: one batch, as it is; a missing one: none."""
        path = self._on_file(name)
        if path is None:
            df = self._projected(name, columns)
            if df is not None:
                yield df
            return
        import pyarrow as pa
        import pyarrow.csv as pcsv

        header = csv_header(path)
        wanted = [c for c in columns if c in header]
        types = {c: COLUMN_TYPES["text" if c in TEXT_COLUMNS else "number"] for c in wanted}
        try:
            reader = pcsv.open_csv(path, read_options=pcsv.ReadOptions(use_threads=False, block_size=CSV_BLOCK),
                                   convert_options=pcsv.ConvertOptions(
                include_columns=wanted, column_types=types, null_values=NA_VALUES, strings_can_be_null=True,
                quoted_strings_can_be_null=True))
            for batch in reader:
                yield batch.to_pandas()
        except pa.ArrowInvalid as exc:
            raise SinergiError(f"{path}: {readable_error(str(exc), header)}") from None

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()``, computed once per key (kept for the next call with ``key``)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]


def category_codes(values: pd.Series, index: pd.Index) -> np.ndarray:
    """The position in ``index`` (of strings) of each value of ``values`` as text; −1 where it is
    missing or not in ``index``. A categorical is looked up by its categories (fast for millions
    of rows).

    >>> category_codes(pd.Series(["b", None, "c"]), pd.Index(["a", "b"])).tolist()
    [1, -1, -1]
    >>> category_codes(pd.Series(["b", None, "a"], dtype="category"), pd.Index(["a", "b"])).tolist()
    [1, -1, 0]
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = index.get_indexer(pd.Index(values.cat.categories).astype(str))
        codes = values.cat.codes.to_numpy()
        return np.where(codes >= 0, cats[codes], -1) if len(cats) else np.full(len(values), -1)
    text = values.astype(object).where(values.notna(), None)
    found = index.get_indexer(pd.Index([None if v is None else str(v) for v in text], dtype=object))
    return np.where(text.notna().to_numpy(), found, -1)


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
