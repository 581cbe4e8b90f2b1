"""Where workers read the partitioned tables: this machine's ``data/processed/`` or a shared store.

On one machine (or a cluster whose machines mount the study's folder at the same path) the jobs
of the per-village stages read ``data/processed/<id>/*.parquet`` where tidy wrote them. A cluster
without a shared disk names a shared store instead, ``analysis.shared_data`` in the study file or
``$SINERGI_SHARED_DATA`` (which wins): a folder every worker mounts (``/mnt/shared/sinergi``) or an
fsspec URL (``s3://bucket/sinergi``, ``gs://…``, ``abfs://…``, ``file:///…``; the protocol's
package installed on the driver and every worker, e.g. ``pip install s3fs``; credentials from the
environment or the protocol's own config file, never from the study file). Before a stage maps its
villages, :func:`publish` copies each canonical table there, as ``<store>/<study id>/<name>.parquet``,
unless the copy already holds the same bytes (a ``.sha256`` file beside it, written after the
table: a copy without one is incomplete and is written again); each job then reads its own row
groups from the store (:func:`open_parquet`). ``make`` keeps working on the local files: the store
is a cache the stages refresh, never a source.

>>> display_url("s3://key:secret@bucket/sinergi")
's3://***@bucket/sinergi'
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.core import url_to_fs

from .errors import SinergiError

SHARED_ENV = "SINERGI_SHARED_DATA"
"""Environment variable naming the shared store; it overrides the study's ``analysis.shared_data``."""

CHUNK = 1 << 22


def display_url(url: str) -> str:
    """``url`` without a password or key in its user part (for messages)."""
    parts = urlsplit(url)
    if parts.scheme and "@" in parts.netloc:
        return url.replace(parts.netloc, "***@" + parts.netloc.rsplit("@", 1)[1], 1)
    return url


def is_url(path: str | os.PathLike) -> bool:
    """True for ``protocol://…`` (fsspec), False for a path on this machine."""
    return "://" in str(path)


def store_problem(value: str) -> str | None:
    """What is wrong with ``value`` as a shared store (a sentence), or None.

    >>> store_problem("/mnt/shared/sinergi") is None
    True
    >>> store_problem("nosuch://bucket").split(";")[0]
    "'nosuch://bucket' is not a storage URL fsspec knows"
    """
    value = str(value).strip()
    if not value:
        return "is empty; give a folder every worker mounts or an fsspec URL such as s3://bucket/sinergi"
    if not is_url(value):
        return None if os.path.isabs(value) else (
            f"{value!r} is a relative path; workers run in other folders: give an absolute path")
    protocol = value.split("://", 1)[0]
    try:
        fsspec.get_filesystem_class(protocol)
    except ValueError:
        return (f"{display_url(value)!r} is not a storage URL fsspec knows; use a folder, file://, s3://, gs://, "
                "abfs:// …")
    except ImportError as exc:
        return f"{display_url(value)!r} needs a package not installed here ({exc}); install it on every machine"
    return None


def store_from(study_value: str | None) -> str | None:
    """The shared store: ``$SINERGI_SHARED_DATA`` if set and not empty, else the study's; None: local files."""
    env = os.environ.get(SHARED_ENV, "").strip()
    value = env or (study_value or "").strip()
    if not value:
        return None
    problem = store_problem(value)
    if problem:
        raise SinergiError(f"{'$' + SHARED_ENV if env else 'analysis.shared_data'}: {problem}")
    return value.rstrip("/")


def _fs(url: str) -> tuple[Any, str]:
    try:
        return url_to_fs(url)
    except Exception as exc:  # an unknown host, a missing credential: say where, not how it failed inside
        raise SinergiError(f"{display_url(url)}: cannot open the shared store ({type(exc).__name__}: {exc})") from None


def open_parquet(path: str | os.PathLike):
    """A ``pyarrow.parquet.ParquetFile`` of a local path or an fsspec URL.

    Raises
    ------
    SinergiError
        The file is missing (naming the path and this machine) or is not Parquet.
    """
    where = f" (on {socket.gethostname()})"
    if is_url(path):
        fs, inner = _fs(str(path))
        try:
            return pq.ParquetFile(fs.open(inner, "rb"))
        except FileNotFoundError:
            raise SinergiError(f"{display_url(str(path))}: not found{where}; run the stage again to copy "
                               "the tables there") from None
        except (pa.ArrowInvalid, OSError) as exc:
            raise SinergiError(f"{display_url(str(path))}: not a readable Parquet file ({exc})") from None
    if not Path(path).exists():
        raise SinergiError(f"{path}: missing{where}; run `make tidy` first (on a worker of a cluster: put "
                           "data/processed/ on a disk every machine mounts at the same path, a shared folder, or "
                           "name a shared store, analysis.shared_data)")
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise SinergiError(f"{path}: not a readable Parquet file ({exc})") from None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def publish(local: dict[str, Path], store: str | None, study_id: str) -> dict[str, str]:
    """Where workers read each table: ``local`` itself without a store, else its copy in ``store``.

    Parameters
    ----------
    local : table name → the file tidy wrote (``data/processed/<id>/<name>.parquet``).
    store : a folder or fsspec URL (:func:`store_from`), or None.
    study_id : the study's id (a folder of its own in the store).

    Returns
    -------
    dict
        Table name → absolute path (no store) or ``<store>/<study_id>/<name>.parquet``; each copy holds
        the local file's bytes (copied unless its ``.sha256`` already names the local file's digest).

    Raises
    ------
    SinergiError
        The store cannot be reached or written (naming it, without credentials).
    """
    if store is None:
        return {name: str(Path(p).resolve()) for name, p in local.items()}
    out = {}
    for name, path in local.items():
        target = f"{store}/{study_id}/{name}.parquet"
        url = target if is_url(target) else "file://" + target
        fs, inner = _fs(url)
        digest = _sha256(Path(path))
        try:
            try:
                with fs.open(inner + ".sha256", "rb") as f:
                    current = f.read().decode("ascii", "replace").strip()
            except FileNotFoundError:
                current = ""
            if current != digest:
                fs.makedirs(inner.rsplit("/", 1)[0], exist_ok=True)
                if fs.exists(inner + ".sha256"):
                    fs.rm(inner + ".sha256")  # the table is about to change: no digest names it meanwhile
                # under a name of its own, then renamed: stages that `make` runs side by side may
                # publish the same table at once, and a job must never read a copy half written
                part = f"{inner}.{socket.gethostname()}-{os.getpid()}-{threading.get_ident()}.part"
                try:
                    fs.put_file(str(path), part)
                    fs.mv(part, inner)
                    with fs.open(part + ".sha256", "wb") as f:
                        f.write(digest.encode("ascii"))
                    fs.mv(part + ".sha256", inner + ".sha256")
                finally:
                    for leftover in (part, part + ".sha256"):
                        if fs.exists(leftover):
                            fs.rm(leftover)
        except SinergiError:
            raise
        except Exception as exc:
            raise SinergiError(f"{display_url(target)}: cannot write the shared copy of {name} "
                               f"({type(exc).__name__}: {exc})") from None
        out[name] = target if is_url(target) else str(target)
    return out
