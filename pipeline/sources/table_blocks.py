"""The ``tables`` source read in blocks: :func:`pipeline.sources.tables.read_tables`' tables and
errors with memory flat in the number of villages.

``responses.csv`` and ``ties.csv`` (the large files: ≈ 28 answers and ≈ 10 nominations per
respondent and wave) are read ``block_bytes`` at a time (:class:`BlockCsv`); each block is checked
with the same rules and messages as the whole-file reading, its rows reduced to numbers (the
respondent × wave row they belong to, the item or tie type, the alter, the value or weight, the
CSV line) and spilled, one Arrow record batch per village, to a temporary Arrow IPC file under the
processed folder (:class:`Spill`). ``respondents.csv`` and ``scales.csv`` are read whole as before
(the respondents are the study's sample: ≈ 1/28 of the answers).

The checks stay those of the whole-file reading, study-wide and in its order: each check has a rank
(its place in :func:`pipeline.sources.tables.read_tables`' sequence), every block runs the checks
ranked below the first failure found so far (:class:`First`), and the error raised after the last
block is the failure of the lowest rank, at its first row: the error the whole-file reading raises,
naming the CSV's own line. The study-wide state is compact (bytes per respondent × wave, ``n``
respondent-waves, ``k`` scale items): the answered (item) bitmap for duplicate answers (``k``), the
said/named/answer-count arrays (≈ 10), the (id, wave) → row table (8 per id × wave), the ids and
their pseudonyms as Arrow text (≈ 30 per id); plus the ids named that are no respondent.

A file this reader does not read exactly as :func:`pipeline.io.read_csv` would — double quotes,
``;`` or tab separators, another encoding than UTF-8, spaces around values, a row of another width,
control characters, a missing file, a table without rows — raises :class:`NotSimple` before any
output exists, and the caller reads the study the whole-file way (which then names any problem).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from .. import schemas
from ..config import Study
from ..partitions import SiteFrames
from ..errors import SinergiError
from ..io import CONTROL, CsvFile, nonempty_lines
from ..pseudonym import check_collisions, pseudonym_width, pseudonymizer, read_key
from ..schemas import TABLE_COLUMNS, quality_row
from . import tables as T

#: bytes of a CSV read at once (the peak of reading grows with it: ≈ 10 × in the block's frames)
BLOCK_BYTES = 16 << 20
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)
_EDGE_SPACE = re.compile(r"(?m)(?:^|,)[^\S\n]|[^\S\n](?:,|$)")


def _ascii_unusual(data: bytes) -> bool:
    r"""Whether ASCII ``data`` (whole lines) holds a control character (other than tab and the line
    ends) or a space or tab at the start or end of a value (which the whole-file reader strips, with
    a note).

    >>> _ascii_unusual(b"a,b c\n"), _ascii_unusual(b"a, b\n"), _ascii_unusual(b"a,b\x07\n")
    (False, True, True)
    """
    x = np.frombuffer(data, dtype=np.uint8)
    if (((x < 32) & (x != 9) & (x != 10)) | (x == 127)).any():
        return True
    at = np.flatnonzero((x == 32) | (x == 9))
    if not at.size:
        return False
    before = np.where(at > 0, x[np.maximum(at - 1, 0)], 10)
    after = np.where(at + 1 < x.size, x[np.minimum(at + 1, x.size - 1)], 10)
    return bool(np.isin(before, (44, 10)).any() or np.isin(after, (44, 10)).any())


class NotSimple(Exception):
    """A file the block reader does not read exactly as the whole-file reader: read it whole."""


# --------------------------------------------------------------------------------------------
# reading a CSV in blocks


class BlockCsv:
    """A comma-separated UTF-8 CSV without quotes read in blocks of about ``block_bytes``.

    ``columns`` is the header; :meth:`blocks` yields :class:`pipeline.io.CsvFile` s of consecutive
    rows, each what :func:`pipeline.io.read_csv` gives for those rows (text values, empty cells
    NaN, rows without a value left out, indexed by their line in the file, header = line 1).

    Raises
    ------
    NotSimple
        For anything else (see the module's docstring), when opened or while reading.
    """

    def __init__(self, path: Path, block_bytes: int = BLOCK_BYTES):
        self.path, self.block_bytes = Path(path), max(int(block_bytes), 1)
        if not self.path.is_file():
            raise NotSimple(f"{path}: missing")
        with open(self.path, "rb") as f:
            head = f.read(1 << 16)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise NotSimple("UTF-16")
        self.skip = 3 if head.startswith(b"\xef\xbb\xbf") else 0
        end = head.find(b"\n", self.skip)
        if end < 0:
            raise NotSimple("no line end in the first 64 kB")
        line = head[self.skip:end]
        self._check(line)
        text = line.decode("utf-8")
        counts = {sep: text.count(sep) for sep in (",", ";", "\t")}
        if max(counts.values()) > counts[","] or re.fullmatch(r'"?sep=(.)"?', text.strip()):
            raise NotSimple("not comma-separated")
        names = text.split(",")
        if any(not n or n != n.strip() for n in names) or len(set(names)) < len(names):
            raise NotSimple("header")
        self.columns = names
        self.body = self.skip + end + 1
        self.decimal, self.separator = ".", ","

    def _check(self, data: bytes) -> None:
        """Refuse (NotSimple) bytes the whole-file reader would read differently, or refuse."""
        if b'"' in data or b"\r" in data:
            raise NotSimple("quotes or \\r")
        if data.isascii():
            if _ascii_unusual(data):
                raise NotSimple("control character or spaces")
            return
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise NotSimple("not UTF-8") from None
        if CONTROL.search(text) or _EDGE_SPACE.search(text):
            raise NotSimple("control character or spaces")

    def frame(self, rows: pd.DataFrame) -> CsvFile:
        return CsvFile(frame=rows, path=self.path, separator=",", decimal=".")

    def empty(self) -> CsvFile:
        """A block without rows: the header's columns (for the header's checks)."""
        return self.frame(pd.DataFrame({c: pd.Series([], dtype=TEXT) for c in self.columns},
                                       index=pd.Index([], dtype="int64", name="line")))

    def blocks(self) -> Iterator[CsvFile]:
        line = 2  # the line the next block starts on
        carry = b""
        with open(self.path, "rb") as f:
            f.seek(self.body)
            while True:
                chunk = f.read(self.block_bytes)
                data = carry + chunk
                if not chunk:
                    if data:
                        yield from self._parse(data if data.endswith(b"\n") else data + b"\n", line)
                    return
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    carry = data
                    continue
                data, carry = data[:cut], data[cut:]
                for block in self._parse(data, line):
                    yield block
                line += data.count(b"\n")

    def _parse(self, data: bytes, line: int) -> Iterator[CsvFile]:
        self._check(data)
        width = len(self.columns)
        names = [f"f{k}" for k in range(width)]
        try:
            table = pa_csv.read_csv(
                pa.py_buffer(data),
                read_options=pa_csv.ReadOptions(column_names=names),
                parse_options=pa_csv.ParseOptions(delimiter=",", quote_char=False, escape_char=False,
                                                  newlines_in_values=False, ignore_empty_lines=True),
                convert_options=pa_csv.ConvertOptions(column_types={n: pa.large_string() for n in names},
                                                      strings_can_be_null=False, quoted_strings_can_be_null=False))
        except pa.ArrowInvalid:
            raise NotSimple("a row of another width") from None
        empty_lines = data.startswith(b"\n") or b"\n\n" in data
        lines = nonempty_lines(data) if empty_lines else np.arange(table.num_rows)
        if table.num_columns != width or table.num_rows != lines.size:
            raise NotSimple("a row of another width")
        cols = [pc.if_else(pc.equal(table.column(k), ""), pa.scalar(None, pa.large_string()), table.column(k))
                for k in range(width)]
        filled = np.zeros(table.num_rows, dtype=bool)
        for c in cols:
            filled |= c.is_valid().to_numpy(zero_copy_only=False)
        keep = np.flatnonzero(filled)
        index = pd.Index(lines[keep] + line, dtype="int64", name="line")
        if keep.size < table.num_rows:
            cols = [c.take(pa.array(keep)) for c in cols]
        frame = pd.DataFrame({name: pd.Series(c.to_pandas(types_mapper={pa.large_string(): TEXT}.get), copy=False)
                              .set_axis(index) for name, c in zip(self.columns, cols)}, index=index)
        if len(frame):
            yield self.frame(frame)


# --------------------------------------------------------------------------------------------
# the first failure, in the whole-file reading's order


class First:
    """The failure the whole-file reading raises: the lowest-ranked check that fails, at its first
    row (blocks come in the file's order, so the first block failing a check holds its first row)."""

    def __init__(self):
        self.rank: float = np.inf
        self.error: SinergiError | Callable[[], SinergiError] | None = None

    def run(self, rank: int, fn: Callable, *args, **kwargs) -> tuple[bool, Any]:
        """``(True, fn(...))``; ``(False, None)`` when ``fn`` raised (recorded) or a check ranked at or
        below ``rank`` failed already (then this one does not matter)."""
        if rank >= self.rank:
            return False, None
        try:
            return True, fn(*args, **kwargs)
        except SinergiError as exc:
            self.rank, self.error = rank, exc
            return False, None

    def record(self, rank: int, error: SinergiError | Callable[[], SinergiError]) -> None:
        if rank < self.rank:
            self.rank, self.error = rank, error

    @property
    def clean(self) -> bool:
        return self.error is None

    def raise_first(self) -> None:
        if self.error is not None:
            raise self.error() if callable(self.error) else self.error


# ranks: the order of the checks in pipeline.sources.tables.read_tables
(R_GROUP_COL, R_NEED_RESP, R_NEED_ANS, R_FILLED_ANS, R_NEED_TIES, R_FILLED_TIES, R_NEED_SCALES, R_EMPTY,
 R_WAVE_RESP, R_WAVE_ANS, R_WAVE_TIES, R_RESPONDENTS, R_SCALES, R_VALUE, R_ITEM, R_RANGE, R_DUP, R_ORPHAN,
 R_WEIGHT, R_WEIGHT_RANGE, R_ABSENT, R_TIE_TYPE, R_STRAY, R_COLLISION) = range(24)


# --------------------------------------------------------------------------------------------
# spilling rows a village at a time


class Spill:
    """Rows of one table spilled to an Arrow IPC file, one record batch per (block, village)."""

    def __init__(self, path: Path, schema: pa.Schema, villages: int):
        self.path, self.schema = path, schema
        self.batches: list[list[int]] = [[] for _ in range(villages)]
        self.rows = np.zeros(villages, dtype=np.int64)
        self._sink = pa.OSFile(str(path), "wb")
        self._writer = pa.ipc.new_file(self._sink, schema)
        self._n = 0
        self._reader = None

    def add(self, village: np.ndarray, columns: dict[str, np.ndarray]) -> None:
        """Rows (in line order) with their village codes."""
        order = np.argsort(village, kind="stable")
        v = village[order]
        cut = np.flatnonzero(np.diff(v)) + 1
        starts, ends = np.concatenate([[0], cut]), np.concatenate([cut, [v.size]])
        batch = pa.record_batch([pa.array(columns[n][order]) for n in self.schema.names], schema=self.schema)
        for s, e in zip(starts, ends):
            if e > s:
                self._writer.write_batch(batch.slice(int(s), int(e - s)))
                self.batches[int(v[s])].append(self._n)
                self.rows[int(v[s])] += int(e - s)
                self._n += 1

    def close(self) -> None:
        """Finish writing (reading opens the file again), or stop reading."""
        if self._writer is not None:
            self._writer.close()
            self._sink.close()
            self._writer = None
        elif self._reader is not None:
            self._reader = None
            self._source.close()

    def village(self, v: int) -> dict[str, np.ndarray]:
        """Village ``v``'s rows in line order, as numpy arrays by column."""
        if self._writer is not None:
            self.close()
        if self._reader is None:
            self._source = pa.OSFile(str(self.path), "rb")  # read, not mapped: only the batches read are held
            self._reader = pa.ipc.open_file(self._source)
        parts = [self._reader.get_batch(i) for i in self.batches[v]]
        if not parts:
            return {n: np.zeros(0, dtype=t.to_pandas_dtype()) for n, t in zip(self.schema.names, self.schema.types)}
        table = pa.Table.from_batches(parts, schema=self.schema)
        return {n: table.column(n).to_numpy() for n in self.schema.names}


ANSWERS = pa.schema([("row", pa.int32()), ("item", pa.int16()), ("value", pa.float64()), ("line", pa.int64())])
NOMINATIONS = pa.schema([("row", pa.int32()), ("tie_type", pa.int16()), ("alter", pa.int32()),
                         ("weight", pa.float64()), ("line", pa.int64())])


# --------------------------------------------------------------------------------------------
# the study read in blocks


@dataclass
class Blocks:
    """A tables study read in blocks (:func:`read_in_blocks`).

    Attributes
    ----------
    respondents : the respondents table (``respondent_id`` pseudonymised, ``wave``, ``group``,
        ``site``, the typed covariates), not yet validated, one row per respondents.csv row in the
        file's order (the rows the other attributes' "per respondents row" count).
    said, named : per respondents row: an item answered (a value); a nomination made (not of oneself).
    answers : per respondents row: its rows in responses.csv.
    quality : the quality rows (respondents' columns held back, then the ties': self-nominations,
        duplicates, nominations of non-respondents), :func:`pipeline.schemas.quality_row`.
    scale_map : the validated scale map with its label columns.
    """

    respondents: pd.DataFrame
    said: np.ndarray
    named: np.ndarray
    answers: np.ndarray
    quality: list[dict]
    scale_map: pd.DataFrame
    waves: list[str]
    village_of: np.ndarray  # per respondents row: its village's code
    villages: list[str]
    wave_of: np.ndarray  # per respondents row: its wave's code (into ``waves``)
    pseudonyms: pa.Array  # per id code: respondents' ids (in order of appearance), then the other alters
    id_of: np.ndarray  # per respondents row: its id's code
    items: list[str]
    tie_types: list[str]
    answers_spill: Spill
    ties_spill: Spill

    def responses(self, keep: np.ndarray) -> SiteFrames:
        """The responses of the respondents rows where ``keep``, a village at a time, in the canonical
        order (:func:`pipeline.order.canonical_order`; the villages in the order their first row comes).

        Returns
        -------
        pipeline.partitions.SiteFrames
            Per village: ``respondent_id`` (pseudonym), ``wave``, ``item``, ``value`` (float, NaN unanswered).
        """

        has = keep & (self.answers > 0)
        ranks = self._ranks()
        key = self.wave_of.astype(np.int64) * len(ranks) + ranks[self.id_of]
        first = np.full(len(self.villages), np.iinfo(np.int64).max)
        np.minimum.at(first, self.village_of[has], key[has])
        order = [int(v) for v in np.argsort(first, kind="stable") if first[v] < np.iinfo(np.int64).max]

        item_rank = _text_rank(self.items)

        def frames():
            for v in order:
                a = self.answers_spill.village(v)
                kept = keep[a["row"]]
                rows = a["row"][kept]
                df = pd.DataFrame({
                    "respondent_id": self._text(self.pseudonyms, self.id_of[rows]),
                    "wave": self._text(pa.array(self.waves, pa.large_string()), self.wave_of[rows]),
                    "item": self._text(pa.array(self.items, pa.large_string()), a["item"][kept]),
                    "value": a["value"][kept]})
                # canonical_order("responses", df, waves), from the codes: wave, respondent_id, item, value
                yield df.iloc[_order(self.wave_of[rows], ranks[self.id_of[rows]], item_rank[a["item"][kept]],
                                     a["value"][kept])].reset_index(drop=True)

        return SiteFrames([self.villages[v] for v in order], frames)

    def ties(self) -> SiteFrames:
        """The ties (without self-nominations and duplicates), a village at a time, in the canonical order.

        Returns
        -------
        pipeline.partitions.SiteFrames
            Per village (by name): ``site``, ``wave``, ``tie_type``, ``ego``, ``alter`` (pseudonyms),
            ``weight`` (float, NaN unknown).
        """

        order = sorted((v for v in range(len(self.villages)) if self.ties_spill.rows[v]), key=lambda v: self.villages[v])
        ranks, type_rank = self._ranks(), _text_rank(self.tie_types)

        def frames():
            for v in order:
                t = self.ties_spill.village(v)
                kept = ~self._duplicates(t)
                rows = t["row"][kept]
                df = pd.DataFrame({
                    "site": pd.array(np.full(kept.sum(), self.villages[v], dtype=object), dtype=TEXT),
                    "wave": self._text(pa.array(self.waves, pa.large_string()), self.wave_of[rows]),
                    "tie_type": self._text(pa.array(self.tie_types, pa.large_string()), t["tie_type"][kept]),
                    "ego": self._text(self.pseudonyms, self.id_of[rows]),
                    "alter": self._text(self.pseudonyms, t["alter"][kept]),
                    "weight": t["weight"][kept]})
                # canonical_order("ties", df, waves), from the codes: (site,) wave, tie_type, ego, alter, weight
                yield df.iloc[_order(self.wave_of[rows], type_rank[t["tie_type"][kept]], ranks[self.id_of[rows]],
                                     ranks[t["alter"][kept]], t["weight"][kept])].reset_index(drop=True)

        return SiteFrames([self.villages[v] for v in order], frames)

    def _ranks(self) -> np.ndarray:
        """Each id code's place when the pseudonyms are sorted as text (code point order, as Python's)."""
        rank = np.empty(len(self.pseudonyms), dtype=np.int64)
        rank[pc.sort_indices(self.pseudonyms).to_numpy()] = np.arange(len(self.pseudonyms))
        return rank

    def _duplicates(self, t: dict[str, np.ndarray]) -> np.ndarray:
        """Nominations already made (same ego and wave, tie type, alter), in line order: keep the first."""
        key = (t["row"].astype(np.int64) * max(len(self.tie_types), 1) + t["tie_type"]) * len(self.pseudonyms) + t["alter"]
        return pd.Series(key).duplicated().to_numpy()

    @staticmethod
    def _text(values: pa.Array, codes: np.ndarray) -> pd.Series:
        return pd.Series(values.take(pa.array(np.asarray(codes, dtype=np.int64))).to_pandas(
            types_mapper={pa.large_string(): TEXT}.get), copy=False)

    def close(self) -> None:
        """Close the spill files (the caller removes their folder)."""
        self.answers_spill.close()
        self.ties_spill.close()


def _text_rank(names: list[str]) -> np.ndarray:
    """Each name's place when ``names`` are sorted as text."""
    rank = np.empty(len(names), dtype=np.int64)
    rank[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
    return rank


def _order(*keys: np.ndarray) -> np.ndarray:
    """The stable sort by ``keys`` (the first first; numbers with NaN last): what
    :func:`pipeline.order.canonical_order` gives for the columns these codes rank."""
    last = np.asarray(keys[-1], dtype=float)
    keys = (*keys[:-1], np.where(np.isnan(last), np.inf, last))
    return np.lexsort(keys[::-1])


def read_in_blocks(study: Study, raw_dir: Path, spill_dir: Path, block_bytes: int = BLOCK_BYTES) -> Blocks:
    """Read a ``tables`` study's CSVs in blocks, spilling responses and ties under ``spill_dir``.

    Returns
    -------
    Blocks
        The respondents, the scale map, the quality rows and the spilled responses and ties.

    Raises
    ------
    SinergiError
        The error :func:`pipeline.sources.tables.read_tables` raises for the same files.
    NotSimple
        A file to read the whole-file way (nothing is written but the spill files).
    """
    folder = Path(raw_dir) / "tables"
    try:
        return _read(study, Path(raw_dir), folder, Path(spill_dir), block_bytes)
    except SinergiError as exc:
        raise T.pointed(study, folder, exc) from None


def _read(study: Study, raw_dir: Path, folder: Path, spill_dir: Path, block_bytes: int) -> Blocks:
    if not study.tie_types or not (folder / "ties.csv").is_file():
        raise NotSimple("a study without ties")  # small: the whole-file reading
    try:
        respondents = T.read_table_csv(folder / "respondents.csv")
        answers_csv = BlockCsv(folder / "responses.csv", block_bytes)
        scales = T.read_table_csv(folder / "scales.csv")
        ties_csv = BlockCsv(folder / "ties.csv", block_bytes)
    except SinergiError:
        raise NotSimple("a file the whole-file reading refuses") from None
    first = First()
    quality: list[dict] = []
    ok, group_col = first.run(R_GROUP_COL, T.group_column, study, respondents)
    if ok:
        first.run(R_NEED_RESP, T.need_columns, respondents, ["respondent_id", "wave", group_col],
                  filled=["respondent_id", "wave", group_col])
    first.run(R_NEED_ANS, T.need_columns, answers_csv.empty(), TABLE_COLUMNS["responses"])
    first.run(R_NEED_TIES, T.need_columns, ties_csv.empty(), TABLE_COLUMNS["ties"])
    first.run(R_NEED_SCALES, T.need_columns, scales, TABLE_COLUMNS["scales"], filled=TABLE_COLUMNS["scales"])
    first.run(R_EMPTY, _not_empty, respondents)
    first.run(R_WAVE_RESP, _waves, study, respondents)
    _, resp = first.run(R_RESPONDENTS, T.respondents_table, study, respondents, group_col, quality)
    _, smap = first.run(R_SCALES, T.scale_map_table, scales)
    del respondents
    people = _People(resp, study.wave_ids) if resp is not None else None
    n_rows = len(resp) if resp is not None else 0
    codes, names = pd.factorize(resp["site"].astype(str)) if resp is not None else (np.zeros(0), [])
    village_of, villages = np.asarray(codes, dtype=np.int64), [str(v) for v in names]
    spill_dir.mkdir(parents=True, exist_ok=True)
    answers = Spill(spill_dir / "responses.arrow", ANSWERS, len(villages))
    ties = Spill(spill_dir / "ties.arrow", NOMINATIONS, len(villages))
    state = _State(n_rows, smap, people)
    try:
        for block in answers_csv.blocks():
            _answers_block(study, block, state, first, answers, village_of, scales.path)
        for block in ties_csv.blocks():
            _ties_block(study, block, state, first, ties, village_of)
    finally:
        answers.close()
        ties.close()
    if first.rank > R_ABSENT:
        first.run(R_ABSENT, T.absent_tie_types, study, pd.Series(state.tie_types_seen, dtype=object))
    if not first.clean:
        first.raise_first()
    if not answers.rows.sum() or not ties.rows.sum():
        raise NotSimple("a table without rows")
    # ids and pseudonyms: the respondents' ids in order of appearance, then the other alters named
    id_codes, unique_ids = pd.factorize(resp["respondent_id"])
    all_ids = pa.concat_arrays([pa.array(unique_ids.astype(object).to_numpy(), pa.large_string()),
                                state.extra.cast(pa.large_string())])
    pseudonyms = _pseudonyms(raw_dir, all_ids)
    if pc.count_distinct(pseudonyms).as_py() < len(all_ids):  # the whole-file reading's message
        check_collisions(dict(zip(all_ids.to_pylist(), pseudonyms.to_pylist())), raw_dir)
    resp["respondent_id"] = pd.array(pseudonyms.slice(0, len(unique_ids)).to_pylist(), dtype="str").take(id_codes)
    blocks = Blocks(respondents=resp.reset_index(drop=True), said=state.said, named=state.named,
                    answers=state.answers, quality=quality, scale_map=smap[
                        ["item", "dimension", "subscale", "reverse", "min", "max", *T.SCALE_LABEL_COLUMNS]],
                    waves=list(study.wave_ids), village_of=village_of, villages=villages,
                    wave_of=people.wave_code, pseudonyms=pseudonyms, id_of=np.asarray(id_codes, dtype=np.int64),
                    items=state.items, tie_types=list(study.tie_types), answers_spill=answers, ties_spill=ties)
    blocks.quality.extend(_tie_quality(blocks, state))
    return blocks


def _not_empty(t: CsvFile) -> None:
    if t.frame.empty:
        raise SinergiError(f"{t.path}: no rows; it needs one row per respondent and wave")


def _waves(study: Study, t: CsvFile) -> None:
    bad = ~t.frame["wave"].isin(study.wave_ids)
    if bad.any():
        raise T.fail(t, bad, "wave", f"{T.value_at(t, bad, 'wave')!r} is not a wave of the study "
                                      f"({', '.join(study.wave_ids)})")


def _pseudonyms(raw_dir: Path, ids: pa.Array, chunk: int = 1 << 16) -> pa.Array:
    """Each id's pseudonym (:func:`pipeline.pseudonym.pseudonymizer`), as Arrow text: a fresh
    pseudonymizer per chunk, so its cache never holds the study's ids."""
    key, width = read_key(raw_dir), pseudonym_width(raw_dir)
    parts = []
    for at in range(0, len(ids), chunk):
        f = pseudonymizer(key, width)
        parts.append(pa.array([f(x) for x in ids.slice(at, chunk).to_pylist()], pa.large_string()))
    return pa.concat_arrays(parts) if parts else pa.array([], pa.large_string())


def _arrow(values: pd.Series) -> pa.Array:
    """A text column as Arrow ``large_string`` (no copy for pandas' Arrow-backed text)."""
    out = pa.array(values.array) if isinstance(values.dtype, pd.StringDtype) else \
        pa.array(values.astype(object).to_numpy())
    out = out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out
    return out.cast(pa.large_string())


class _People:
    """(respondent_id, wave) → respondents row, from integer codes (no Python object per row)."""

    def __init__(self, resp: pd.DataFrame, waves: list[str]):
        self.ids = pa.array(pd.unique(resp["respondent_id"]).astype(object), pa.large_string())
        self.id_code = self.code(resp["respondent_id"])
        self.waves = pa.array(list(waves), pa.large_string())
        self.wave_code = pc.index_in(_arrow(resp["wave"]), value_set=self.waves).to_numpy(
            zero_copy_only=False).astype(np.int64)
        self.width = max(len(waves), 1)
        self.at = np.full(len(self.ids) * self.width, -1, dtype=np.int64)
        self.at[self.id_code * self.width + self.wave_code] = np.arange(len(resp))

    def code(self, values: pd.Series) -> np.ndarray:
        """Each value's id code (−1: no respondent has it)."""
        found = pc.index_in(_arrow(values), value_set=self.ids)
        return found.fill_null(-1).to_numpy().astype(np.int64)

    def rows(self, ids: pd.Series, waves: pd.Series) -> np.ndarray:
        """Respondents row of each (id, wave) (−1: none)."""
        i = self.code(ids)
        w = pc.index_in(_arrow(waves), value_set=self.waves)
        w = w.fill_null(-1).to_numpy().astype(np.int64)
        found = (i >= 0) & (w >= 0)
        out = np.full(len(i), -1, dtype=np.int64)
        out[found] = self.at[i[found] * self.width + w[found]]
        return out


class _State:
    """What the blocks gather study-wide: per respondents row (said, named, answer count, the
    answered-item bitmap), the tie types seen, the other alters named, the self-nominations."""

    def __init__(self, n_rows: int, smap: pd.DataFrame | None, people: _People | None):
        self.people = people
        self.items = list(smap["item"]) if smap is not None else []
        self.item_index = pd.Index(self.items)
        self.lo = smap["min"].to_numpy(float) if smap is not None else np.zeros(0)
        self.hi = smap["max"].to_numpy(float) if smap is not None else np.zeros(0)
        self.said = np.zeros(n_rows, dtype=bool)
        self.named = np.zeros(n_rows, dtype=bool)
        self.answers = np.zeros(n_rows, dtype=np.int64)
        self.seen = np.zeros(n_rows * max(len(self.items), 1), dtype=bool)
        self.orphans: set = set()
        self.tie_types_seen: list[str] = []
        self.extra = pa.array([], pa.large_string())
        self.self_rows: list[np.ndarray] = []


def _answers_block(study: Study, t: CsvFile, state: _State, first: First, spill: Spill,
                   village_of: np.ndarray, scales_path: Path) -> None:
    """Check one block of responses.csv (:func:`pipeline.sources.tables.read_tables`' rules for responses) and spill it."""
    if not first.run(R_FILLED_ANS, T.need_columns, t, [], filled=["respondent_id", "wave", "item"])[0]:
        return
    if not first.run(R_WAVE_ANS, _waves, study, t)[0]:
        return
    ok, values = first.run(R_VALUE, T.numbers_of, t, "value", allow_na=True)
    if not ok:
        return
    items = t.frame["item"]
    code = state.item_index.get_indexer(items)
    if not first.run(R_ITEM, _known_items, t, code, scales_path)[0]:
        return
    lo, hi = pd.Series(state.lo[code], index=items.index), pd.Series(state.hi[code], index=items.index)
    if not first.run(R_RANGE, _in_range, t, values, lo, hi)[0]:
        return
    rows = state.people.rows(t.frame["respondent_id"], t.frame["wave"])
    if not first.run(R_DUP, _answered_once, t, state, rows, code)[0]:
        return
    if not first.run(R_ORPHAN, _of_respondents, t, rows)[0]:
        return
    if not first.clean:
        return
    v = values.to_numpy(float)
    np.logical_or.at(state.said, rows, ~np.isnan(v))
    np.add.at(state.answers, rows, 1)
    spill.add(village_of[rows], {"row": rows.astype(np.int32), "item": code.astype(np.int16), "value": v,
                                 "line": t.frame.index.to_numpy(np.int64)})


def _known_items(t: CsvFile, code: np.ndarray, scales_path: Path) -> None:
    unknown = code < 0
    if unknown.any():
        raise T.fail(t, unknown, "item", f"{T.value_at(t, unknown, 'item')!r} is not in {scales_path.name}")


def _in_range(t: CsvFile, values: pd.Series, lo: pd.Series, hi: pd.Series) -> None:
    bad = ~schemas.value_rule(values, lo, hi)
    if bad.any():
        i = t.frame.index[bad.to_numpy()][0]
        v, a, b = values[i], lo[i], hi[i]
        why = "is not a whole number (the answers are" if a <= v <= b else "is outside"
        raise T.fail(t, bad, None, f"item {t.frame.at[i, 'item']} value {v:g} {why} {a:g}..{b:g}"
                                    + (")" if a <= v <= b else ""))


def _answered_once(t: CsvFile, state: _State, rows: np.ndarray, code: np.ndarray) -> None:
    """The same (respondent, wave, item) twice, in this block or with an earlier one (a bitmap per
    respondents row × item; (id, wave)s of no respondent in a set: each is an error anyway)."""
    known = rows >= 0
    key = rows * len(state.items) + code
    dup = np.zeros(len(rows), dtype=bool)
    dup[known] = state.seen[key[known]] | pd.Series(key[known]).duplicated().to_numpy()
    if not known.all():
        f = t.frame
        for i in np.flatnonzero(~known):
            k = (f["respondent_id"].iat[i], f["wave"].iat[i], f["item"].iat[i])
            dup[i] = k in state.orphans
            state.orphans.add(k)
    if dup.any():
        raise T.fail(t, dup, None, "the same respondent_id, wave and item twice")
    state.seen[key[known]] = True


def _of_respondents(t: CsvFile, rows: np.ndarray) -> None:
    orphan = rows < 0
    if orphan.any():
        i = t.frame.index[np.flatnonzero(orphan)[0]]
        raise T.fail(t, orphan, None, f"respondent_id {t.frame.at[i, 'respondent_id']!r} has no row in "
                                       f"respondents.csv for wave {t.frame.at[i, 'wave']!r}")


def _ties_block(study: Study, t: CsvFile, state: _State, first: First, spill: Spill, village_of: np.ndarray) -> None:
    """Check one block of ties.csv (:func:`pipeline.sources.tables.read_tables`' rules for ties) and spill it."""
    for tt in pd.unique(t.frame["tie_type"].dropna()):
        if tt not in state.tie_types_seen:
            state.tie_types_seen.append(tt)
    if not first.run(R_FILLED_TIES, T.need_columns, t, [], filled=TABLE_COLUMNS["ties"])[0]:
        return
    if not first.run(R_WAVE_TIES, _waves, study, t)[0]:
        return
    f = t.frame
    if "weight" in f:
        ok, weights = first.run(R_WEIGHT, T.numbers_of, t, "weight", allow_na=True)
        if not ok or not first.run(R_WEIGHT_RANGE, _weights_in_range, t, weights)[0]:
            return
        weights = weights.to_numpy(float)
    else:
        weights = np.full(len(f), np.nan)
    bad = ~f["tie_type"].isin(study.tie_types)
    if bad.any() and first.rank > R_TIE_TYPE:
        value = T.value_at(t, bad, "tie_type")
        if not study.tie_types:
            seen = state.tie_types_seen  # every block's, at the end: the whole file's tie types
            first.record(R_TIE_TYPE, lambda: T.fail(t, bad, "tie_type", f"{value!r}: the study names no tie types; "
                                                     f"to analyse these ties add `tie_types: [{', '.join(seen)}]` "
                                                     f"to {study.file}"))
        else:
            first.record(R_TIE_TYPE, T.fail(t, bad, "tie_type", f"{value!r} is not in the study's tie_types "
                                                                  f"({', '.join(study.tie_types)})"))
        return
    rows = state.people.rows(f["ego"], f["wave"]) if state.people is not None else np.full(len(f), -1)
    if not first.run(R_STRAY, _egos_of_wave, t, rows)[0]:
        return
    if not first.clean:
        return
    selfn = (f["ego"] == f["alter"]).to_numpy()
    if selfn.any():
        state.self_rows.append(np.column_stack([f.index.to_numpy(np.int64)[selfn], rows[selfn]]))
    keep = ~selfn
    alters = _arrow(f["alter"]).filter(pa.array(keep))
    code = pc.index_in(alters, value_set=state.people.ids).fill_null(-1).to_numpy().astype(np.int64)
    if (code < 0).any():  # nominations of someone who is no respondent: the id after the respondents'
        other = alters.filter(pa.array(code < 0))
        new = pc.unique(other.filter(pc.invert(pc.is_in(other, value_set=state.extra))))
        state.extra = pa.concat_arrays([state.extra, new])
        code[code < 0] = len(state.people.ids) + pc.index_in(other, value_set=state.extra).to_numpy()
    kept_rows = rows[keep]
    state.named[kept_rows] = True
    tt = pd.Index(study.tie_types).get_indexer(f["tie_type"].to_numpy()[keep])
    spill.add(village_of[kept_rows], {"row": kept_rows.astype(np.int32), "tie_type": tt.astype(np.int16),
                                      "alter": code.astype(np.int32), "weight": weights[keep],
                                      "line": f.index.to_numpy(np.int64)[keep]})


def _weights_in_range(t: CsvFile, weights: pd.Series) -> None:
    bad = ~schemas.value_rule(weights, schemas.WEIGHT_MIN, schemas.WEIGHT_MAX)
    if bad.any():
        raise T.fail(t, bad, "weight", f"{T.value_at(t, bad, 'weight')!r} is not a frequency "
                                        f"{schemas.WEIGHT_MIN:g}..{schemas.WEIGHT_MAX:g} (1 rarely, 2 monthly, "
                                        "3 weekly, 4 almost daily); leave it empty when unknown")


def _egos_of_wave(t: CsvFile, rows: np.ndarray) -> None:
    stray = rows < 0
    if stray.any():
        i = t.frame.index[np.flatnonzero(stray)[0]]
        raise T.fail(t, stray, "ego", f"{t.frame.at[i, 'ego']!r} has no row in respondents.csv for wave "
                                       f"{t.frame.at[i, 'wave']!r}; a tie is named by a respondent of that wave")


def _tie_quality(blocks: Blocks, state: _State) -> list[dict]:
    """The ties' quality rows in the whole-file reading's order: self-nominations, then the
    duplicate nominations, then the nominations of non-respondents (each in line order)."""
    out: list[dict] = []
    waves, pseudo = blocks.waves, blocks.pseudonyms

    def rows(issue: str, action: str, found: np.ndarray, value_codes: np.ndarray | None) -> None:
        found = found[np.argsort(found[:, 0], kind="stable")] if len(found) else found
        for line, row, *alter in found.tolist():
            ego = pseudo[int(blocks.id_of[row])].as_py()
            out.append(quality_row(issue, action, wave=waves[blocks.wave_of[row]], respondent_id=ego,
                                   field="ties.csv", value=ego if not alter else pseudo[int(alter[0])].as_py()))

    selfs = np.concatenate(state.self_rows) if state.self_rows else np.zeros((0, 2), dtype=np.int64)
    rows("self_nomination", "dropped", selfs, None)
    dups, outside = [], []
    n_ids = len(state.people.ids)
    for v in range(len(blocks.villages)):
        if not blocks.ties_spill.rows[v]:
            continue
        t = blocks.ties_spill.village(v)
        dup = blocks._duplicates(t)
        if dup.any():
            dups.append(np.column_stack([t["line"][dup], t["row"][dup], t["alter"][dup]]))
        out_ = ~dup & (t["alter"] >= n_ids)
        if out_.any():
            outside.append(np.column_stack([t["line"][out_], t["row"][out_], t["alter"][out_]]))
    empty = np.zeros((0, 3), dtype=np.int64)
    rows("duplicate_nomination", "kept_one", np.concatenate(dups) if dups else empty, None)
    rows("non_respondent_nomination", "kept_not_node", np.concatenate(outside) if outside else empty, None)
    return out


def spill_dir(processed_dir: Path) -> Path:
    """A fresh temporary folder ``processed_dir/.tidy-spill-…`` for the spill files; :func:`remove`
    removes it, and the folders made for it when they are left empty (a failed tidy makes no
    processed folder)."""
    processed_dir = Path(processed_dir)
    made = processed_dir
    while not made.parent.exists():
        made = made.parent
    made = made if not made.exists() else None
    processed_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".tidy-spill-", dir=processed_dir))
    _MADE[folder] = made
    return folder


_MADE: dict[Path, Path | None] = {}


def remove(folder: Path) -> None:
    """Remove a :func:`spill_dir` folder, and the empty folders made for it."""
    shutil.rmtree(folder, ignore_errors=True)
    made = _MADE.pop(folder, None)
    at = folder.parent
    while made is not None:
        try:
            at.rmdir()  # only when empty
        except OSError:
            return
        if at == made:
            return
        at = at.parent
