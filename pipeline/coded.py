"""A stage's CSV output held compactly: text as Arrow dictionary codes, numbers as float arrays.

The stages after scales (prepost, district, did) read ``scores.csv`` and ``network_nodes.csv`` once
into an Arrow table with the columns they use: each text column (ids, waves, groups, villages,
dimensions, :data:`pipeline.outputs.TEXT_COLUMNS`) dictionary-encoded -- every distinct value
stored once, each row an int32 code -- and each numeric column as float64. They then work one value
of a column at a time (:func:`frames_by`: one dimension), each slice decoded into the pandas frame
:func:`pipeline.outputs.read_table` would have given for those rows: text ``str`` with missing cells
NaN, numbers float. So a process holds the study as codes (≈ 24 bytes a row of ``scores.csv``) plus
one dimension's frame, never the whole study as strings.

Reading is exact: numbers are parsed to the nearest double (the CSV files hold Python's
shortest round-trip repr, so the value written comes back), ids stay strings (``007``), and the
cells pandas reads as missing (its default ``na_values``) are missing here too.

>>> import io, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "scores.csv")
>>> _ = open(path, "w").write("respondent_id,wave,dimension,score\\n007,pre,trust,2.5\\n008,,trust,\\n")
>>> t = read_coded(path, {"respondent_id": "text", "wave": "text", "dimension": "text", "score": "number"})
>>> [(d, f.to_dict("list")) for d, f in frames_by(t, "dimension")]  # doctest: +NORMALIZE_WHITESPACE
[('trust', {'respondent_id': ['007', '008'], 'wave': ['pre', nan], 'dimension': ['trust', 'trust'],
            'score': [2.5, nan]})]
"""

from __future__ import annotations

import csv
import ctypes
import ctypes.util
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from .errors import SinergiError

__all__ = ["read_coded", "keep_rows", "values_in_order", "equal", "frames_by", "to_frame", "NA_VALUES"]

#: the cells pandas' ``read_csv`` reads as missing by default (its ``STR_NA_VALUES``), in the same role
NA_VALUES = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
             "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]
COLUMN_TYPES = {"text": pa.dictionary(pa.int32(), pa.string()), "number": pa.float64()}


def read_coded(path: str | Path, columns: dict[str, str], *, optional: tuple[str, ...] = ()) -> pa.Table:
    """The ``columns`` of a CSV file as an Arrow table: ``"text"`` ones dictionary-encoded, ``"number"`` ones float64.

    Parameters
    ----------
    path : a CSV file a stage wrote (comma-separated, UTF-8, a header line).
    columns : column name → ``"text"`` or ``"number"``, in the order wanted.
    optional : names of ``columns`` that may be absent from the file (left out of the table).

    Returns
    -------
    pyarrow.Table
        The columns present, in ``columns``' order, one chunk each with one dictionary per text column.

    Raises
    ------
    SinergiError
        A required column missing, or a cell of a number column that is not a number (the message
        names the file, the column, the row and the value, as Arrow's reader reports them).
    """
    path = Path(path)
    header = csv_header(path)
    missing = [c for c in columns if c not in header and c not in optional]
    if missing:
        raise SinergiError(f"{path}: missing column(s) {', '.join(missing)}; rerun the stage that writes it")
    wanted = {c: k for c, k in columns.items() if c in header}
    try:  # one thread: the parser's buffers then peak at about the file's size, not a multiple of it
        table = pcsv.read_csv(path, read_options=pcsv.ReadOptions(use_threads=False, block_size=1 << 22),
                              convert_options=pcsv.ConvertOptions(
            include_columns=list(wanted), column_types={c: COLUMN_TYPES[k] for c, k in wanted.items()},
            null_values=NA_VALUES, strings_can_be_null=True, quoted_strings_can_be_null=True))
    except pa.ArrowInvalid as exc:
        raise SinergiError(f"{path}: {readable_error(str(exc), header)}") from None
    # one column at a time (each chunk of the file has its own dictionaries): the file's chunks of a
    # column are dropped as its one-chunk copy is made, so the reader's table and the compact one are
    # never both held whole
    cols = {name: table.column(name) for name in table.column_names}
    del table
    for name in list(cols):
        col = cols.pop(name)
        one = pa.table({name: col}).unify_dictionaries() if pa.types.is_dictionary(col.type) else pa.table({name: col})
        del col
        cols[name] = _narrow(one.column(0).combine_chunks())
        del one
        _release()
    return pa.table(cols)


def _narrow(arr: pa.Array) -> pa.Array:
    """A dictionary array with the smallest signed index type its dictionary fits in (a wave, group or
    dimension code then takes one byte a row, a village's two); other arrays as they are.

    >>> _narrow(pa.array(["a", None, "b"]).dictionary_encode().cast(pa.dictionary(pa.int32(), pa.string()))).type
    DictionaryType(dictionary<values=string, indices=int8, ordered=0>)
    """
    if not isinstance(arr, pa.DictionaryArray):
        return arr
    for index in (pa.int8(), pa.int16()):
        if len(arr.dictionary) <= np.iinfo(index.to_pandas_dtype()).max + 1:
            return arr.cast(pa.dictionary(index, arr.dictionary.type))
    return arr


def _release() -> None:
    """Give the memory Arrow and the C library have freed back to the system (their allocators keep it for
    reuse otherwise: pandas' text columns are Arrow arrays, its numbers C ``malloc``-ed)."""
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc():
    """glibc, for ``malloc_trim``; None elsewhere (macOS, musl: nothing to trim there)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _libc()


def readable_error(message: str, header: list[str]) -> str:
    """Arrow's "In CSV column #4: Row #3: CSV conversion error to double: invalid value 'abc'" in words.

    >>> readable_error("In CSV column #1: Row #3: CSV conversion error to double: invalid value 'abc'", ["id", "score"])
    "line 3, column score: 'abc' is not a number; rerun the stage that writes this file"
    """
    m = re.search(r"column #(\d+): Row #(\d+): CSV conversion error to \w+: invalid value (.*)$", message)
    if not m or int(m.group(1)) >= len(header):
        return message
    return (f"line {m.group(2)}, column {header[int(m.group(1))]}: {m.group(3)} is not a number; rerun the "
            "stage that writes this file")


def csv_header(path: Path) -> list[str]:
    """The column names of the file's first line."""
    with open(path, encoding="utf-8", newline="") as fh:
        return next(csv.reader([fh.readline()]), [])


def keep_rows(table: pa.Table, column: str, values) -> pa.Table:
    """The rows of ``table`` whose ``column`` is one of ``values`` (missing never is)."""
    col = table.column(column)
    keep = pc.is_in(col, value_set=pa.array(sorted(map(str, values)), type=pa.string()))
    return table.filter(keep)


def values_in_order(table: pa.Table, column: str) -> list[str]:
    """The distinct non-missing values of a text column in the order they first appear.

    >>> values_in_order(pa.table({"d": pa.array(["b", None, "a", "b"]).dictionary_encode()}), "d")
    ['b', 'a']
    """
    col = table.column(column)
    if not len(col):
        return []
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    codes = arr.indices.to_numpy(zero_copy_only=False)
    valid = np.asarray(arr.is_valid())
    order = pd.unique(codes[valid])
    return [str(v) for v in arr.dictionary.take(pa.array(order, type=pa.int64())).to_pylist()]


def to_frame(table: pa.Table) -> pd.DataFrame:
    """``table`` as the pandas frame ``read_table`` gives: text columns ``str`` (missing NaN), numbers float."""
    cols = {}
    for name in table.column_names:
        col = table.column(name)
        cols[name] = col.cast(pa.string()) if pa.types.is_dictionary(col.type) else col
    return pa.table(cols).to_pandas()


def equal(col: pa.ChunkedArray | pa.Array, value: str) -> pa.Array | pa.ChunkedArray:
    """``pc.equal(col, value)`` (null where ``col`` is), compared on the dictionary codes of a one-chunk
    dictionary column: Arrow would otherwise decode the whole column into strings first (≈ 90 MB for
    the 7 M rows of a 2,313-village ``scores.csv``).

    >>> equal(pa.array(["b", None, "a", "b"]).dictionary_encode(), "b").to_pylist()
    [True, None, False, True]
    """
    arr = col.chunk(0) if isinstance(col, pa.ChunkedArray) and col.num_chunks == 1 else col
    if not isinstance(arr, pa.DictionaryArray):
        return pc.equal(col, value)
    code = pc.index(arr.dictionary, pa.scalar(value, arr.dictionary.type)).as_py()
    return pc.equal(arr.indices, pa.scalar(code, arr.indices.type))


def frames_by(table: pa.Table, column: str, columns: list[str] | None = None) -> Iterator[tuple[str, pd.DataFrame]]:
    """``(value, frame)`` for each value of ``column`` in order of first appearance: its rows, in file order,
    decoded (:func:`to_frame`); ``columns`` picks and orders the frame's columns (default: all)."""
    col = table.column(column)
    for value in values_in_order(table, column):
        part = table.filter(equal(col, value))
        frame = to_frame(part.select(columns) if columns is not None else part)
        del part
        _release()
        yield value, frame
