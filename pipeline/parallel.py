"""Per-site work mapped over sites: serially, in a local process pool, or on a Dask cluster.

Sites (villages) are independent units of the network stage: each site's graphs, permutation
tests and change measures depend only on that site's rows and on seeds derived from the graph
key, so any split of the sites over workers gives the same tables as one serial loop, and
:func:`map_sites` returns results in the order of its input. On tables tidy wrote by village, the
network, coverage, scales and invariance stages send only paths and village names, and each job
reads its villages' row groups itself (:func:`pipeline.partitions.map_partitions`); on tables an
older sinergi wrote, network and coverage send each village's rows in the job.

Where the work runs (``scheduler``, from ``$SINERGI_SCHEDULER``, else the study's
``analysis.scheduler``):

==========================  ====================================================================
value                       runs on
==========================  ====================================================================
unset / ``auto``            serially when there are fewer than :data:`POOL_MIN_SITES` sites or one
                            core, else a local process pool (``concurrent.futures``) with one
                            worker per available core -- no set-up, nothing to install
``serial``                  one loop in this process
``processes``               the local process pool, whatever the number of sites
``local``                   a Dask ``LocalCluster`` started for this run (one worker process per
                            core), e.g. to try the Dask path on one machine
``tcp://host:8786`` (or     the Dask scheduler at that address (``dask scheduler`` + ``dask
``host:8786``,              worker`` on the cluster's machines, see the README); ``client.map``
``inproc://…``)             over sites, results gathered in site order
==========================  ====================================================================
"""

from __future__ import annotations

import multiprocessing
import os
import re
import socket
import struct
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Sequence
from urllib.parse import urlsplit

from .errors import SinergiError

SCHEDULER_ENV = "SINERGI_SCHEDULER"
"""Environment variable naming the scheduler; it overrides the study's ``analysis.scheduler``."""

POOL_MIN_SITES = 4
"""Below this many sites ``auto`` runs serially: a pool's start-up (≈ 1 s) would cost more."""

CONNECT_TIMEOUT = "20s"
"""How long to wait for a named Dask scheduler before giving up with a clear error."""

_ADDRESS = re.compile(r"^([a-z]+://\S+|[A-Za-z0-9_.-]+:\d+)$")
KEYWORDS = ("auto", "serial", "processes", "local")
SCHEMES = ("tcp", "tls", "inproc", "ucx", "ws", "wss")
"""The address schemes of Dask's comms (``distributed.comm.registry``)."""

HANDSHAKE_MAX = 1 << 20
"""A scheduler's first message (its handshake) is a few dozen bytes; a length above this is not one."""


def scheduler_from(study_value: str | None) -> str:
    """The scheduler to use: ``$SINERGI_SCHEDULER`` if set and not empty, else the study's."""
    env = os.environ.get(SCHEDULER_ENV, "").strip()
    value = env or (study_value or "").strip() or "auto"
    check_scheduler(value, f"${SCHEDULER_ENV}" if env else "analysis.scheduler")
    return value


def scheduler_problem(value: str) -> str | None:
    """What is wrong with ``value`` as a scheduler (a sentence starting with it), or None.

    >>> scheduler_problem("tcp://10.0.0.5:8786") is None
    True
    >>> scheduler_problem("http://10.0.0.5:8787").split(";")[0]
    "'http://10.0.0.5:8787' is the Dask dashboard's web address, not the scheduler's"
    """
    if value in KEYWORDS:
        return None
    if not _ADDRESS.match(value):
        return (f"{value!r} is not a scheduler (use auto, serial, processes, local or a Dask scheduler "
                "address such as tcp://10.0.0.5:8786)")
    scheme = value.split("://", 1)[0] if "://" in value else "tcp"
    if scheme in ("http", "https"):
        host = urlsplit(value).hostname or "host"
        return (f"{value!r} is the Dask dashboard's web address, not the scheduler's; give the address "
                f"`dask scheduler` prints as 'Scheduler at:', e.g. tcp://{host}:8786")
    if scheme not in SCHEMES:
        return (f"{value!r}: '{scheme}://' is not a Dask address scheme; the scheduler's address looks like "
                "tcp://10.0.0.5:8786 (or tls://…, inproc://…)")
    return None


def check_scheduler(value: str, where: str = "analysis.scheduler") -> str:
    """Raise :class:`SinergiError` unless ``value`` is a keyword or a scheduler address."""
    problem = scheduler_problem(value)
    if problem:
        raise SinergiError(f"{where}: {problem}")
    return value


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def map_sites(func: Callable[[Any], Any], items: Sequence[Any], scheduler: str = "auto") -> list:
    """``[func(item) for item in items]``, run where ``scheduler`` says (module docstring).

    Parameters
    ----------
    func : callable
        A module-level function (it is pickled by reference to worker processes or machines,
        which must have the same sinergi code).
    items : sequence
        Picklable inputs, one per site.
    scheduler : str
        ``auto``, ``serial``, ``processes``, ``local`` or a Dask scheduler address.

    Returns
    -------
    list
        ``func(item)`` for every item, in the order of ``items``; an exception raised by
        ``func`` on any item is raised here.

    Raises
    ------
    SinergiError
        When a Dask scheduler is named but cannot be reached (the message names the address).
    """
    items = list(items)
    check_scheduler(scheduler)
    if runs_here(len(items), scheduler):
        return [func(x) for x in items]
    if scheduler in ("auto", "processes"):
        return _pool_map(func, items)
    return _dask_map(func, items, scheduler)


def runs_here(n_items: int, scheduler: str = "auto") -> bool:
    """Whether :func:`map_sites` runs ``n_items`` items in this process (one loop): ``serial``, or
    ``auto`` with fewer than :data:`POOL_MIN_SITES` items or one core."""
    return scheduler == "serial" or (scheduler == "auto" and (n_items < POOL_MIN_SITES or available_cores() < 2))


class Pending:
    """:func:`map_sites` started beside the caller's own work (:func:`map_sites_beside`); :meth:`result`
    waits for its list."""

    def __init__(self, func: Callable[[Any], Any], items: list, scheduler: str):
        self._run = lambda: map_sites(func, items, scheduler)
        self._thread, self._out, self._error = None, None, None
        if not runs_here(len(items), scheduler):
            self._thread = threading.Thread(target=self._target, name="sinergi-map-sites", daemon=True)
            self._thread.start()

    def _target(self) -> None:
        try:
            self._out = self._run()
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread by result()
            self._error = exc

    def result(self) -> list:
        """``map_sites``' list (in the order of the items); its exception, raised here."""
        if self._thread is None:  # serial: the loop runs now, in the caller's thread
            return self._run()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._out


def map_sites_beside(func: Callable[[Any], Any], items: Sequence[Any], scheduler: str = "auto") -> Pending:
    """:func:`map_sites` started now, beside the caller's own work; ``.result()`` gives its list.

    The jobs run in the pool or on the Dask cluster while this process goes on (a thread of this
    process waits for them: it holds no core). When :func:`map_sites` would run them in this
    process (:func:`runs_here`), nothing starts now: a thread would only share this process's
    core with the caller, so the loop runs when ``result()`` is called, in the caller's thread.
    """
    items = list(items)
    check_scheduler(scheduler)
    return Pending(func, items, scheduler)


def _pool_map(func, items: list) -> list:
    workers = max(1, min(available_cores(), len(items)))
    # forkserver: workers fork from a clean server process, never from this one with its
    # BLAS / igraph threads; results in input order
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(job_modules(func, items))
    chunk = max(1, len(items) // (workers * 8))
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        return list(pool.map(func, items, chunksize=chunk))


def job_modules(func: Callable[[Any], Any], items: Sequence[Any]) -> list[str]:
    """The modules a pool's forkserver imports before it forks the workers: ``func``'s and those
    of the functions the first item carries (a :func:`pipeline.partitions.map_partitions` job is
    ``(func, paths, villages, options)``: the stage's function, e.g. ``network.sites_batch``).

    Each worker forks from the server with these imported, so none imports pandas, igraph or
    scipy itself (≈ 0.7 s of CPU per worker for the network stage's igraph and scipy). The
    server starts once per process: later pools of the same process fork from it as it is.

    >>> from pipeline.partitions import _batch_job
    >>> from pipeline.analysis.network import sites_batch
    >>> job_modules(_batch_job, [(sites_batch, {}, ["v1"], {})])
    ['pipeline.partitions', 'pipeline.analysis.network']
    """
    first = items[0] if len(items) else None
    carried = first if isinstance(first, (tuple, list)) else (first,)
    names = [getattr(f, "__module__", None) for f in (func, *carried) if callable(f)]
    return list(dict.fromkeys(m for m in names if m and m != "__main__"))


def _dask_map(func, items: list, scheduler: str) -> list:
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - a dependency, but a cluster image may lack it
        raise SinergiError(f"scheduler {scheduler!r} needs the `distributed` package "
                           "(pip install distributed, the version in constraints.txt)") from None
    if scheduler == "local":
        with LocalCluster(n_workers=available_cores(), threads_per_worker=1,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            return _client_map(client, func, items)
    probe_scheduler(scheduler)
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise _unreachable(scheduler, exc) from None
    with client:
        return _client_map(client, func, items)


def _unreachable(scheduler: str, exc: BaseException) -> SinergiError:
    return SinergiError(f"cannot reach the Dask scheduler at {scheduler} ({exc.__class__.__name__}); "
                        f"start it (`dask scheduler`) or unset {SCHEDULER_ENV} / analysis.scheduler "
                        "to run locally")


def _not_dask(scheduler: str, what: str) -> SinergiError:
    return SinergiError(f"{scheduler} {what}: it is not a Dask scheduler (a web server or another service?); "
                        "give the address `dask scheduler` prints as 'Scheduler at:' (tcp://host:8786), or "
                        f"unset {SCHEDULER_ENV} / analysis.scheduler to run locally")


def probe_scheduler(scheduler: str, timeout: str | float | None = None) -> None:
    """Check that a Dask scheduler answers at a ``tcp://`` address, within ``timeout`` (default
    :data:`CONNECT_TIMEOUT`) in all, before a ``distributed.Client`` is pointed at it.

    A scheduler speaks first: on a new connection it sends its handshake, one message framed as
    ``distributed.comm.tcp`` frames it (an 8-byte length, then the frames) that decodes to a
    dict with ``pickle-protocol``. Another service at the address would make the client read
    its bytes as a length (an HTTP answer's ``HTTP/1.1`` is 3.5 EiB) or wait for ever; here it
    stops with one line. Other schemes (``tls://``, ``inproc://``, …) are left to the client.

    Raises
    ------
    SinergiError
        The address cannot be reached, or what answers there is not a Dask scheduler.
    """
    from dask.utils import parse_timedelta

    scheme, _, rest = scheduler.rpartition("://")
    if scheme not in ("", "tcp"):
        return
    limit = float(parse_timedelta(timeout if timeout is not None else CONNECT_TIMEOUT, default="s"))
    deadline = time.monotonic() + limit
    host, _, port = rest.rpartition(":")
    try:
        sock = socket.create_connection((host.strip("[]"), int(port)), timeout=limit)
    except (OSError, ValueError) as exc:
        raise _unreachable(scheduler, exc) from None
    with sock:
        try:
            (size,) = struct.unpack("Q", _receive(sock, 8, deadline))
            if not 0 < size <= HANDSHAKE_MAX:
                raise _not_dask(scheduler, "answered, but not with a Dask handshake")
            message = _decode(_receive(sock, size, deadline))
        except TimeoutError:
            raise _not_dask(scheduler, f"accepted the connection but did not answer as a Dask scheduler "
                                       f"within {limit:g} s") from None
        except EOFError:
            raise _not_dask(scheduler, "closed the connection without answering") from None
        except OSError as exc:
            raise _unreachable(scheduler, exc) from None
    if not (isinstance(message, dict) and "pickle-protocol" in message):
        raise _not_dask(scheduler, "answered, but not with a Dask handshake")


def _receive(sock: socket.socket, n: int, deadline: float) -> bytes:
    """Exactly ``n`` bytes from ``sock`` before ``deadline`` (TimeoutError), or EOFError when it closes."""
    data = bytearray()
    while len(data) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        sock.settimeout(left)
        chunk = sock.recv(min(n - len(data), 1 << 16))
        if not chunk:
            raise EOFError
        data += chunk
    return bytes(data)


def _decode(data: bytes) -> Any:
    """The message a scheduler's handshake frames hold; None when they do not decode."""
    from distributed.protocol import loads
    from distributed.protocol.utils import unpack_frames

    try:
        frames, rest = unpack_frames(data, partial=True)
        return None if rest else loads(frames)
    except Exception:  # noqa: BLE001 - any bytes that are not a Dask message
        return None


def _client_map(client, func, items: list) -> list:
    # pure=False: each site is its own task even when two sites' inputs hash alike
    futures = client.map(func, items, pure=False)
    return client.gather(futures)
