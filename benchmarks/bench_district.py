"""District-scale benchmark: a generated `tables` study of N villages, raw → report, every stage.

    .venv/bin/python benchmarks/bench_district.py [--villages 1 200 1000] [--generasi] [--people 250]
                                                  [--waves 2] [--arms] [--scheduler auto dask-2x1.5GB]
                                                  [--permutations 5000] [--stages tidy coverage …]
                                                  [--code DIR] [--no-r] [--keep DIR] [--json FILE]
                                                  [--make-jobs 1 2]

For each N it writes a seeded study (``generate``: N villages × ``people`` UMKM owners, 60 %
lokal / 40 % pendatang, ``waves`` waves (default two) with 8 % attrition and 4 % newcomers, the
instrument's 28 Likert items, three name generators with ≈ 3.3 nominations each per respondent
and wave, 75 % within the own group, all inside the own village; with ``--arms`` every second
village is a comparison village). ``--generasi`` adds the Generasi size: 2,313 villages × 3 waves
× 100 people per village (Generasi surveyed households, not UMKM rosters; 100 is the size
``../shared/research/scale.md`` guesses).

Then it runs ``sinergi pull`` and every stage ``make report`` runs -- the prerequisites of
``$(REP)/report.html`` in the Makefile, read from it (:func:`report_stages`), so a new stage
cannot be left out silently -- each as its own process, as Make runs it, once per scheduler
(``--scheduler``: ``auto`` is the default local process pool, ``serial`` one process,
``local`` a Dask ``LocalCluster`` started by the stage; ``dask-2x1.5GB`` a Dask cluster of 2 worker
processes limited to 1.5 GB each (``dask worker --memory-limit``: the nanny restarts a worker that
passes 95 % of it), started by the script before the first stage and shared by all, as a cluster
would be; ``$SINERGI_SCHEDULER`` is set). Per stage:

* **wall** clock seconds;
* **CPU** seconds, user + system, of the stage process and *every* descendant (pool workers,
  Dask workers, the forkserver): the bench is a child subreaper (``prctl``), so orphans are
  reparented to it and reaped with ``wait4``; exact, whatever the load;
* **peak RSS**: the largest single process (``ru_maxrss`` from ``wait4``, the kernel's high-water
  mark) and the largest sum over the process tree (sampled every 50 ms from /proc);
* the **load** average before and after (the machine may be shared: wall clocks then say little);
* with ``dask-NxMEM``: the CPU seconds the cluster's worker processes spent during the stage (from
  /proc, added to the stage's CPU) and the largest RSS of one worker (``rss_worker``).

Then ``make report`` with nothing changed (the no-op), and with ``--make-jobs N …`` ``JOBS=N make
report`` from the raw data for each N (:func:`make_report`: what a user's run takes when make runs
the stages that do not need each other side by side; ``--stages none`` skips the stage-by-stage
runs). Where ``Rscript`` is on the PATH (with
psych and lme4) the R peer runs on the same processed data: for every dimension
``psych::alpha`` per wave, ``t.test(paired=TRUE)`` per dimension and group, and
``lme4::lmer(score ~ wave * group + (1 | site) + (1 | site:respondent_id))`` (one village:
``(1 | respondent_id)``) -- what an academic would run for our scales + prepost stages.

``--code DIR`` runs another checkout's ``pipeline`` package (e.g. ``git archive main``
unpacked) with this ``.venv``, for before/after figures on the same study. With ``--keep`` the
generated studies stay in ``DIR/district-<N>x<people>x<waves>w[-arms]/`` and are reused by the
next run with the same arguments (generation is seeded: the same arguments give the same study
byte for byte). Figures go to stdout as Markdown tables (and ``--json`` to a file);
benchmarks/README.md has the recorded ones.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
TIE_TYPES = ["info", "help", "collab"]
WAVES = ["pre", "mid", "post"]
WAVE_LABELS = {"pre": "Before", "mid": "Midline", "post": "After"}
GENERASI = {"villages": 2313, "people": 100, "waves": 3}
"""The Generasi evaluation's size (2,313 villages in each of 3 waves), 100 people per village."""

STAGE_OUT = {"TIDY": "tidy", "SCALES": "scales", "NETWORK": "network", "PREPOST": "prepost",
             "DISTRICT": "district", "DID": "did", "INVARIANCE": "invariance", "COVERAGE": "coverage"}
"""The Makefile's ``*_OUT`` lists and the ``sinergi`` command that makes each."""


def report_stages(makefile: Path = ROOT / "Makefile") -> list[str]:
    """The stages ``make report`` runs, in the Makefile's order, ``report`` last.

    Read from the prerequisites of the ``$(REP)/report.html`` rule (``$(X_OUT)`` each;
    ``$(wildcard …)`` ones -- ``plan``, made only on request -- are not run by ``make report``).

    Raises
    ------
    RuntimeError
        When the rule is not found or names an output list this script does not know.
    """
    text = makefile.read_text().replace("\\\n", " ")
    rule = re.search(r"^\$\(REP\)/report\.html:(.*)$", text, re.M)
    if rule is None:
        raise RuntimeError(f"{makefile}: no $(REP)/report.html rule")
    prereq = re.sub(r"\$\(wildcard [^)]*\)\)", "", rule.group(1))
    lists = re.findall(r"\$\(([A-Z]+)_OUT\)", prereq)
    unknown = [x for x in lists if x not in STAGE_OUT]
    if unknown:
        raise RuntimeError(f"{makefile}: make report needs $({unknown[0]}_OUT); teach bench_district.py its stage")
    return [STAGE_OUT[x] for x in lists] + ["report"]


# ---------------------------------------------------------------------------------------------
# the generated study
# ---------------------------------------------------------------------------------------------

def generate(folder: Path, villages: int, *, people: int = 250, waves: int = 2, arms: bool = False,
             seed: int = 20261201, permutations: int = 5000) -> Path:
    """Write a `tables` study of ``villages`` villages into ``folder``; return its study file.

    Each village has its own level (sd 0.3) and program effect (0.25 ± 0.1, +0.15 for
    pendatang, reached at the last wave), each person a latent trait per dimension (sd 0.6);
    item = round(3 + latent + noise(0.7)) clipped to 1..5, reverse items mirrored, 3 %
    unanswered. ``waves`` is 2 (pre, post) or 3 (pre, mid, post); two waves give the same study
    byte for byte as before the option existed. With ``arms`` every second village (odd
    numbers) is a comparison village (study key ``arms``; its data are generated alike).
    """
    if waves not in (2, 3):
        raise ValueError("waves: 2 or 3")
    wave_ids = ["pre", "post"] if waves == 2 else WAVES
    sys.path.insert(0, str(ROOT))
    from pipeline.instrument import load_instrument, scale_map

    rng = np.random.default_rng([seed, villages, people])
    smap = scale_map(load_instrument(ROOT / "instruments" / "sinergi.yaml"))
    items = smap["item"].to_numpy()
    dims = smap["dimension"].to_numpy()
    reverse = smap["reverse"].to_numpy(bool)
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    resp_parts, ans_parts, tie_parts = [], [], []
    for v in range(villages):
        n = people
        ids = np.array([f"v{v:04d}u{k:03d}" for k in range(n)])
        pendatang = rng.random(n) < 0.4
        group = np.where(pendatang, "pendatang", "lokal")
        level = rng.normal(0, 0.3)
        effect = rng.normal(0.25, 0.1)
        latent = {d: rng.normal(0, 0.6, n) for d in ("trust", "norms")}
        newcomer = rng.random(n) < 0.04
        for w, wave in enumerate(wave_ids):
            present = ~newcomer if w == 0 else (rng.random(n) > 0.08)
            idx = np.flatnonzero(present)
            m = idx.size
            forum = rng.poisson(3, m) * w
            revenue = np.round(rng.lognormal(15, 0.5, m), -3)
            joint = (rng.random(m) < 0.4).astype(int)
            resp_parts.append(pd.DataFrame({
                "respondent_id": ids[idx], "wave": wave, "group": group[idx],
                "site": f"desa{v:04d}", "forum_meetings": forum,
                "trainings_n": rng.integers(0, 4, m) * w, "revenue": revenue,
                "input_costs": np.round(revenue * rng.uniform(0.3, 0.7, m) * (1 - 0.15 * joint), -3),
                "joint_purchasing": joint}))
            gain = w / (waves - 1) * (effect + 0.15 * pendatang[idx])
            lat = np.column_stack([latent[d][idx] for d in dims]) + level + gain[:, None]
            val = np.clip(np.round(3 + lat + rng.normal(0, 0.7, lat.shape)), 1, 5)
            val[:, reverse] = 6 - val[:, reverse]
            val[rng.random(val.shape) < 0.03] = np.nan
            ans_parts.append(pd.DataFrame({
                "respondent_id": np.repeat(ids[idx], items.size), "wave": wave,
                "item": np.tile(items, m), "value": val.ravel()}))
            for tie_type in TIE_TYPES:
                k = rng.poisson(3.3, m)
                ego = np.repeat(idx, k)
                same = rng.random(ego.size) < 0.75
                pool_same = [np.flatnonzero(present & (pendatang == p)) for p in (False, True)]
                pool_other = [pool_same[1], pool_same[0]]
                alter = np.empty(ego.size, dtype=np.int64)
                for p in (False, True):
                    for want_same, pools in ((True, pool_same), (False, pool_other)):
                        sel = (pendatang[ego] == p) & (same == want_same)
                        pool = pools[int(p)]
                        alter[sel] = pool[rng.integers(0, pool.size, sel.sum())]
                keep = alter != ego
                tie_parts.append(pd.DataFrame({
                    "wave": wave, "tie_type": tie_type, "ego": ids[ego[keep]],
                    "alter": ids[alter[keep]], "weight": rng.integers(1, 5, keep.sum())}))
    pd.concat(resp_parts, ignore_index=True).to_csv(data / "respondents.csv", index=False)
    pd.concat(ans_parts, ignore_index=True).to_csv(data / "responses.csv", index=False)
    pd.concat(tie_parts, ignore_index=True).drop_duplicates(["wave", "tie_type", "ego", "alter"]) \
        .to_csv(data / "ties.csv", index=False)
    smap.assign(reverse=smap["reverse"].map({True: "true", False: "false"})) \
        .to_csv(data / "scales.csv", index=False)
    study = {"id": f"district-{villages}", "title": f"District benchmark, {villages} villages",
             "language": "en", "site": "desa", "instrument": str(ROOT / "instruments" / "sinergi.yaml"),
             "source": {"kind": "tables", "path": "data"},
             "waves": [{"id": w, "label": WAVE_LABELS[w]} for w in wave_ids],
             "tie_types": TIE_TYPES, "analysis": {"seed": 1, "permutations": permutations}}
    if arms:
        study["arms"] = {f"desa{v:04d}": "comparison" if v % 2 else "program" for v in range(villages)}
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(study, sort_keys=False))
    return path


# ---------------------------------------------------------------------------------------------
# timing: wall, CPU and peak memory of the whole process tree
# ---------------------------------------------------------------------------------------------

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (Linux ``prctl``).

    A stage's process-pool workers are children of a forkserver that outlives the stage process
    by a moment; reparented to us and reaped with ``wait4``, their CPU time is counted.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return False


def _tree(pid: int) -> tuple[int, int, set[int]]:
    """(sum of VmRSS, largest VmRSS, pids) over ``pid`` and its descendants; bytes."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{d}/status") as f:
                kb = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
        rss[int(d)] = kb * 1024
    total, largest, seen, todo = 0, 0, set(), [pid]
    while todo:
        p = todo.pop()
        seen.add(p)
        total += rss.get(p, 0)
        largest = max(largest, rss.get(p, 0))
        todo.extend(children.get(p, []))
    return total, largest, seen


def _children(exclude: set[int]) -> list[int]:
    """This process's children (from /proc), but ``exclude``."""
    me, out = os.getpid(), []
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) not in exclude:
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == me:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                continue
    return out


def _reap_orphans(deadline: float = 60.0, exclude: frozenset[int] = frozenset()) -> tuple[float, int]:
    """Wait for descendants reparented to this (subreaper) process; their (CPU s, max RSS bytes).

    ``exclude``: children that live on (a Dask cluster the script started), not waited for."""
    cpu, maxrss, t0 = 0.0, 0, time.monotonic()
    while True:
        pids = _children(set(exclude))
        if not pids:
            return cpu, maxrss
        reaped = False
        for pid in pids:
            try:
                got, _, ru = os.wait4(pid, os.WNOHANG)
            except ChildProcessError:
                continue
            if got:
                reaped = True
                cpu += ru.ru_utime + ru.ru_stime
                maxrss = max(maxrss, ru.ru_maxrss * 1024)
        if not reaped:  # an orphan still running (a forkserver shutting down)
            if time.monotonic() - t0 > deadline:
                print("  warning: a stage left a process running; its CPU time is not counted", file=sys.stderr)
                return cpu, maxrss
            time.sleep(0.02)


def _cpu_of(pids: set[int]) -> float:
    """User + system CPU seconds so far of ``pids`` (from /proc; processes gone are skipped)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            continue
    return total / tick


def timed(cmd: list[str], cwd: Path, env: dict | None = None, workers: int | None = None) -> dict:
    """Run ``cmd`` (its output to files in ``cwd``); measure it (module docstring).

    Returns
    -------
    dict
        ``wall`` s, ``cpu`` s (user + system of the process and every descendant),
        ``rss_process`` (the largest single process) and ``rss_tree`` (the largest sum over
        the tree) in bytes, ``load_before``, ``load_after`` (1-minute load average); with ``workers``
        (the pid of a Dask cluster's worker launcher, not a descendant of ``cmd``) also ``rss_worker``,
        the largest RSS of one process of its tree, and its CPU during the run in ``cpu``.

    Raises
    ------
    RuntimeError
        When the command fails (with the end of its error output).
    """
    load0 = os.getloadavg()[0]
    cluster = _tree(workers)[2] if workers else set()
    cluster_cpu0 = _cpu_of(cluster)
    log = Path(cwd) / f".bench-{os.getpid()}.log"
    t0 = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    peak = {"tree": 0, "one": 0, "worker": 0}
    done = threading.Event()

    def sample():
        while not done.is_set():
            total, largest, _ = _tree(proc.pid)
            peak["tree"], peak["one"] = max(peak["tree"], total), max(peak["one"], largest)
            if workers:
                _, largest, pids = _tree(workers)
                peak["worker"] = max(peak["worker"], largest)
                cluster.update(pids)  # a worker the nanny restarted
            done.wait(0.05)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    done.set()
    th.join()
    cpu, maxrss = _reap_orphans(exclude=frozenset(_LIVING))
    text = log.read_text(errors="replace")
    log.unlink()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{text[-2000:]}")
    out = {"wall": wall, "cpu": cpu + ru.ru_utime + ru.ru_stime,
           "rss_process": max(peak["one"], maxrss, ru.ru_maxrss * 1024), "rss_tree": peak["tree"],
           "load_before": load0, "load_after": os.getloadavg()[0]}
    if workers:
        out["cpu"] += _cpu_of(cluster) - cluster_cpu0
        out["rss_worker"] = peak["worker"]
    return out


_LIVING: set[int] = set()
"""Children of this script that outlive a stage (a Dask cluster's scheduler and worker launcher)."""

DASK_SPEC = re.compile(r"^dask-(\d+)x(\d+(?:\.\d+)?[KMGT]?i?B)$")
"""``--scheduler dask-2x1.5GB``: a cluster of 2 worker processes, 1.5 GB each."""


class DaskCluster:
    """A Dask scheduler and ``n`` memory-limited worker processes (``dask scheduler`` / ``dask worker``),
    started as this script's children, as on a cluster; ``address`` for ``$SINERGI_SCHEDULER``, ``pid`` of
    the worker launcher (its tree: nannies and workers) for :func:`timed`."""

    def __init__(self, spec: str, env: dict):
        n, memory = DASK_SPEC.match(spec).groups()
        self.folder = Path(tempfile.mkdtemp(prefix="bench-dask-"))
        file = self.folder / "scheduler.json"
        dask = str(PYTHON.parent / "dask")
        self.procs = [subprocess.Popen([dask, "scheduler", "--scheduler-file", str(file), "--port", "0",
                                        "--no-dashboard"], env=env, cwd=self.folder,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        t0 = time.monotonic()
        while not file.exists():
            if time.monotonic() - t0 > 60:
                raise RuntimeError("dask scheduler did not start in 60 s")
            time.sleep(0.1)
        self.address = json.loads(file.read_text())["address"]
        self.procs.append(subprocess.Popen([dask, "worker", self.address, "--nworkers", n, "--nthreads", "1",
                                            "--memory-limit", memory, "--no-dashboard"], env=env,
                                           cwd=self.folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self.pid = self.procs[1].pid
        _LIVING.update(p.pid for p in self.procs)
        sys.path.insert(0, str(ROOT))
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(int(n), timeout=120)

    def close(self) -> None:
        _LIVING.difference_update(p.pid for p in self.procs)
        for proc in reversed(self.procs):
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# the R peer
# ---------------------------------------------------------------------------------------------

R_PEER = r"""
suppressPackageStartupMessages({library(psych); library(lme4)})
args <- commandArgs(TRUE)
ans <- read.csv(file.path(args[1], "responses.csv")); sm <- read.csv(file.path(args[1], "scale_map.csv"))
sc <- read.csv(file.path(args[1], "scores.csv")); sc <- sc[!is.na(sc$score), ]
rev <- sm$reverse[match(ans$item, sm$item)] %in% c(TRUE, "True", "true")
ans$value <- ifelse(rev, sm$min[match(ans$item, sm$item)] + sm$max[match(ans$item, sm$item)] - ans$value, ans$value)
t0 <- proc.time()[["elapsed"]]
dims <- list()
for (d in unique(sm$dimension)) {
  dims[[d]] <- sm$item[sm$dimension == d]
  for (s in unique(sm$subscale[sm$dimension == d])) dims[[paste0(d, "_", s)]] <- sm$item[sm$dimension == d & sm$subscale == s]
}
for (w in unique(ans$wave)) {
  a <- ans[ans$wave == w, ]
  wide <- reshape(a[, c("respondent_id", "item", "value")], idvar = "respondent_id", timevar = "item", direction = "wide")
  names(wide) <- sub("^value\\.", "", names(wide))
  for (d in names(dims)) invisible(psych::alpha(wide[, dims[[d]]], warnings = FALSE, check.keys = FALSE))
}
multi <- length(unique(sc$site)) > 1
sc$wave <- factor(sc$wave, levels = intersect(c("pre", "mid", "post"), unique(sc$wave))); sc$group <- factor(sc$group)
for (d in unique(sc$dimension)) {
  s <- sc[sc$dimension == d, ]
  pre <- s[s$wave == "pre", ]; post <- s[s$wave == "post", ]
  m <- merge(pre, post, by = "respondent_id")
  for (g in c("all", levels(s$group))) {
    mm <- if (g == "all") m else m[m$group.x == g, ]
    if (nrow(mm) > 2) invisible(t.test(mm$score.y, mm$score.x, paired = TRUE))
  }
  f <- if (multi) score ~ wave * group + (1 | site) + (1 | site:respondent_id) else score ~ wave * group + (1 | respondent_id)
  invisible(lmer(f, data = s, REML = TRUE))
}
cat(sprintf("%.3f\n", proc.time()[["elapsed"]] - t0))
"""


def r_peer(proc_dir: Path, work: Path) -> tuple[float, float, int] | None:
    """Run the R peer on ``proc_dir``'s tables; (total s, analysis-only s, peak bytes) or None."""
    if shutil.which("Rscript") is None:
        return None
    ok = subprocess.run(["Rscript", "-e", "library(psych); library(lme4)"], capture_output=True)
    if ok.returncode != 0:
        return None
    tables = work / "r-tables"
    tables.mkdir(exist_ok=True)
    pd.read_parquet(proc_dir / "responses.parquet").to_csv(tables / "responses.csv", index=False)
    pd.read_parquet(proc_dir / "scale_map.parquet").to_csv(tables / "scale_map.csv", index=False)
    shutil.copy(proc_dir / "scores.csv", tables / "scores.csv")
    script = work / "peer.R"
    script.write_text(R_PEER)
    t0 = time.perf_counter()
    res = subprocess.run(["Rscript", str(script), str(tables)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"R peer failed:\n{res.stderr[-2000:]}")
    again = timed(["Rscript", str(script), str(tables)], work)
    return min(wall, again["wall"]), float(res.stdout.strip().splitlines()[-1]), again["rss_tree"]


# ---------------------------------------------------------------------------------------------

def study_folder(keep: Path | None, villages: int, people: int, waves: int, arms: bool) -> Path:
    """Where the study of these arguments lives: under ``keep`` by name (reused), else a temp folder."""
    name = f"district-{villages}x{people}x{waves}w" + ("-arms" if arms else "")
    if keep is None:
        return Path(tempfile.mkdtemp(prefix=name + "-"))
    return keep / name


def prepare(work: Path, villages: int, people: int, waves: int, arms: bool, permutations: int) -> tuple[Path, float]:
    """The generated study in ``work`` (written unless already there); (study file, seconds to write)."""
    study = work / "study.yaml"
    if study.exists() and (work / "data" / "ties.csv").exists():
        doc = yaml.safe_load(study.read_text())
        doc["analysis"]["permutations"] = permutations
        study.write_text(yaml.safe_dump(doc, sort_keys=False))
        return study, 0.0
    t0 = time.perf_counter()
    study = generate(work, villages, people=people, waves=waves, arms=arms, permutations=permutations)
    return study, time.perf_counter() - t0


def run_stages(study: Path, work: Path, stages: list[str], env: dict, code: Path | None,
               workers: int | None = None) -> dict:
    """``sinergi pull`` and each stage as its own process (:func:`timed`); per stage its figures."""
    # -P: the study folder is the cwd and has a `pipeline` link (for make) to the checkout that
    # generated it; without -P it would shadow both --code and this .venv's checkout
    cmd = [str(PYTHON), "-P", "-m", "pipeline.cli"]
    if code is not None:
        env = {**env, "PYTHONPATH": str(code)}
    out = {}
    for stage in ["pull"] + stages:
        args = cmd + [stage, "--study", str(study)] + (["--quiet"] if stage == "pull" else [])
        m = timed(args, work, env, workers)
        out[stage] = m
        print(f"  {stage:<10} wall {m['wall']:7.1f} s  CPU {m['cpu']:7.1f} s  "
              f"peak {m['rss_process'] / 2**20:6.0f} MB (tree {m['rss_tree'] / 2**20:6.0f} MB"
              + (f", worker {m['rss_worker'] / 2**20:6.0f} MB" if workers else "") + ")  "
              f"load {m['load_before']:.1f}-{m['load_after']:.1f}", file=sys.stderr, flush=True)
    return out


def outputs(work: Path, study_id: str) -> dict:
    """Sizes of what the run made: rows, the report's files, the largest figure."""
    proc = work / "data" / "processed" / study_id
    row = {"respondent_waves": len(pd.read_parquet(proc / "respondents.parquet", columns=["wave"])),
           "nominations": len(pd.read_parquet(proc / "ties.parquet", columns=["wave"]))}
    rep = work / "reports" / study_id
    if not rep.is_dir():
        return row
    row["report_mb_on_disk"] = sum(p.stat().st_size for p in rep.rglob("*") if p.is_file()) / 2**20
    for name in ("report.html", "report.docx"):
        f = rep / name
        row[name.replace(".", "_") + "_mb"] = f.stat().st_size / 2**20 if f.exists() else float("nan")
    sizes = []  # the largest figure of the report, by pixels (PNG header)
    for png in (rep / "figures").glob("*.png"):
        head = png.read_bytes()[16:24]
        sizes.append((int.from_bytes(head[:4], "big"), int.from_bytes(head[4:], "big")))
    w, h = max(sizes, key=lambda x: x[0] * x[1]) if sizes else (0, 0)
    row["largest_figure_px"] = f"{w} × {h}"
    return row


def noop_make(work: Path, study: Path, env: dict) -> float:
    """Seconds of ``make report`` with nothing changed (NaN when make would still do something).

    The Makefile reads data/ and the code relative to the current folder, so the study folder
    gets links to this checkout's Makefile, code and .venv; ``make -n`` first checks that make
    would do nothing (never let it rebuild, or reinstall .venv, here).
    """
    _link_checkout(work)
    mk = ["make", "-s", f"STUDY={study.name}", "report"]
    plan = subprocess.run(mk[:2] + ["-n"] + mk[2:], cwd=work, env=env, check=True,
                          capture_output=True, text=True).stdout.strip()
    if plan:
        print(f"  no-op make report would run: {plan.splitlines()[0]}", file=sys.stderr)
        return float("nan")
    t0 = time.perf_counter()
    subprocess.run(mk, cwd=work, env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def _link_checkout(work: Path) -> None:
    """Links in the study folder to this checkout's Makefile, code and .venv (make reads them relative to it)."""
    for name in ("Makefile", "pipeline", "instruments", ".venv", "pyproject.toml", "constraints.txt"):
        link = work / name
        if link.is_symlink() and os.readlink(link) != str(ROOT / name):
            link.unlink()  # a study copied from another checkout's run: its links name that checkout
        if not link.exists():
            link.symlink_to(ROOT / name)


def make_report(work: Path, study: Path, env: dict, jobs: int) -> dict:
    """``JOBS=jobs make report`` from the raw data, as a user runs it: :func:`timed`'s figures.

    The study's processed tables and report are removed first (never ``data/raw``), so make runs
    every stage, ``jobs`` at a time where the Makefile's graph lets them overlap. ``-o
    .venv/.installed``: make must not reinstall this checkout's .venv from the study folder.
    """
    _link_checkout(work)
    study_id = yaml.safe_load(study.read_text())["id"]
    for derived in (work / "data" / "processed" / study_id, work / "reports" / study_id):
        shutil.rmtree(derived, ignore_errors=True)
    m = timed(["make", "-o", ".venv/.installed", f"JOBS={jobs}", f"STUDY={study.name}", "report"], work, env)
    print(f"  make report, JOBS={jobs}: wall {m['wall']:7.1f} s  CPU {m['cpu']:7.1f} s  "
          f"peak {m['rss_process'] / 2**20:6.0f} MB (tree {m['rss_tree'] / 2**20:6.0f} MB)  "
          f"load {m['load_before']:.1f}-{m['load_after']:.1f}", file=sys.stderr, flush=True)
    return m


def bench(villages: int, args: argparse.Namespace, scheduler: str, env: dict) -> dict:
    """One study size under one scheduler: every stage, sizes, the no-op and the R peer."""
    work = study_folder(args.keep, villages, args.people, args.waves, args.arms)
    study, gen = prepare(work, villages, args.people, args.waves, args.arms, args.permutations)
    print(f"{villages} villages × {args.people} people × {args.waves} waves, scheduler {scheduler} "
          f"({work})", file=sys.stderr, flush=True)
    cluster = DaskCluster(scheduler, env) if DASK_SPEC.match(scheduler) else None
    env = {**env, "SINERGI_SCHEDULER": cluster.address if cluster else scheduler}
    try:
        stages = run_stages(study, work, args.stages, env, args.code, cluster.pid if cluster else None)
    finally:
        if cluster:
            cluster.close()
    row: dict = {"villages": villages, "people": args.people, "waves": args.waves, "arms": args.arms,
                 "scheduler": scheduler, "generate_s": gen, "stages": stages}
    if args.make_jobs and args.code is None and cluster is None:
        row["make"] = {str(j): make_report(work, study, env, j) for j in args.make_jobs}
    row.update(outputs(work, yaml.safe_load(study.read_text())["id"]))
    st = [row["stages"][s] for s in args.stages]
    row["total_wall"] = sum(m["wall"] for m in st)
    row["total_cpu"] = sum(m["cpu"] for m in st)
    row["peak_process_mb"] = max((m["rss_process"] for m in st), default=0) / 2**20
    row["peak_tree_mb"] = max((m["rss_tree"] for m in st), default=0) / 2**20
    if cluster:
        row["peak_worker_mb"] = max(m["rss_worker"] for m in st) / 2**20
    if args.stages == report_stages() and args.code is None and cluster is None:
        row["noop_make_s"] = noop_make(work, study, env)
    if not args.no_r and scheduler == args.scheduler[0]:
        peer = r_peer(work / "data" / "processed" / yaml.safe_load(study.read_text())["id"], work)
        if peer is not None:
            row["r_peer_s"], row["r_peer_analysis_s"], row["r_peer_mb"] = peer[0], peer[1], peer[2] / 2**20
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    else:
        row["folder"] = str(work)
    return row


def print_tables(rows: list[dict], stages: list[str]) -> None:
    """Markdown: one line per size × scheduler × stage, then one per size × scheduler."""
    print("| villages | scheduler | stage | wall (s) | CPU (s) | peak process (MB) | peak tree (MB) | peak worker (MB) "
          "| load |")
    print("|---:|---|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        for s in ["pull"] + stages:
            m = r["stages"][s]
            print(f"| {r['villages']:,} | {r['scheduler']} | {s} | {m['wall']:.1f} | {m['cpu']:.1f} | "
                  f"{m['rss_process'] / 2**20:,.0f} | {m['rss_tree'] / 2**20:,.0f} | "
                  + (f"{m['rss_worker'] / 2**20:,.0f}" if "rss_worker" in m else "–")
                  + f" | {m['load_before']:.1f}–{m['load_after']:.1f} |")
    cols = ["villages", "people", "waves", "scheduler", "respondent_waves", "nominations", "total_wall", "total_cpu",
            "peak_process_mb", "peak_tree_mb", "peak_worker_mb", "r_peer_s", "r_peer_analysis_s", "report_html_mb", "report_docx_mb",
            "largest_figure_px", "report_mb_on_disk", "noop_make_s"]
    print()
    print("| " + " | ".join(cols) + " |")
    print("|" + "---:|" * len(cols))
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, float("nan"))
            cells.append(v if isinstance(v, str) else f"{v:,}" if isinstance(v, int) else
                         f"{v:.3g}" if c == "noop_make_s" else f"{v:,.1f}")
        print("| " + " | ".join(cells) + " |")
    made = [(r, j, m) for r in rows for j, m in r.get("make", {}).items()]
    if made:
        print()
        print("| villages | scheduler | `make report` | wall (s) | CPU (s) | peak process (MB) | peak tree (MB) | load |")
        print("|---:|---|---|---:|---:|---:|---:|---|")
        for r, j, m in made:
            print(f"| {r['villages']:,} | {r['scheduler']} | JOBS={j} | {m['wall']:.1f} | {m['cpu']:.1f} | "
                  f"{m['rss_process'] / 2**20:,.0f} | {m['rss_tree'] / 2**20:,.0f} | "
                  f"{m['load_before']:.1f}–{m['load_after']:.1f} |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--villages", type=int, nargs="+", default=[1, 200, 1000])
    ap.add_argument("--generasi", action="store_true",
                    help=f"also the Generasi size: {GENERASI['villages']:,} villages × {GENERASI['waves']} waves × "
                         f"{GENERASI['people']} people")
    ap.add_argument("--people", type=int, default=250)
    ap.add_argument("--waves", type=int, default=2, choices=(2, 3))
    ap.add_argument("--arms", action="store_true", help="every second village a comparison village (did runs)")
    ap.add_argument("--scheduler", nargs="+", default=["auto"],
                    help="$SINERGI_SCHEDULER values to run every stage with (auto, serial, processes, local, "
                         "tcp://…), or dask-NxMEM (e.g. dask-2x1.5GB): a Dask cluster of N worker processes "
                         "limited to MEM each, started for the run")
    ap.add_argument("--permutations", type=int, default=5000)
    ap.add_argument("--stages", nargs="+", help="only these stages (default: every stage make report runs)")
    ap.add_argument("--code", type=Path, help="run the pipeline package of this checkout (PYTHONPATH) instead")
    ap.add_argument("--no-r", action="store_true", help="skip the R peer")
    ap.add_argument("--keep", type=Path, help="keep (and reuse) each generated study under this folder")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON here")
    ap.add_argument("--make-jobs", type=int, nargs="*", default=[],
                    help="then `JOBS=N make report` from the raw data for each N (stages side by side)")
    args = ap.parse_args(argv)
    known = report_stages()
    args.stages = [] if args.stages == ["none"] else [s for s in known if s in args.stages] if args.stages else known
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    if not become_subreaper():
        print("warning: not a subreaper: CPU of orphaned pool workers is not counted", file=sys.stderr)
    env = dict(os.environ)
    sizes = [(v, args.people, args.waves) for v in args.villages]
    if args.generasi:
        sizes.append((GENERASI["villages"], GENERASI["people"], GENERASI["waves"]))
    rows = []
    for villages, people, waves in sizes:
        sub = argparse.Namespace(**{**vars(args), "people": people, "waves": waves})
        for scheduler in args.scheduler:
            rows.append(bench(villages, sub, scheduler, env))
            if args.json:  # after every run: a long run stopped half-way keeps what it measured
                args.json.write_text(json.dumps(rows, indent=1))
    print_tables(rows, args.stages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
