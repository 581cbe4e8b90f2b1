"""Every stage writes the tables it wrote before a refactoring: stage outputs against stored copies.

``tests/data/stage_outputs/<case>/`` holds what every analysis stage (tidy … coverage) wrote to
``data/processed/<study>/`` for the demo study and for a public fixture with networks and three waves
(``sampson``, with a fixed pseudonym key), as the code before issue 21 wrote them. Text cells must match exactly, numbers
to 1e-9 (relative; a refactoring may reorder a sum); Parquet tables are compared as frames. After a
change *meant* to alter results, rewrite the copies (and say why in the commit)::

    .venv/bin/python tests/test_stage_outputs.py --write
"""

from __future__ import annotations

import contextlib
import gzip
import io
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script (--write)
    sys.path.insert(0, str(ROOT))

from pipeline.cli import main  # noqa: E402

STORED = ROOT / "tests" / "data" / "stage_outputs"
ANALYSIS = ("tidy", "scales", "network", "prepost", "district", "did", "invariance", "coverage")
#: case → the stages run after ``pull``
CASES = {"demo": ANALYSIS, "sampson": ANALYSIS}
RTOL, ATOL = 1e-9, 1e-12


def _demo_study(folder: Path) -> Path:
    doc = yaml.safe_load((ROOT / "study.yaml").read_text(encoding="utf-8"))
    doc["instrument"] = str(ROOT / "instruments" / "sinergi.yaml")
    doc["report"]["pdf"] = False
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def _public_study(name: str, folder: Path) -> Path:
    """A public fixture's study in ``folder`` with a fixed pseudonym key (the same pseudonyms every run)."""
    src = ROOT / "tests" / "data" / "public" / name
    shutil.copytree(src, folder / name)
    path = folder / name / "study.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"(?m)^instrument:.*$", f"instrument: {ROOT / 'instruments' / 'sinergi.yaml'}", text),
                    encoding="utf-8")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw = folder / "data" / "raw" / doc["id"]
    raw.mkdir(parents=True)
    (raw / "pseudonym.key").write_text("cd" * 32)
    (raw / "pseudonym.key").chmod(0o600)
    (raw / "pseudonym.width").write_text("16\n")
    return path


def run_case(case: str, folder: Path) -> Path:
    """Run ``pull`` and the case's stages in ``folder``; returns the processed folder."""
    with contextlib.chdir(folder):
        path = _demo_study(folder) if case == "demo" else _public_study(case, folder)
        for stage in ("pull", *CASES[case]):
            args = [stage, "--study", str(path)] + (["--local-only", "--quiet"] if stage == "pull" else [])
            assert main(args) == 0, f"{case}: sinergi {stage} failed"
        sid = yaml.safe_load(path.read_text(encoding="utf-8"))["id"]
    return folder / "data" / "processed" / sid


def _outputs(processed: Path) -> list[Path]:
    return sorted(p for p in processed.iterdir() if p.suffix in (".csv", ".parquet"))


def _stored_text(path: Path) -> str:
    return gzip.decompress(path.read_bytes()).decode("utf-8")


def _same_csv(name: str, before: str, after: str) -> None:
    if before == after:
        return
    a = pd.read_csv(io.StringIO(before), dtype=str, keep_default_na=False)
    b = pd.read_csv(io.StringIO(after), dtype=str, keep_default_na=False)
    assert list(a.columns) == list(b.columns), f"{name}: columns"
    assert a.shape == b.shape, f"{name}: rows"
    for col in a.columns:
        x, y = pd.to_numeric(a[col], errors="coerce"), pd.to_numeric(b[col], errors="coerce")
        numeric = (x.notna() | (a[col] == "")).all() and (y.notna() | (b[col] == "")).all()
        if numeric:
            np.testing.assert_allclose(y.to_numpy(float), x.to_numpy(float), rtol=RTOL, atol=ATOL,
                                       err_msg=f"{name}: column {col}")
        else:
            diff = a.index[a[col] != b[col]]
            assert diff.empty, f"{name}: column {col}, row {diff[0] + 2}: {a[col][diff[0]]!r} → {b[col][diff[0]]!r}"


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request, tmp_path_factory) -> tuple[str, Path]:
    return request.param, run_case(request.param, tmp_path_factory.mktemp(request.param))


def test_stage_outputs_are_the_stored_ones(case):
    name, processed = case
    stored = STORED / name
    made = {p.name for p in _outputs(processed)}
    kept = {p.name.removesuffix(".gz") for p in stored.iterdir()}
    assert made == kept
    for path in _outputs(processed):
        if path.suffix == ".parquet":
            pd.testing.assert_frame_equal(pd.read_parquet(path), pd.read_parquet(stored / path.name),
                                          check_exact=False, rtol=RTOL, atol=ATOL, obj=path.name)
        else:
            _same_csv(path.name, _stored_text(stored / f"{path.name}.gz"), path.read_text(encoding="utf-8"))


def test_a_changed_cell_is_caught():
    before = "respondent_id,score\nR1,3.25\nR2,4.0\n"
    _same_csv("x.csv", before, "respondent_id,score\nR1,3.2500000000001\nR2,4.0\n")  # float noise: equal
    with pytest.raises(AssertionError, match="score"):
        _same_csv("x.csv", before, "respondent_id,score\nR1,3.26\nR2,4.0\n")
    with pytest.raises(AssertionError, match="row 3"):
        _same_csv("x.csv", before, "respondent_id,score\nR1,3.25\nR3,4.0\n")


def write_stored() -> None:
    """Rewrite ``tests/data/stage_outputs/`` from the current code."""
    import tempfile

    for name in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            processed = run_case(name, Path(tmp))
            dest = STORED / name
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir(parents=True)
            for path in _outputs(processed):
                if path.suffix == ".parquet":
                    shutil.copy(path, dest / path.name)
                else:
                    (dest / f"{path.name}.gz").write_bytes(gzip.compress(path.read_bytes(), mtime=0))
        print(f"wrote {dest}")


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    write_stored()
