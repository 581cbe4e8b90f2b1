"""Do two checkouts give the same tables? Every stage of ``make report``, byte for byte.

    .venv/bin/python benchmarks/compare_stages.py --before DIR [--after DIR] [--demo] [--public]
                                                  [--study FILE ...] [--district N ...]
                                                  [--scheduler auto] [--no-report] [--work DIR]

``--before`` and ``--after`` are checkouts of the code (e.g. ``git archive main`` unpacked into
a folder; ``--after`` defaults to this one); both run with this ``.venv`` (``PYTHONPATH``). Each
study is copied twice (its study file with the instrument path made absolute, and its input
data: a ``tables`` study's ``data/`` folder, the demo's shipped ``data/raw/``), then ``sinergi
pull`` runs once (its raw folder, pseudonym key included, is copied to the other side) and
every stage ``make report`` runs (``bench_district.report_stages``) runs in each copy.
Then every file of ``data/processed/<id>/`` and, unless ``--no-report``, every file of
``reports/<id>/tables/`` (the CSVs and tables.xlsx) is compared byte for byte; a table that differs is printed with, per
column, whether its text is equal and the largest absolute and relative difference of its
numbers.

``TOLERANCE`` names the few cells allowed to differ in their last bits, and why: a file whose
only differences lie within it is reported as ``equal within tolerance``; any other difference
makes the exit status 1.

Studies: ``--demo`` (the shipped demo study and the demo with three comparison villages, which
runs the difference-in-differences), ``--public`` (every study in ``tests/data/public/``),
``--study`` (any study file), ``--district N`` (``bench_district.generate``: N villages × 250
people, two waves; with ``--arms`` every second village a comparison village).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
sys.path.insert(0, str(HERE))
import bench_district  # noqa: E402

_WHY_INVARIANCE = ("the CFA fits run with one BLAS thread (as the network stage's jobs): the optimiser's path, and "
                   "so the last bits of χ² at its gtol 1e-9, depended on how many threads OpenBLAS used, i.e. "
                   "on the machine's cores; now they do not")
TOLERANCE = {
    "invariance.csv": {
        "columns": ["chisq", "p_val", "cfi", "rmsea", "delta_cfi", "delta_rmsea", "delta_chisq", "delta_p"],
        "rtol": 1e-9, "atol": 1e-12, "why": _WHY_INVARIANCE},
    # the report's copy of the table (columns named in the report's language), in CSV and in tables.xlsx
    "tables/invariance.csv": {"columns": None, "rtol": 1e-9, "atol": 1e-12, "why": _WHY_INVARIANCE},
}
"""Cells allowed to differ in their last bits: file → numeric ``columns`` (None: any numeric
column), relative and absolute tolerance, and why."""

COLOPHON_ROWS = re.compile(r"git", re.I)
"""Rows of the colophon expected to differ between two checkouts: the git commit (a checkout
unpacked with ``git archive`` has none)."""


def copy_study(study: Path, dest: Path) -> Path:
    """The study folder copied into ``dest`` (instrument path absolute); its study file there."""
    dest.mkdir(parents=True, exist_ok=True)
    doc = yaml.safe_load(study.read_text(encoding="utf-8"))
    text = study.read_text(encoding="utf-8")
    inst = (study.parent / doc.get("instrument", "instruments/sinergi.yaml")).resolve()
    text = re.sub(r"(?m)^instrument:.*$", f"instrument: {inst}", text)
    if "instrument:" not in text:
        text += f"\ninstrument: {inst}\n"
    if doc["source"]["kind"] == "tables":
        shutil.copytree(study.parent / doc["source"]["path"], dest / doc["source"]["path"], dirs_exist_ok=True)
    raw = study.parent / "data" / "raw" / str(doc["id"])
    if raw.is_dir():
        shutil.copytree(raw, dest / "data" / "raw" / str(doc["id"]), dirs_exist_ok=True)
    out = dest / study.name
    out.write_text(text, encoding="utf-8")
    return out


def run_all(study: Path, code: Path, stages: list[str], env: dict) -> None:
    """``stages`` with the ``pipeline`` package of ``code``, in the study's folder."""
    env = {**env, "PYTHONPATH": str(code)}
    for stage in stages:
        args = [str(PYTHON), "-m", "pipeline.cli", stage, "--study", str(study)]
        if stage == "pull":
            args += ["--local-only", "--quiet"]
        res = subprocess.run(args, cwd=study.parent, env=env, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"{code}: sinergi {stage} --study {study} failed:\n{res.stderr[-2000:]}")


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, keep_default_na=False,
                                                                                  dtype=str)


def column_diffs(a: pd.DataFrame, b: pd.DataFrame) -> dict[str, tuple[bool, float, float]]:
    """Per column that differs: (a text cell differs?, largest absolute, largest relative difference)."""
    out = {}
    for c in a.columns:
        # a missing cell in both is equal (pandas' str of NaN stays NaN, which equals nothing)
        neq = ((a[c].astype(str) != b[c].astype(str)) & ~(a[c].isna() & b[c].isna())).to_numpy()
        if not neq.any():
            continue
        x = pd.to_numeric(a[c], errors="coerce").to_numpy(float)[neq]
        y = pd.to_numeric(b[c], errors="coerce").to_numpy(float)[neq]
        text = bool((np.isnan(x) | np.isnan(y)).any())
        diff = np.abs(x - y)[~(np.isnan(x) | np.isnan(y))]
        rel = diff / np.maximum(np.abs(x[~(np.isnan(x) | np.isnan(y))]), 1e-300)
        out[c] = (text, float(diff.max()) if diff.size else 0.0, float(rel.max()) if rel.size else 0.0)
    return out


def within_tolerance(name: str, diffs: dict) -> bool:
    """Whether every difference of file ``name`` lies within :data:`TOLERANCE`."""
    tol = TOLERANCE.get(name)
    if tol is None or not diffs:
        return False
    return all((tol["columns"] is None or c in tol["columns"]) and not text
               and (ab <= tol["atol"] or rel <= tol["rtol"]) for c, (text, ab, rel) in diffs.items())


def _tables(path: Path) -> dict[str, pd.DataFrame]:
    """The tables of a file: a CSV or parquet file's one, every sheet of a workbook (as text)."""
    if path.suffix == ".xlsx":
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False, header=None)
        return {f"{path.name}:{k}": v.set_axis([f"column {i + 1}" for i in range(v.shape[1])], axis=1)
                for k, v in sheets.items()}
    return {path.name: _read(path)}


def _verdict(name: str, da: pd.DataFrame, db: pd.DataFrame, prefix: str) -> tuple[str, dict]:
    """One table's verdict: identical, equal apart from the git commit, within tolerance, DIFFERENT."""
    if "colophon" in name and da.shape == db.shape:
        keep = ~da.iloc[:, 0].astype(str).str.contains(COLOPHON_ROWS)
        if da[keep].astype(str).equals(db[keep].astype(str)):
            return "identical apart from the git commit", {}
    if da.shape != db.shape or list(da.columns) != list(db.columns):
        return f"DIFFERENT shape {da.shape} vs {db.shape}", {}
    diffs = column_diffs(da, db)
    if not diffs:
        return "identical", {}
    base = name.split(":")[-1]
    sheet = prefix + (base if base.endswith(".csv") else base + ".csv")
    return ("equal within tolerance" if within_tolerance(sheet, diffs) else "DIFFERENT"), diffs


def compare(before: Path, after: Path, prefix: str = "") -> list[tuple[str, str, dict]]:
    """Files under ``before`` and ``after`` (same relative names): ``(name, verdict, diffs)`` per
    table (a workbook: per sheet); names carry ``prefix``."""
    names = sorted({p.relative_to(before) for p in before.rglob("*") if p.is_file()}
                   | {p.relative_to(after) for p in after.rglob("*") if p.is_file()})
    out = []
    for rel in names:
        a, b = before / rel, after / rel
        if not a.exists() or not b.exists():
            out.append((prefix + str(rel), "only in " + ("after" if b.exists() else "before"), {}))
        elif a.read_bytes() == b.read_bytes():
            out.append((prefix + str(rel), "identical", {}))
        elif a.suffix not in (".csv", ".parquet", ".xlsx"):
            out.append((prefix + str(rel), "DIFFERENT (bytes)", {}))
        else:
            ta, tb = _tables(a), _tables(b)
            for name in sorted(set(ta) | set(tb)):
                if name not in ta or name not in tb:
                    out.append((prefix + name, "only in " + ("after" if name in tb else "before"), {}))
                    continue
                verdict, diffs = _verdict(name, ta[name], tb[name], prefix)
                out.append((prefix + name + (" (bytes differ)" if verdict == "identical" else ""), verdict, diffs))
    return out


def studies(args: argparse.Namespace, gen_dir: Path) -> list[Path]:
    """The study files the arguments name (district studies generated into ``gen_dir``)."""
    out = []
    if args.demo:
        out.append(ROOT / "study.yaml")
        doc = yaml.safe_load((ROOT / "study.yaml").read_text(encoding="utf-8"))
        doc.update(id="demo-did", title=doc["title"] + " — comparison villages")
        doc["source"]["comparison_villages"] = 3
        doc["report"]["pdf"] = False
        doc["instrument"] = str(ROOT / doc["instrument"])
        did = gen_dir / "demo-did"
        did.mkdir(parents=True, exist_ok=True)
        (did / "study.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
        out.append(did / "study.yaml")
    if args.public:
        out += sorted((ROOT / "tests" / "data" / "public").glob("*/study.yaml"))
    out += [Path(s).resolve() for s in args.study or []]
    for n in args.district or []:
        folder = gen_dir / (f"district-{n}" + ("-arms" if args.arms else ""))
        out.append(bench_district.generate(folder, n, arms=args.arms, permutations=args.permutations))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", type=Path, required=True, help="the checkout to compare against (e.g. main)")
    ap.add_argument("--after", type=Path, default=ROOT, help="the checkout under test (default: this one)")
    ap.add_argument("--demo", action="store_true", help="the demo study, and the demo with comparison villages")
    ap.add_argument("--public", action="store_true", help="every study of tests/data/public/")
    ap.add_argument("--study", nargs="+", help="other study files")
    ap.add_argument("--district", type=int, nargs="+", help="generated districts of these many villages")
    ap.add_argument("--arms", action="store_true", help="districts: every second village a comparison village")
    ap.add_argument("--permutations", type=int, default=999, help="districts: permutations (default 999)")
    ap.add_argument("--scheduler", default="auto", help="$SINERGI_SCHEDULER for both runs (default auto)")
    ap.add_argument("--no-report", action="store_true", help="stop before the report stage")
    ap.add_argument("--work", type=Path, help="keep the copies and outputs here (default: a temporary folder)")
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="compare-stages-"))
    stages = [s for s in bench_district.report_stages() if not (args.no_report and s == "report")]
    env = {**os.environ, "SINERGI_SCHEDULER": args.scheduler}
    bad = 0
    for study in studies(args, work / "generated"):
        sid = str(yaml.safe_load(study.read_text(encoding="utf-8"))["id"])
        copies = {side: copy_study(study, work / sid / side) for side in ("before", "after")}
        # one pull, so both sides have the same raw data and pseudonym key (a tables study
        # without a key gets a new random one at its first pull)
        run_all(copies["before"], args.before.resolve(), ["pull"], env)
        raw = Path("data") / "raw" / sid
        shutil.rmtree(copies["after"].parent / raw, ignore_errors=True)
        shutil.copytree(copies["before"].parent / raw, copies["after"].parent / raw)
        for side, code in (("before", args.before.resolve()), ("after", args.after.resolve())):
            run_all(copies[side], code, stages, env)
        roots = {side: copies[side].parent for side in copies}
        rows = compare(roots["before"] / "data" / "processed" / sid, roots["after"] / "data" / "processed" / sid)
        if not args.no_report:
            rows += compare(roots["before"] / "reports" / sid / "tables", roots["after"] / "reports" / sid / "tables",
                            "tables/")
        same = sum(v == "identical" for _, v, _ in rows)
        print(f"{sid}: {same} of {len(rows)} files identical")
        for name, verdict, diffs in rows:
            if verdict != "identical":
                print(f"  {name}: {verdict}")
                for c, (text, ab, rel) in diffs.items():
                    print(f"    {c}: {'text differs' if text else f'max |Δ| {ab:.3g}, max relative {rel:.3g}'}")
            bad += verdict.startswith("DIFFERENT") or verdict.startswith("only")
    for name, tol in TOLERANCE.items():
        cols = ", ".join(tol["columns"]) if tol["columns"] else "every numeric column"
        print(f"tolerance {name} ({cols}: rtol {tol['rtol']:g}, atol {tol['atol']:g}): {tol['why']}")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
