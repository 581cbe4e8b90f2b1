"""File edges: atomic writes, and the one reader of files a user wrote.

Every derived file is written to a temporary file in the same folder and then renamed into place,
so a failed or killed step never leaves a half-written file behind.

Every file a user writes (study and instrument YAML, tables CSVs, rosters) is read here, with the
same rules everywhere:

- encoding: UTF-8 (with or without BOM) or UTF-16 with BOM; a file that is not UTF-8 but is valid
  Windows-1252 (what Windows Notepad saves as "ANSI"; Latin-1 is a subset) is read as that, with a
  note; anything else (binary, UTF-16 without BOM) is refused naming the encoding to save it in;
- control characters (other than tab and line ends) and invisible characters are refused with
  their line and column;
- YAML: a key written twice in one mapping is refused with both lines; syntax errors are one line;
- CSV: ``,``, ``;`` or tab separators are found from the header line (or Excel's ``sep=;`` first
  line); an empty file, a row with
  too many or too few values, a column name written twice and an unnamed column with values are
  refused with the line; spaces around values are removed (with a note); a ``;`` file whose numbers
  use decimal commas (``2,5``, ``1.500.000``) is read as such (with a note).

Notes (what was read in an unusual but exact way) are collected with :func:`note` and printed by
the command line after a successful run (:func:`take_notes`).

Run as ``python3 -S -m pipeline.io study-id study.yaml`` (standard library only, no venv needed)
it prints the study id: the Makefile reads the id that way, and :func:`pipeline.config.load_study`
refuses a study whose YAML id differs from it, so Make and Python always agree.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from .errors import SinergiError

if TYPE_CHECKING:  # pandas and yaml are imported where used: `python3 -S -m pipeline.io` needs neither
    import pandas as pd


#: the date put into generated documents when their inputs carry none
EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


@functools.cache
def umask() -> int:
    """The process's umask, read on first use: reading it means setting it, which importing must not do.

    Files and folders written through a temporary path get ``0o666 & ~umask()`` (``0o777`` for a
    folder), the permissions an ordinary ``open`` or ``mkdir`` would have given them.
    """
    mask = os.umask(0)
    os.umask(mask)
    return mask


def now_utc() -> str:
    """The current time in UTC as the raw manifests record it (``2026-11-23T08:15:00Z``)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


#: a write that failed because the disk (or the user's quota) is full
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    Raises
    ------
    SinergiError
        The disk holding ``path`` is full (ENOSPC, EDQUOT): a failed ``write()`` names no file,
        so the message names ``path``; the file as it was before is kept.
    """
    path = Path(path)
    tmp_path = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp_path = Path(tmp)
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp_path, path)
    except OSError as exc:
        if exc.errno not in _DISK_FULL:
            raise
        raise disk_full(path, exc) from None
    finally:
        if tmp_path is not None and tmp_path.exists():
            tmp_path.unlink()


def disk_full(path: str | os.PathLike, exc: OSError) -> SinergiError:
    """The one line for a write to ``path`` that failed because its disk is full."""
    path = Path(path)
    try:
        free = shutil.disk_usage(path.parent if path.parent.exists() else ".").free
        left = f"{free / 1e6:,.0f} MB free"
    except OSError:
        left = "free space unknown"
    return SinergiError(f"{path}: cannot be written: no space left on the disk that holds {path.parent}/ "
                        f"({exc.strerror or exc}; {left}); free some space (or write elsewhere) and run the "
                        "command again; files already written are complete, this one was not changed")


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj: Any, *, indent: int | None = 2) -> None:
    """Write ``obj`` as JSON (UTF-8, keys in given order) atomically."""
    write_text(path, json.dumps(obj, ensure_ascii=False, indent=indent) + "\n")


def write_csv(path: str | os.PathLike, df: pd.DataFrame) -> None:
    """Write ``df`` as CSV without the index, atomically."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)


def write_csv_parts(path: str | os.PathLike, frames: Iterable[pd.DataFrame]) -> None:
    """Write the frames one after the other as one CSV without the index, atomically: the file
    ``write_csv(path, pd.concat(frames))`` writes when the frames have the same columns and dtypes,
    without holding more than one frame. The header is the first frame's (``frames`` not empty)."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        first = True
        for df in frames:
            df.to_csv(fh, index=False, header=first)
            first = False
        if first:
            raise ValueError(f"{path}: no frame to write")


@dataclass(frozen=True)
class FrameParts:
    """A table given a piece at a time: ``frames()`` yields its rows as DataFrames with the same
    columns and dtypes, in order (at least one, maybe empty). ``pipeline.cli`` writes it with
    :func:`write_csv_parts`, so the whole table is never held at once."""

    frames: Callable[[], Iterable["pd.DataFrame"]]

    def concat(self) -> "pd.DataFrame":
        """The whole table (the pieces concatenated, index 0…n−1)."""
        import pandas as pd

        return pd.concat(list(self.frames()), ignore_index=True)


def write_parquet(path: str | os.PathLike, df: pd.DataFrame) -> None:
    """Write ``df`` as parquet without the index, atomically."""
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file; a missing or broken file is a :class:`SinergiError` naming it."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SinergiError(f"{path}: file not found") from None
    except json.JSONDecodeError as exc:
        raise SinergiError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def stable_ooxml(data: bytes, when: datetime) -> bytes:
    """Re-pack an Office Open XML file (xlsx, docx) with every zip entry dated ``when`` and the
    document's created/modified properties set to ``when``; entries keep their order."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    date_time = (max(when.year, 1980),) + tuple(when.timetuple()[1:6])
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)",
                              lambda m: m.group(1) + stamp + m.group(3), body)
            entry = zipfile.ZipInfo(info.filename, date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, body)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# reading files a user wrote

_NOTES: list[str] = []


def note(message: str) -> None:
    """Record a note about an input read in an unusual but exact way (printed after the run)."""
    if message not in _NOTES:
        _NOTES.append(message)


def take_notes() -> list[str]:
    """Return the notes recorded so far and forget them."""
    out = list(_NOTES)
    _NOTES.clear()
    return out


#: invisible characters refused anywhere in a user file (besides control characters)
_INVISIBLE = {"\u200b": "zero-width space", "\u200c": "zero-width non-joiner", "\u2060": "word joiner",
              "\ufeff": "byte order mark", "\u2028": "line separator", "\u2029": "paragraph separator",
              "\u00ad": "soft hyphen"}
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + "".join(_INVISIBLE) + "]")
#: bytes that Windows-1252 leaves undefined: a file holding them is not Windows-1252 text
_CP1252_HOLES = frozenset(b"\x81\x8d\x8f\x90\x9d")
SAVE_AS_UTF8 = "save it as UTF-8 (Notepad: File > Save as > Encoding UTF-8; Excel: CSV UTF-8)"


def _position(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line}, column {column}"


def decode(data: bytes, name: str = "file") -> tuple[str, str | None]:
    """Decode a user file's bytes; return ``(text, note)`` (``note`` is None for UTF-8).

    Parameters
    ----------
    data
        The file's bytes.
    name
        The file's name, for messages.

    Raises
    ------
    SinergiError
        For bytes that are neither UTF-8, UTF-16 with a BOM nor Windows-1252 text, and for control
        or invisible characters (naming the line and column).

    Examples
    --------
    >>> decode("Désa".encode("utf-8-sig"))
    ('Désa', None)
    >>> decode("Désa".encode("cp1252"), "a.csv")[1]
    'a.csv: not UTF-8; read as Windows-1252 (Latin-1) — line 1: Désa; if that looks wrong, save it as UTF-8 (Notepad: File > Save as > Encoding UTF-8; Excel: CSV UTF-8)'
    """
    found = None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise SinergiError(f"{name}: starts like UTF-16 but is not valid UTF-16; {SAVE_AS_UTF8}") from None
    elif b"\x00" in data:
        raise SinergiError(f"{name}: not a text file (it holds NUL bytes: an Excel workbook, or UTF-16 "
                           f"without a byte order mark?); {SAVE_AS_UTF8}")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if _CP1252_HOLES.intersection(data):
                raise SinergiError(f"{name}: not UTF-8 (byte 0x{data[exc.start]:02x} at "
                                   f"{_position(data.decode('latin-1'), exc.start)}) nor Windows-1252; "
                                   f"{SAVE_AS_UTF8}") from None
            text = data.decode("cp1252")
            i = next(i for i, c in enumerate(text) if ord(c) > 127)
            line = text.splitlines()[text.count("\n", 0, i)].strip()
            found = (f"{name}: not UTF-8; read as Windows-1252 (Latin-1) — line {text.count(chr(10), 0, i) + 1}: "
                     f"{line[:60]}; if that looks wrong, {SAVE_AS_UTF8}")
    text = text.removeprefix("\ufeff")
    bad = CONTROL.search(text)
    if bad:
        char = bad.group()
        what = _INVISIBLE.get(char, "control character")
        raise SinergiError(f"{name}: {_position(text, bad.start())}: invisible {what} U+{ord(char):04X}; "
                           "delete it (retype the value) and save again")
    return text, found


def read_bytes(path: str | os.PathLike, *, missing: str = "file not found",
               folder: str = "is a folder, not a file") -> bytes:
    """The bytes of a file the user named; a missing file, a folder or an unreadable file is a
    :class:`SinergiError` naming it (``missing`` and ``folder`` say what to do)."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SinergiError(f"{path}: {missing}") from None
    except IsADirectoryError:
        raise SinergiError(f"{path}: {folder}") from None
    except OSError as exc:
        raise SinergiError(f"{path}: cannot read ({exc.strerror})") from None


def read_text(path: str | os.PathLike) -> str:
    """Read a text file a user wrote (see :func:`decode`); a Windows-1252 file leaves a :func:`note`.

    Raises
    ------
    SinergiError
        A missing file, a folder, an unreadable file or text that :func:`decode` refuses.
    """
    path = Path(path)
    text, found = decode(read_bytes(path), str(path))
    if found:
        note(found)
    return text


# -- YAML ------------------------------------------------------------------------------------


def read_yaml(path: str | os.PathLike) -> Any:
    """Read a YAML file a user wrote.

    A key written twice in one mapping is refused (YAML would silently keep the last one), and a
    syntax error is one line naming the file, line and column.

    Raises
    ------
    SinergiError
        See :func:`read_text`, plus duplicate keys and YAML syntax errors.
    """
    import yaml

    path = Path(path)
    text = read_text(path)

    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the constructor reports it
                continue
            seen[key] = line
            if first is not None:
                also = "twice on that line" if first == line else f"twice (also line {first})"
                raise SinergiError(f"{path}: line {line}: key '{key}' is written {also}; "
                                   "YAML would silently keep only the last one, so delete one of them")
        return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

    Loader.add_constructor("tag:yaml.org,2002:map", mapping)
    try:
        return yaml.load(text, Loader=Loader)  # noqa: S506 — a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        hint = "; indent with spaces, not tabs" if "\\t" in problem or "tab" in problem else \
            "; check the indentation and the quotes on that line and the one before"
        raise SinergiError(f"{path}: not valid YAML{where}: {problem}{hint}") from None


# -- CSV -------------------------------------------------------------------------------------

_SEPARATORS = (",", ";", "\t")
_SEP_NAME = {",": "','", ";": "';'", "\t": "tab"}
_NUMBER_POINT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_NUMBER_COMMA = re.compile(r"[-+]?(\d+|\d{1,3}(\.\d{3})+)(,\d+)?")
_THOUSANDS_POINT = re.compile(r"[-+]?\d{1,3}(\.\d{3})+")
_THOUSANDS_COMMA = re.compile(r"[-+]?\d{1,3}(,\d{3})+")
_HAS_COMMA_DECIMAL = re.compile(r"[-+]?(\d+|\d{1,3}(\.\d{3})+),\d+")


@dataclass
class CsvFile:
    """A CSV file read by :func:`read_csv`.

    Attributes
    ----------
    frame
        Every value as text (pandas' ``str`` type; NaN for empty cells), spaces around values
        removed; the index is each row's line number in the file (header = line 1).
    path
        The file.
    separator
        ``","``, ``";"`` or ``"\\t"``.
    decimal
        ``","`` when the numbers use decimal commas (only in ``;`` or tab files), else ``"."``.
    """

    frame: "pd.DataFrame"
    path: Path
    separator: str
    decimal: str

    def numbers(self, column: str) -> tuple["pd.Series", "pd.Series"]:
        """``(values, bad)``: ``column`` as floats (NaN when empty) and a mask of cells that are
        not a finite number written with this file's decimal mark (``inf``, ``nan``, ``1,5`` in a
        decimal-point file, ``1.5`` in a decimal-comma file, ``Rp 500``).

        Each distinct text is read once (with Python's ``re`` and ``float``) and the results are
        spread over the rows."""
        import numpy as np
        import pandas as pd

        col = self.frame[column]
        codes, uniques = pd.factorize(col)
        # one slot more for the empty cells (code -1): NaN, not bad
        values = np.full(len(uniques) + 1, np.nan)
        bad = np.zeros(len(uniques) + 1, dtype=bool)
        for k, v in enumerate(uniques):
            values[k], bad[k] = self._number(v)
        return (pd.Series(values[codes], index=col.index, dtype=float),
                pd.Series(bad[codes], index=col.index, dtype=bool))

    def _number(self, value: str) -> tuple[float, bool]:
        """``(number, bad)`` for one non-empty cell (see :meth:`numbers`)."""
        import math

        if self._ambiguous(value):
            return math.nan, True
        if (_NUMBER_COMMA if self.decimal == "," else _NUMBER_POINT).fullmatch(value):
            if self.decimal == ",":
                value = value.replace(".", "").replace(",", ".")
            number = float(value)
            return number, not math.isfinite(number)
        return math.nan, True

    def _ambiguous(self, value: str) -> bool:
        """``1.500`` in a ``;`` or tab file without decimal commas: 1500 (Indonesian thousands) or 1.5?"""
        return self.separator != "," and self.decimal == "." and bool(_THOUSANDS_POINT.fullmatch(value))

    def number_hint(self, value: str) -> str:
        """What to write instead of ``value``, which is not a number in this file."""
        if self._ambiguous(value):
            return ("; it reads as thousands or as a decimal: write the digits only (1500000), or a decimal "
                    "with a comma (2,5)")
        if self.separator == "," and _THOUSANDS_COMMA.fullmatch(value):
            return ("; it reads as thousands or as a decimal: write the digits only (1500000), or a decimal "
                    "with a point (2.5)")
        if self.decimal == "," and _NUMBER_POINT.fullmatch(value):
            return "; this file writes decimals with a comma (2,5), so write it that way"
        if self.decimal == "." and _HAS_COMMA_DECIMAL.fullmatch(value):
            return "; write decimals with a point (2.5), or save the file with ';' separators"
        if _THOUSANDS_POINT.fullmatch(value) or _THOUSANDS_COMMA.fullmatch(value):
            return "; write it without thousands separators (1500000)"
        if value.lower().lstrip("+-") in ("inf", "infinity", "nan"):
            return "; write a finite number, or leave the cell empty when unknown"
        return "; write digits only (no Rp, spaces or units)"


def _unique_names(path: Path, header: list[str]) -> None:
    for name in header:
        if name and header.count(name) > 1:
            where = [str(j + 1) for j, n in enumerate(header) if n == name]
            raise SinergiError(f"{path}: column '{name}' appears {len(where)} times in the header (columns "
                               f"{', '.join(where)}); rename or delete the extra one")


def _line_breaks(text: str, start: int, end: int) -> int:
    """Line breaks (``\\n``, ``\\r\\n`` or a lone ``\\r``) in ``text[start:end]``."""
    return text.count("\n", start, end) + text.count("\r", start, end) - text.count("\r\n", start, end)


def _one_line_ends(text: str) -> str:
    """``text`` with every line break written ``\\n`` (the only other breaks, such as U+2028, are
    refused by :func:`decode`)."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _checked_records(text: str, sep: str, path: Path) -> Iterator[tuple[int, list[str]]]:
    """The strict reading of a CSV text: ``(line, record)`` for the header (the first record with a
    value; its names stripped) and then for every row that has a value, ``line`` being the line on
    which the record starts (nothing for a text of only spaces and separators).

    Raises
    ------
    SinergiError
        A column name written twice, a row whose number of values differs from the header's, or a
        quoting error (with the row's line).
    """
    import csv

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    width = -1
    start = 1
    try:
        for record in reader:
            if any(c.strip() for c in record):
                if width < 0:
                    header = [c.strip() for c in record]
                    _unique_names(path, header)
                    width = len(header)
                    yield start, header
                elif len(record) != width:
                    raise SinergiError(
                        f"{path}: row {start}: {len(record)} values but the header has {width} columns; "
                        f"a value that contains {_SEP_NAME[sep]} must be in double quotes")
                else:
                    yield start, record
            start = reader.line_num + 1
    except csv.Error as exc:
        raise SinergiError(f"{path}: row {start}: cannot read ({exc}); check the double quotes on that line") from None


def _strict_rows(text: str, sep: str, path: Path, chunk: int = 1 << 16) -> "pd.DataFrame":
    """Every record of :func:`_checked_records` (header first) as a frame of text (columns by
    position, index = line): the reference reading. Rows are gathered ``chunk`` at a time and each
    chunk's columns turned into pandas text arrays, so no list of every row is ever held."""
    import array

    import pandas as pd

    lines = array.array("q")
    rows: list[list[str]] = []
    parts: list[list["pd.Series"]] = []

    def flush() -> None:
        parts.append([pd.Series(pd.array(col, dtype="str")) for col in zip(*rows)])
        rows.clear()

    for line, record in _checked_records(text, sep, path):
        lines.append(line)
        rows.append(record)
        if len(rows) == chunk:
            flush()
    if rows:
        flush()
    if not parts:  # only spaces and separators: no header
        return pd.DataFrame(index=pd.Index([], dtype="int64"))
    index = pd.Index(lines, dtype="int64")
    return pd.DataFrame({k: pd.concat([p[k] for p in parts], ignore_index=True).set_axis(index)
                         for k in range(len(parts[0]))})


def nonempty_lines(data: bytes, chunk: int = 1 << 23) -> "np.ndarray":
    """The 0-based numbers of the lines of ``data`` (ended by ``\\n``; the last one may lack it)
    that are not empty, found ``chunk`` bytes at a time."""
    import numpy as np

    whole = np.frombuffer(data, dtype=np.uint8)
    ends = np.concatenate([np.flatnonzero(whole[at:at + chunk] == 10) + at
                           for at in range(0, whole.size, chunk)] or [np.zeros(0, dtype=np.intp)])
    if not data.endswith(b"\n"):
        ends = np.append(ends, whole.size)
    starts = np.concatenate([[0], ends[:-1] + 1])
    return np.flatnonzero(ends > starts)


def _fast_rows(data: bytes, sep: str, first_line: int) -> "pd.DataFrame | None":
    """The records of a CSV text without double quotes (so one record per line; ``data`` is its
    UTF-8), parsed by pyarrow's CSV reader as text: one row per non-empty line from
    ``first_line`` (1-based; ``data`` starts there, line breaks written ``\\n``), indexed by
    line. None when a line has another number of values than the first (pyarrow refuses it; the
    strict reading then decides: a blank line of any width is skipped there, any other is named)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    width = data[:data.find(b"\n") if b"\n" in data else len(data)].count(sep.encode()) + 1
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(data),
            read_options=pa_csv.ReadOptions(autogenerate_column_names=True),
            parse_options=pa_csv.ParseOptions(delimiter=sep, quote_char=False, escape_char=False,
                                              newlines_in_values=False, ignore_empty_lines=True),
            # large_string, as pandas' own text columns (the parquet files come out the same), parsed
            # as such: no second copy of the text by a cast
            convert_options=pa_csv.ConvertOptions(column_types={f"f{k}": pa.large_string() for k in range(width)},
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid:
        return None
    empty_lines = data.startswith(b"\n") or b"\n\n" in data
    lines = nonempty_lines(data) if empty_lines else np.arange(table.num_rows)
    if table.num_columns != width or table.num_rows != lines.size:
        return None
    text_type = pd.StringDtype("pyarrow", na_value=np.nan)
    index = pd.Index(lines + first_line, dtype="int64")
    return pd.DataFrame({k: pd.Series(table.column(k).to_pandas(
        types_mapper={pa.large_string(): text_type}.get), copy=False).set_axis(index) for k in range(width)})


def read_csv(path: str | os.PathLike, expect: str = "", *, strict: bool = False) -> CsvFile:
    """Read a CSV file a user wrote, every value as text.

    The file is decoded once (:func:`read_text`). A file without double quotes (one record per
    line) is split by pyarrow's CSV reader into text columns, with quoting off. A file with
    double quotes, or one with a line of the wrong number of values, is read by the strict reader
    (the ``csv`` module with ``strict=True``, columns built a chunk of rows at a time), which also
    names the line of any error. Both end in the same frame (:func:`_frame`), so what is read never
    depends on the route.

    Parameters
    ----------
    path
        The file.
    expect
        The header the file should have (e.g. ``"respondent_id,wave,group"``), named in the message
        for an empty file.
    strict
        Read with the strict Python reader only (the reference the fast reading must equal; for
        tests and for comparing).

    Returns
    -------
    CsvFile
        The values as text (a column of pandas' ``str`` type, NaN for an empty cell), indexed by
        line.

    Raises
    ------
    SinergiError
        One line naming the file and the line: see the module docstring for the rules.
    """
    import csv

    path = Path(path)
    text = read_text(path)
    first = re.search(r"\S", text)
    if first is None:
        wanted = f" ({expect})" if expect else ""
        raise SinergiError(f"{path}: the file is empty; it needs a header line{wanted} and one row per line")
    start = max(text.rfind("\n", 0, first.start()), text.rfind("\r", 0, first.start())) + 1
    header_at = _line_breaks(text, 0, start)  # 0-based line of the header
    end = min((i for i in (text.find("\n", start), text.find("\r", start)) if i >= 0), default=len(text))
    head = text[start:end]
    declared = re.fullmatch(r'"?sep=(.)"?', head.strip())
    if declared:  # Excel's "sep=;" first line: use it
        sep = declared.group(1)
        if sep not in _SEPARATORS:
            raise SinergiError(f"{path}: line {header_at + 1}: separator {sep!r} is not ',', ';' or tab")
        # the line is emptied (line breaks written \n, as the strict reader always did here); the
        # header is read from the next line
        # (each side on its own: a lone \r before the line and the \n after it stay two breaks)
        before, after = _one_line_ends(text[:start]), _one_line_ends(text[end:])
        body_at = len(before) + 1 if after else len(before)
        text = before + after
        body_line = header_at + 2
        note(f"{path}: line {header_at + 1} 'sep={sep}' (written by Excel) names the separator; the header is the next line")
    else:
        counts = {sep: len(next(csv.reader([head], delimiter=sep))) - 1 for sep in _SEPARATORS}
        sep = max(_SEPARATORS, key=lambda s: counts[s])  # ties keep the first: ','
        body_at, body_line = start, header_at + 1
    raw = None
    if not strict and '"' not in text:  # no quoting: one record per line
        # hand over the text as UTF-8 bytes and hold only those while pyarrow parses them
        before, data = text[:body_at], _one_line_ends(text[body_at:]).encode("utf-8")
        del text
        raw = _fast_rows(data, sep, body_line)
        # (line breaks written \n: the same records, since without quotes no value holds one)
        text = before + data.decode("utf-8") if raw is None else ""
        del data
    if raw is None:
        raw = _strict_rows(text, sep, path)
    del text
    return _frame(path, raw, sep, expect)


def _frame(path: Path, raw: "pd.DataFrame", sep: str, expect: str = "") -> CsvFile:
    """The :class:`CsvFile` from the records ``raw`` (columns by position, index = line, rows before
    the header and blank rows allowed): the header is the first row with a value; values are
    stripped (with a note), empty ones made NaN, rows without any value dropped, unnamed columns
    refused when they hold values and dropped otherwise, decimal commas detected.

    Each column is factorised, so every rule on the text runs once per distinct value in Python
    (exactly as the strict reader ran it per cell) and the results are spread back with the codes.
    """
    import numpy as np
    import pandas as pd

    codes: list[np.ndarray] = []
    values: list[list[str]] = []
    changed: list[np.ndarray] = []
    blank = np.ones(len(raw), dtype=bool)
    for k in range(raw.shape[1]):
        code, uniques = pd.factorize(raw.iloc[:, k])
        clean = [u.strip() for u in uniques]
        codes.append(code.astype(np.int32))
        values.append(clean)
        changed.append(np.fromiter((c != u for c, u in zip(clean, uniques)), dtype=bool, count=len(clean)))
        blank &= np.fromiter((c == "" for c in clean), dtype=bool, count=len(clean))[code]
    kept = np.flatnonzero(~blank)
    if kept.size == 0:  # only spaces and separators
        wanted = f" ({expect})" if expect else ""
        raise SinergiError(f"{path}: the file is empty; it needs a header line{wanted} and one row per line")
    header = [values[k][codes[k][kept[0]]] for k in range(raw.shape[1])]
    _unique_names(path, header)
    rows = kept[1:]
    lines = raw.index.to_numpy()[rows]
    index = pd.Index(lines, dtype="int64", name="line")
    contiguous = rows.size == 0 or int(rows[-1] - rows[0]) + 1 == rows.size
    columns: list[pd.Series] = []
    stripped, first_note = 0, ""
    for k in range(raw.shape[1]):
        code = codes[k][rows]
        moved = changed[k][code]
        n_moved = int(moved.sum())
        if n_moved:
            stripped += n_moved
            if not first_note:
                i = int(np.flatnonzero(moved)[0])
                first_note = (f" (first: row {int(lines[i])}, column {header[k] or '?'}: "
                              f"{raw.iloc[int(rows[i]), k]!r})")
        clean = values[k]
        empty = np.fromiter((c == "" for c in clean), dtype=bool, count=len(clean))[code]
        if not n_moved and not empty.any() and contiguous:  # the parsed column as it is
            col = raw.iloc[rows[0]:rows[0] + rows.size, k].array if rows.size else pd.array([], dtype="str")
        else:
            code = np.where(empty, -1, code)
            col = pd.array(clean, dtype="str").take(code, allow_fill=True)
        columns.append(pd.Series(col, index=index, copy=False))
        codes[k] = code
    del raw
    if stripped:
        note(f"{path}: removed spaces around {stripped} value(s){first_note}")
    for k, name in enumerate(header):
        if name == "" and (codes[k] >= 0).any():
            line = int(lines[np.flatnonzero(codes[k] >= 0)[0]])
            raise SinergiError(f"{path}: column {k + 1} has no name in the header but has values "
                               f"(first: row {line}); give it a name or delete it")
    named = [k for k, name in enumerate(header) if name != ""]
    if len(named) < len(header):
        note(f"{path}: ignored {len(header) - len(named)} empty column(s) without a name (a separator at the end "
             "of each line)")
    frame = pd.DataFrame({header[k]: columns[k] for k in named}, index=index)
    return CsvFile(frame=frame, path=path, separator=sep, decimal=_decimal_mark(path, sep, named, values, codes))


def _decimal_mark(path: Path, sep: str, named: list[int], values: list[list[str]], codes: list) -> str:
    """``","`` when a file not separated by commas writes a kept value with a decimal comma (with a note),
    else ``"."``; ``values[k]`` are column ``k``'s distinct stripped values, ``codes[k]`` its rows' codes
    into them (-1: empty)."""
    import numpy as np

    if sep == ",":
        return "."
    for k in named:
        hits = [j for j, v in enumerate(values[k]) if v and _HAS_COMMA_DECIMAL.fullmatch(v)]
        if hits:
            at = np.flatnonzero(np.isin(codes[k], hits))
            if at.size:
                sample = values[k][codes[k][at[0]]]
                note(f"{path}: {_SEP_NAME[sep]}-separated with decimal commas (e.g. {sample!r}); "
                     "numbers read with ',' as the decimal mark and '.' between thousands")
                return ","
    return "."


# -- the study id, for Make ------------------------------------------------------------------

#: what a study id may look like (it names folders and Make targets)
STUDY_ID_RE = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_ID_LINE = re.compile(r"id:(?:[ \t]+(?P<value>.*?))?[ \t]*(?:[ \t]#.*)?")


def study_id(text: str, name: str = "study file") -> str:
    """The study id from a study file's text: its one top-level ``id:`` line.

    The value may be quoted and followed by a ``# comment``. This is how Make reads the id;
    :func:`pipeline.config.load_study` refuses a study whose YAML says otherwise.

    Raises
    ------
    SinergiError
        No ``id:`` line, two of them, or a value that is not a valid id.

    Examples
    --------
    >>> study_id("title: x\\nid: 'my-study'   # the folder name\\n")
    'my-study'
    """
    found = []
    for n, line in enumerate(text.splitlines(), start=1):
        m = _ID_LINE.fullmatch(line.rstrip())
        if m:
            found.append((n, (m.group("value") or "").strip()))
    if not found:
        raise SinergiError(f"{name}: no top-level 'id:' line (write `id: my-study` at the start of a line)")
    if len(found) > 1:
        raise SinergiError(f"{name}: 'id:' is written twice (lines {found[0][0]} and {found[1][0]}); keep one")
    line, value = found[0]
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    if not re.match(STUDY_ID_RE, value):
        raise SinergiError(f"{name}: line {line}: id = {value!r}: use lower-case letters, digits, '-' or '_' "
                           "(it names folders), on the same line as 'id:'")
    return value


def make_list(paths: list[Path] | list[str]) -> str:
    """``paths`` as one line of Make prerequisites, each escaped for Make (``\\ `` for a space,
    ``$$`` for ``$``, ``\\#``, ``\\:``).

    >>> make_list(["/data/my study/a.csv", "/x/b$1.csv"])
    '/data/my\\\\ study/a.csv /x/b$$1.csv'
    """
    def one(p) -> str:
        text = str(p).replace("$", "$$")
        for ch in (" ", "#", ":"):
            text = text.replace(ch, "\\" + ch)
        return text

    return " ".join(one(p) for p in paths)


def _main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "study-id":
        print("usage: python3 -S -m pipeline.io study-id STUDY_FILE", file=sys.stderr)
        return 2
    try:
        path = Path(argv[1])
        if not path.exists():
            raise SinergiError(f"study file not found: {path} (set STUDY=path/to/study.yaml)")
        print(study_id(read_text(path), str(path)))
    except SinergiError as exc:
        print(f"sinergi: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
