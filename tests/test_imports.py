"""Importing any pipeline module changes nothing (pytest imports every one of them for its doctests):
no matplotlib backend chosen, no umask read, no environment variable, warning filter, logging handler,
thread or file added, beyond what the third-party packages they import do themselves."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import ast, importlib, json, logging, os, pkgutil, sys, threading, warnings
from pathlib import Path

third_party = json.loads(sys.argv[1])
for name in third_party:  # their own import-time effects are theirs, not ours
    importlib.import_module(name)
import matplotlib

umask_calls = []
real_umask = os.umask
os.umask = lambda mask: umask_calls.append(mask) or real_umask(mask)
env, filters = dict(os.environ), list(warnings.filters)
handlers, threads = list(logging.getLogger().handlers), set(threading.enumerate())
files = set(os.listdir("."))

import pipeline
modules = sorted(m.name for m in pkgutil.walk_packages(pipeline.__path__, "pipeline."))
for name in modules:
    importlib.import_module(name)

backend = matplotlib.rcParams._get_backend_or_none() if hasattr(matplotlib.rcParams, "_get_backend_or_none") else None
print(json.dumps({
    "modules": len(modules),
    "backend": backend,
    "umask": umask_calls,
    "env": sorted(k for k in set(env) | set(os.environ) if env.get(k) != os.environ.get(k)),
    "filters": [repr(f) for f in warnings.filters if f not in filters],
    "handlers": [repr(h) for h in logging.getLogger().handlers if h not in handlers],
    "threads": [t.name for t in set(threading.enumerate()) - threads],
    "files": sorted(set(os.listdir(".")) - files),
}))
"""


def _third_party() -> list[str]:
    """The packages pipeline modules import at module level (not inside functions)."""
    names = set()
    for path in (ROOT / "pipeline").rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.add(node.module)
    return sorted(n for n in names if n.split(".")[0] not in ("pipeline", "__future__"))


def test_importing_every_pipeline_module_has_no_side_effects(tmp_path):
    res = subprocess.run([sys.executable, "-c", PROBE, json.dumps(_third_party())], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "MPLBACKEND": ""})
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["modules"] > 30
    assert out.pop("modules") and out == {"backend": None, "umask": [], "env": [], "filters": [], "handlers": [],
                                          "threads": [], "files": []}
