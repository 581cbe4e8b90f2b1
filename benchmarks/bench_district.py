"""District-scale benchmark: a generated `tables` study of N villages, raw → report, per stage.

    .venv/bin/python benchmarks/bench_district.py [--villages 1 10 50 200] [--people 250]
                                                  [--permutations 5000] [--no-r] [--keep DIR]

For each N it writes a seeded study (``generate``: N villages × ``people`` UMKM owners, 60 %
lokal / 40 % pendatang, two waves with 8 % attrition and 4 % newcomers, the instrument's 28
Likert items, three name generators with ≈ 3.3 nominations each per respondent and wave, 75 %
within the own group, all inside the own village), then runs ``sinergi pull``, ``tidy``,
``scales``, ``network``, ``prepost``, ``district`` and ``report`` as separate processes, each timed (wall
clock) with its peak memory: the largest sum of RSS over the process and all its children
(process-pool workers included), sampled every 50 ms from /proc. Then ``make report`` with
nothing changed (the no-op).

Where ``Rscript`` is on the PATH (with psych and lme4) the R peer runs on the same processed
data: for every dimension ``psych::alpha`` per wave, ``t.test(paired=TRUE)`` per dimension and
group, and ``lme4::lmer(score ~ wave * group + (1 | site) + (1 | site:respondent_id))`` (one
village: ``(1 | respondent_id)``) -- what an academic would run for our scales + prepost stages.
It reads the same tables (CSV written from our parquet files; the writing is not timed) and its
time includes R's start-up and reading them, as ours includes Python's.

Figures go to stdout as a Markdown table (and ``--json`` to a file); benchmarks/README.md has the
recorded ones. Seeded: the same arguments give the same study byte for byte.
"""

from __future__ import annotations

import argparse
import json
import os
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
SINERGI = ROOT / ".venv" / "bin" / "sinergi"
STAGES = ["pull", "tidy", "scales", "network", "prepost", "district", "report"]
TIE_TYPES = ["info", "help", "collab"]


# ---------------------------------------------------------------------------------------------
# the generated study
# ---------------------------------------------------------------------------------------------

def generate(folder: Path, villages: int, *, people: int = 250, seed: int = 20261201,
             permutations: int = 5000) -> Path:
    """Write a `tables` study of ``villages`` villages into ``folder``; return its study file.

    Each village has its own level (sd 0.3) and program effect (0.25 ± 0.1, +0.15 for
    pendatang), each person a latent trait per dimension (sd 0.6); item = round(3 + latent +
    noise(0.7)) clipped to 1..5, reverse items mirrored, 3 % unanswered.
    """
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
        for w, wave in enumerate(["pre", "post"]):
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
            gain = w * (effect + 0.15 * pendatang[idx])
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
             "waves": [{"id": "pre", "label": "Before"}, {"id": "post", "label": "After"}],
             "tie_types": TIE_TYPES, "analysis": {"seed": 1, "permutations": permutations}}
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(study, sort_keys=False))
    return path


# ---------------------------------------------------------------------------------------------
# timing with peak memory of the whole process tree
# ---------------------------------------------------------------------------------------------

def _tree_rss(pid: int) -> int:
    """Sum of VmRSS (bytes) over ``pid`` and its descendants."""
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
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total


def timed(cmd: list[str], cwd: Path, env: dict | None = None) -> tuple[float, int]:
    """Run ``cmd``; return (wall seconds, peak tree RSS in bytes). Raises on failure."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            done.wait(0.05)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    th.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return wall, peak[0]


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
sc$wave <- factor(sc$wave, levels = c("pre", "post")); sc$group <- factor(sc$group)
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
    wall2, peak = timed(["Rscript", str(script), str(tables)], work)
    return min(wall, wall2), float(res.stdout.strip().splitlines()[-1]), peak


# ---------------------------------------------------------------------------------------------

def bench(villages: int, people: int, permutations: int, with_r: bool, keep: Path | None,
          env: dict) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"district-{villages}-", dir=keep))
    t0 = time.perf_counter()
    study = generate(work, villages, people=people, permutations=permutations)
    gen = time.perf_counter() - t0
    row: dict = {"villages": villages, "generate_s": gen}
    for stage in STAGES:
        args = [str(SINERGI), stage, "--study", str(study)]
        if stage == "pull":
            args.append("--quiet")
        wall, peak = timed(args, work, env)
        row[f"{stage}_s"], row[f"{stage}_mb"] = wall, peak / 2**20
        row[f"{stage}_load"] = os.getloadavg()[0]  # the machine is shared: say how busy it was
        print(f"  {villages:>4} villages  {stage:<8} {wall:8.1f} s  {peak / 2**20:7.0f} MB  "
              f"load {row[f'{stage}_load']:.1f}", file=sys.stderr)
    proc = work / "data" / "processed" / f"district-{villages}"
    resp = pd.read_parquet(proc / "respondents.parquet")
    ties = pd.read_parquet(proc / "ties.parquet")
    row.update(respondent_waves=len(resp), nominations=len(ties))
    row["total_s"] = sum(row[f"{s}_s"] for s in STAGES[1:])
    row["peak_mb"] = max(row[f"{s}_mb"] for s in STAGES[1:])
    row["ours_scales_prepost_s"] = row["scales_s"] + row["prepost_s"]
    rep = work / "reports" / f"district-{villages}"
    row["report_mb_on_disk"] = sum(p.stat().st_size for p in rep.rglob("*") if p.is_file()) / 2**20
    html = rep / "report.html"
    row["report_html_mb"] = html.stat().st_size / 2**20 if html.exists() else float("nan")
    docx = rep / "report.docx"
    row["report_docx_mb"] = docx.stat().st_size / 2**20 if docx.exists() else float("nan")
    sizes = []  # the largest figure of the report, by pixels (PNG header)
    for png in (rep / "figures").glob("*.png"):
        head = png.read_bytes()[16:24]
        sizes.append((int.from_bytes(head[:4], "big"), int.from_bytes(head[4:], "big")))
    w, h = max(sizes, key=lambda x: x[0] * x[1]) if sizes else (0, 0)
    row["largest_figure_px"] = f"{w} × {h}"
    # the no-op: make report with nothing changed. The Makefile reads data/ and the code
    # relative to the current folder, so the study folder gets links to this checkout's
    # Makefile, code and .venv (and make -C would build the study inside the checkout)
    for name in ("Makefile", "pipeline", "instruments", ".venv", "pyproject.toml", "constraints.txt"):
        if not (work / name).exists():
            (work / name).symlink_to(ROOT / name)
    mk = ["make", "-s", f"STUDY={study.name}", "report"]
    # first ask make what it would do: never let it rebuild (or reinstall .venv) here
    plan = subprocess.run(mk[:2] + ["-n"] + mk[2:], cwd=work, env=env, check=True,
                          capture_output=True, text=True).stdout.strip()
    if plan:
        row["noop_make_s"] = float("nan")
        row["noop_make_would_run"] = plan.splitlines()[0]
    else:
        t0 = time.perf_counter()
        subprocess.run(mk, cwd=work, env=env, check=True, capture_output=True)
        row["noop_make_s"] = time.perf_counter() - t0
    if with_r:
        peer = r_peer(proc, work)
        if peer is not None:
            row["r_peer_s"], row["r_peer_analysis_s"], row["r_peer_mb"] = peer[0], peer[1], peer[2] / 2**20
    if keep is None:
        shutil.rmtree(work, ignore_errors=True)
    else:
        row["folder"] = str(work)
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--villages", type=int, nargs="+", default=[1, 10, 50, 200])
    ap.add_argument("--people", type=int, default=250)
    ap.add_argument("--permutations", type=int, default=5000)
    ap.add_argument("--no-r", action="store_true", help="skip the R peer")
    ap.add_argument("--keep", type=Path, help="keep each generated study under this folder")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = ap.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    rows = [bench(v, args.people, args.permutations, not args.no_r, args.keep, env)
            for v in args.villages]
    cols = ["villages", "respondent_waves", "nominations"] + [f"{s}_s" for s in STAGES[1:]] + \
        ["total_s", "peak_mb", "ours_scales_prepost_s", "r_peer_s", "r_peer_analysis_s",
         "report_html_mb", "report_docx_mb", "largest_figure_px", "report_mb_on_disk", "noop_make_s"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---:|" * len(cols))
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, float("nan"))
            cells.append(v if isinstance(v, str) else f"{v:,}" if isinstance(v, int) else
                         f"{v:.3g}" if c == "noop_make_s" else f"{v:,.1f}")
        print("| " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
