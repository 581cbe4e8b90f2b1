"""Provenance for the colophon: the code's git commit and the installed package versions (I/O)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import subprocess
from pathlib import Path

__all__ = ["PACKAGES", "git_commit", "package_version", "wave_checksum"]

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["pandas", "numpy", "scipy", "networkx", "igraph", "statsmodels", "pingouin", "seaborn",
            "matplotlib", "pyxform", "pyreadstat", "python-docx", "openpyxl", "jinja2"]


def git_commit() -> str | None:
    """``git rev-parse HEAD`` of the repository (``+dirty`` when the tree has changes); None without git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return None
        commit = head.stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                                capture_output=True, text=True, timeout=10)
        return commit + ("+dirty" if status.returncode == 0 and status.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def package_version(name: str) -> str | None:
    for candidate in (name, name.replace("igraph", "python-igraph")):
        try:
            return importlib.metadata.version(candidate)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def wave_checksum(files: dict[str, str]) -> str:
    """SHA-256 of the sorted ``"path sha256"`` lines (newline-terminated) of a wave's files."""
    lines = "".join(f"{p} {h}\n" for p, h in sorted(files.items()))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()
