"""Fixtures of the report tests: the demo study's processed data, once per session, and its report
in both languages (used by test_report.py and the test_files_*.py tests of each deliverable)."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SINERGI = Path(sys.executable).parent / "sinergi"


def _run(root: Path, *args: str) -> None:
    res = subprocess.run([str(SINERGI), *args, "--study", "study.yaml"], cwd=root, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, f"sinergi {' '.join(args)} failed:\n{res.stderr[-3000:]}"


@pytest.fixture(scope="session")
def processed(tmp_path_factory) -> Path:
    """A folder with study.yaml and data/ (raw + processed) for the demo study, made by the real stages."""
    root = tmp_path_factory.mktemp("report-base")
    text = (ROOT / "study.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^instrument:.*$", f"instrument: {ROOT / 'instruments' / 'sinergi.yaml'}", text)
    (root / "study.yaml").write_text(text, encoding="utf-8")
    _run(root, "pull", "--local-only", "--if-missing", "--quiet")
    for stage in ("tidy", "scales", "network", "prepost", "invariance", "coverage"):
        _run(root, stage)
    return root


def _copy_study(base: Path, dest: Path, lang: str) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(base / "data", dest / "data", dirs_exist_ok=True)
    text = (base / "study.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^language:.*$", f"language: {lang}", text)
    (dest / "study.yaml").write_text(text, encoding="utf-8")
    return dest


def _build(root: Path, lang: str | None = None):
    from pipeline.config import load_study
    from pipeline.report import build

    with contextlib.chdir(root):
        study = load_study("study.yaml")
        path = build(study, lang)
    return study, root / path


@pytest.fixture(scope="session")
def built(processed, tmp_path_factory) -> dict:
    """{lang: (root, study, report.html path)} for both languages."""
    out = {}
    for lang in ("id", "en"):
        root = _copy_study(processed, tmp_path_factory.mktemp(f"report-{lang}"), lang)
        study, html = _build(root)
        out[lang] = (root, study, html)
    return out
