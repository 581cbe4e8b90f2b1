"""The canonical tables partitioned by village: one Parquet row group per site.

tidy writes ``respondents.parquet``, ``responses.parquet`` and ``ties.parquet`` under their usual
names (the Makefile, :data:`pipeline.outputs.OUTPUTS`, the report and users' notebooks read them
as before: ``pd.read_parquet`` / :func:`pipeline.outputs.read_table` give the whole table), but
each file is written **grouped by site, one row group per site**, and names its sites in the file's
key-value metadata (:data:`META_KEY`: ``{"by": "site", "sites": [...]}``, row group *i* = site
*i*). A stage's per-village job then reads its own village with :func:`read_site` — one row group,
without decoding the rest of the file — from a path every worker can reach (a local path on one
machine; on a cluster the same ``processed/`` folder on a shared file system, or the copy in a shared
store named by ``analysis.shared_data``: a folder or an fsspec URL, :mod:`pipeline.shared`).

Row order: the rows grouped by site (a stable sort), sites in the order they first appear in
the table tidy made, rows within a site in tidy's order. tidy reads village by village (the demo's
own village, then its comparison villages), so its tables come already grouped and are written
unchanged; a ``tables`` study whose CSV interleaves villages is grouped. A table tidy sorts by site
and then its key columns (respondents: ``respondent_id``, ``wave``; responses: ``respondent_id``,
``wave``, ``item``; ties: ``wave``, ``tie_type``, ``ego``, ``alter``) is written in exactly that
order. Reading every site with :func:`read_site` and concatenating in :func:`sites` order gives
the whole table as ``pd.read_parquet`` reads it.

``responses`` has no ``site`` column: each answer's site is its respondent × wave's site in the
respondents table (:func:`site_of_responses`); the file stays as it was, its row groups follow
the villages.

>>> import pandas as pd, tempfile, pathlib
>>> df = pd.DataFrame({"site": ["b", "a", "b"], "x": [1, 2, 3]})
>>> p = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
>>> write_partitioned(p, df, df["site"])
>>> sites(p)
['b', 'a']
>>> read_site(p, "b")["x"].tolist()
[1, 3]
>>> pd.read_parquet(p)["x"].tolist()
[1, 3, 2]
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import schemas
from .errors import SinergiError
from .io import atomic_path
from .order import rows_of
from .parallel import map_sites
from .shared import display_url, is_url, open_parquet

__all__ = ["META_KEY", "PARTITIONED", "write_partitioned", "write_partitioned_rows", "SiteFrames", "write_site_frames", "site_of_responses", "is_partitioned", "sites",
           "read_site", "read_sites"]

META_KEY = b"sinergi.partitions"
"""The Parquet key-value metadata key naming the row groups' sites."""

PARTITIONED = ("respondents", "responses", "ties")
"""The canonical tables tidy writes partitioned by site."""


def site_of_responses(responses: pd.DataFrame, respondents: pd.DataFrame) -> pd.Series:
    """Each answer's site: that of its respondent × wave in ``respondents``.

    Returns
    -------
    pandas.Series
        ``site`` (str) aligned with ``responses``' rows.

    Raises
    ------
    SinergiError
        An answer from a respondent × wave not in the respondents table (naming up to five).
    """
    key = respondents[["respondent_id", "wave"]].astype(str)
    look = responses[["respondent_id", "wave"]].astype(str)
    pos = rows_of(key, look)
    if (pos < 0).any():
        first = look[pos < 0].head(5)
        raise SinergiError("table responses: answers from respondent × wave not in the respondents table; first: "
                           + ", ".join(f"{r.respondent_id}/{r.wave}" for r in first.itertuples()))
    site = respondents["site"].astype(str).to_numpy()[pos]
    return pd.Series(site, index=responses.index, name="site")


def write_partitioned(path: str | os.PathLike, df: pd.DataFrame, site: pd.Series | Sequence[str]) -> None:
    """Write ``df`` as Parquet (no index), atomically, sorted by ``site`` with one row group per site.

    Parameters
    ----------
    path : the file to write (replaced as a whole).
    df : the table; its columns, dtypes and ``attrs`` are written as ``df.to_parquet`` writes them.
    site : one site per row of ``df`` (its ``site`` column, or :func:`site_of_responses`).

    Notes
    -----
    Sites in the order they first appear; the sort is stable, so rows keep their order within a
    site. A table with no rows is written with no sites (an empty file of the table's columns).
    :func:`write_partitioned_rows` in the table's own order.
    """
    write_partitioned_rows(path, df, site, np.arange(len(df)))


TAKE_ROWS = 1 << 20
"""Most rows :func:`write_partitioned_rows` takes from the table at once (at least one site's)."""


def write_partitioned_rows(path: str | os.PathLike, df: pd.DataFrame, site: pd.Series | Sequence[str],
                           order: np.ndarray) -> None:
    """Write ``df.iloc[order]`` exactly as :func:`write_partitioned` writes it, one site at a time.

    The sites' rows are taken from ``df`` a batch of sites at a time (up to :data:`TAKE_ROWS` rows,
    at least one site), each site converted to Arrow and written as its row group, so neither the
    reordered table nor an Arrow copy of the whole table is ever held: what this adds to the memory
    ``df`` takes is one batch's rows and a few integers per row.

    Parameters
    ----------
    path : the file to write (replaced as a whole, atomically).
    df : the table, in any row order; its columns, dtypes and ``attrs`` are written as
        ``df.to_parquet`` writes them.
    site : one site per row of ``df`` (in ``df``'s order).
    order : the row positions of ``df`` in the order to write (a permutation, e.g.
        :func:`pipeline.order.canonical_order`).

    Notes
    -----
    Sites in the order they first appear in ``df.iloc[order]``, the rows of a site in that order:
    the file is the one ``write_partitioned(path, df.iloc[order], site[order])`` writes (same
    frame, same row groups, same metadata).
    """
    order = np.asarray(order, dtype=np.int64)
    if len(site) != len(df) or len(order) != len(df):
        raise ValueError(f"{len(site)} sites and {len(order)} positions for {len(df)} rows")
    # codes, not a Python string per row: each site as text (1 and "1" one site, as write_partitioned)
    found, values = pd.factorize(pd.Series(site), use_na_sentinel=False)
    merged, texts = pd.factorize(pd.Index(values).astype(str))
    codes, first = pd.factorize(merged[found][order])  # sites in the order they first appear
    names = texts[first]
    rows = order[np.argsort(codes, kind="stable")]  # grouped by site, in ``order`` within each
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(names)))]).astype(np.int64)

    def parts():  # one take per batch of sites: a take from a many-chunk Arrow column costs its length
        i = 0
        while i < len(names):
            j = int(np.searchsorted(bounds, bounds[i] + TAKE_ROWS, side="right")) - 1
            j = min(max(j, i + 1), len(names))
            taken = df.iloc[rows[bounds[i]:bounds[j]]]
            for k in range(i, j):
                yield taken.iloc[bounds[k] - bounds[i]:bounds[k + 1] - bounds[i]]
            i = j

    write_site_frames(path, SiteFrames([str(s) for s in names], parts, dict(df.attrs)), template=df)


@dataclass
class SiteFrames:
    """A canonical table given a site at a time, for :func:`write_site_frames`: ``sites`` in the
    file's order and ``frames()``, which yields each site's rows (a DataFrame, in that order);
    ``attrs`` as ``DataFrame.attrs`` (the pseudonym key's stamp, :func:`pipeline.pseudonym.stamp_key`)."""

    sites: list[str]
    frames: Callable[[], Iterator[pd.DataFrame]]
    attrs: dict = field(default_factory=dict)


def write_site_frames(path: str | os.PathLike, table: SiteFrames, template: pd.DataFrame | None = None) -> None:
    """Write a table given a site at a time (:class:`SiteFrames`): one row group per site, the sites
    named in the metadata, the columns, dtypes and ``attrs`` as ``df.to_parquet`` writes them; the
    file :func:`write_partitioned` writes for the sites' frames concatenated. Only one site's rows
    are converted to Arrow at a time.

    ``template`` gives the schema (its columns and dtypes; by default the first site's frame). A
    table with no sites needs it and is written as its rows (an empty file of its columns).
    """
    frames = iter(table.frames())
    first = next(frames, None) if table.sites else None
    base = template if template is not None else first
    if base is None:
        raise ValueError("a table with no sites needs a template")
    if template is None:  # pyarrow records ``attrs`` in the pandas metadata too
        base.attrs = dict(table.attrs)
    schema = pa.Schema.from_pandas(base, preserve_index=False)
    meta = dict(schema.metadata or {})
    meta[META_KEY] = json.dumps({"by": "site", "sites": [str(s) for s in table.sites]}, ensure_ascii=False).encode()
    if table.attrs:  # as ``df.to_parquet`` keeps them (``pd.read_parquet`` restores them): the pseudonym key's stamp
        meta[b"PANDAS_ATTRS"] = json.dumps(table.attrs).encode()
    schema = schema.with_metadata(meta)
    empty = base if not table.sites else None
    pending = [first] if first is not None else []
    first = base = None  # the first frame goes with ``pending``: one site's frame is held at a time
    with atomic_path(path) as tmp, pq.ParquetWriter(tmp, schema) as writer:
        if empty is not None:
            writer.write_table(pa.Table.from_pandas(empty, schema=schema, preserve_index=False))
            return
        n = 0
        while (part := pending.pop() if pending else next(frames, None)) is not None:
            writer.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False, nthreads=1),
                               row_group_size=max(1, len(part)))
            n += 1
            del part
        if n != len(table.sites):
            raise ValueError(f"{n} frames for {len(table.sites)} sites")


def _meta(path: str | os.PathLike) -> tuple[pq.ParquetFile, list[str] | None]:
    f = open_parquet(path)  # a local path or a shared store's URL (pipeline/shared.py)
    raw = (f.schema_arrow.metadata or {}).get(META_KEY)
    if raw is None:
        return f, None
    names = json.loads(raw)["sites"]
    if len(names) != f.num_row_groups and not (not names and f.num_row_groups <= 1):
        raise SinergiError(f"{display_url(str(path))}: names {len(names)} sites for {f.num_row_groups} row groups; "
                           "run `make tidy` again")
    return f, names


def is_partitioned(path: str | os.PathLike) -> bool:
    """True when ``path`` was written by :func:`write_partitioned` (one row group per site)."""
    return _meta(path)[1] is not None


def sites(path: str | os.PathLike) -> list[str]:
    """The sites of a partitioned table, in row-group order (the order of its rows).

    Raises
    ------
    SinergiError
        The file is missing, not Parquet, or not partitioned (written before partitions: ``make tidy``).
    """
    f, names = _meta(path)
    if names is None:
        raise SinergiError(f"{path}: not partitioned by site (written by an older sinergi); run `make tidy` again")
    return list(names)


def read_site(path: str | os.PathLike, site: str, columns: list[str] | None = None) -> pd.DataFrame:
    """One site's rows of a partitioned table (its row group only), as ``pd.read_parquet`` reads them.

    Returns
    -------
    pandas.DataFrame
        The table's columns (or ``columns``) for the rows of ``site``, in the file's order; no rows
        when the table has none for a site of the study (e.g. a village without ties).
    """
    return read_sites(path, [site], columns)


def read_sites(path: str | os.PathLike, wanted: Iterable[str], columns: list[str] | None = None) -> pd.DataFrame:
    """The rows of several sites (a batch), in the order of ``wanted``; see :func:`read_site`."""
    f, names = _meta(path)
    if names is None:
        raise SinergiError(f"{path}: not partitioned by site (written by an older sinergi); run `make tidy` again")
    index = {s: i for i, s in enumerate(names)}
    groups = [index[s] for s in wanted if s in index]
    if not groups:
        return f.schema_arrow.empty_table().select(columns or f.schema_arrow.names).to_pandas()
    return f.read_row_groups(groups, columns=columns, use_pandas_metadata=True).to_pandas()


# ---------------------------------------------------------------------------------------------
# per-village work: jobs that read their own villages

MAX_BATCH = 25
"""Most villages one job reads (one open of each file, one validation per table, per job)."""


def batches(names: Sequence[str], size: int | None = None) -> list[list[str]]:
    """``names`` split into consecutive batches: ``size`` each, by default about 16 jobs in all,
    1 to :data:`MAX_BATCH` villages each (a job per village for a few villages, so they spread over
    the workers; fewer, larger jobs for a district, so each file's footer is parsed fewer times).

    >>> batches(list("abcde"), 2)
    [['a', 'b'], ['c', 'd'], ['e']]
    """
    names = list(names)
    size = size or max(1, min(MAX_BATCH, -(-len(names) // 16)))
    return [names[i:i + size] for i in range(0, len(names), size)]


def _batch_job(job: tuple) -> object:
    """Read (and validate) the named tables' rows of one batch of villages, then ``func`` on them."""
    func, paths, batch, options = job
    frames = {}
    for name, path in paths.items():
        df = read_sites(path, batch)
        where = f"{display_url(str(path))}, village{'s' if len(batch) > 1 else ''} {batch[0]}{'…' + batch[-1] if len(batch) > 1 else ''}"
        frames[name] = schemas.validate(name, df, where) if name in schemas.SCHEMAS else df
    return func(**frames, **options)


def map_partitions(func, paths: dict[str, str | os.PathLike], scheduler: str = "auto", **options) -> list:
    """``func(**{name: that table's rows of a batch of villages}, **options)`` for every batch.

    The villages are those of the first table in ``paths`` (:func:`sites`), in batches
    (:func:`batches`); each job receives the file paths, its villages and ``options`` and reads its
    own rows (:func:`read_sites`; canonical tables validated as the stages validate them), so no
    table travels from this process to the workers. The jobs run where ``scheduler`` says
    (:func:`pipeline.parallel.map_sites`): serially, on the local process pool, or on a Dask
    cluster whose workers see the same paths (a shared folder) or read the URLs of a shared store
    (:func:`pipeline.shared.publish`).

    Parameters
    ----------
    func : a module-level function taking the tables by name (e.g. ``respondents=``,
        ``responses=``) and ``options``; pure (no I/O), its result picklable.
    paths : table name → partitioned Parquet file (:func:`write_partitioned`): a path, or an fsspec URL.
    scheduler : ``auto``, ``serial``, ``processes``, ``local`` or a Dask scheduler address.

    Returns
    -------
    list
        ``func``'s result per batch, in site order (concatenating them gives the study in the
        tables' row order).
    """
    paths = {name: str(path) if is_url(path) else str(Path(path).resolve())  # workers have their own cwd
             for name, path in paths.items()}
    names = sites(next(iter(paths.values())))
    jobs = [(func, paths, batch, options) for batch in batches(names)]
    return map_sites(_batch_job, jobs, scheduler)
