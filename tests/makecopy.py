"""A copy of the repository in which the tests run `make` as a user does."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split("\n")
    return [f for f in out if f and (ROOT / f).is_file()]


def copy_repo(dest: Path) -> Path:
    """Copy this checkout's tracked and untracked (not ignored) files to ``dest``; share its ``.venv``."""
    for f in _files():
        (dest / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, dest / f)  # keeps mtimes: .venv/.installed stays newer than pyproject.toml
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest


def make(repo: Path, *args: str) -> subprocess.CompletedProcess:
    """Run ``make args`` in the copy ``repo`` (``STUDY`` from the arguments only)."""
    env = dict(os.environ, PYTHONPATH=str(repo), MPLBACKEND="Agg")
    env.pop("STUDY", None)
    # the copy shares this checkout's .venv (a symlink): -o keeps make from reinstalling into it
    # (which would point the editable install at the copy) when pyproject.toml is newer than it
    return subprocess.run(["make", "-o", ".venv/.installed", *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=1800)
