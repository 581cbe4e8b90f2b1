"""Importing any pipeline module changes nothing (pytest imports every one of them for its doctests):
no matplotlib backend chosen, no umask read, no environment variable, warning filter, logging handler,
thread or file added, beyond what the third-party packages they import do themselves."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import networkx as nx

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


# -- the package's import graph, read from the source (no import needed) ------------------------

#: third-party packages slow to import (or pulling in a GUI toolkit): a function may import them lazily
HEAVY = {"matplotlib", "igraph", "dask", "distributed", "docx", "pyreadstat", "pyodk", "pyxform", "openpyxl",
         "seaborn"}
#: at most this many functions of 80 lines or more in pipeline/, report/ included (19 before issue 21)
MAX_LONG_FUNCTIONS = 5


def _modules() -> dict[str, Path]:
    """Dotted module name → file, for every module of the package."""
    out = {}
    for path in sorted((ROOT / "pipeline").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> list[dict]:
    """Every import statement of one module: the module it names, the names it takes, where it sits."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    top = {id(node) for node in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                out.append({"target": full if full in modules else target, "name": alias.name,
                            "bound": alias.asname or alias.name, "module": full in modules,
                            "line": node.lineno, "top": id(node) in top})
        elif isinstance(node, ast.Import):
            for alias in node.names:
                out.append({"target": alias.name, "name": None, "bound": alias.asname or alias.name,
                            "module": alias.name in modules, "line": node.lineno, "top": id(node) in top})
    return out


def _graph() -> tuple[dict[str, Path], dict[str, list[dict]]]:
    modules = _modules()
    return modules, {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module, each sorted."""
    graph = nx.DiGraph()
    graph.add_nodes_from(edges)
    graph.add_edges_from((v, w) for v, ws in edges.items() for w in ws)
    return sorted(sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1)


def test_cycles_are_found():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_package():
    """No module imports, directly or through others, a module that imports it (lazy imports included;
    a package's ``__init__`` counts as the package)."""
    modules, imports = _graph()
    edges = {name: {i["target"] for i in found if i["target"] in modules and i["target"] != name}
             for name, found in imports.items()}
    assert _cycles(edges) == []


def test_no_module_takes_another_modules_private_name():
    """``from .x import _name`` or ``x._name`` across modules: a private name is its module's alone."""
    modules, imports = _graph()
    bad = []
    for name, found in imports.items():
        bad += [f"{name}:{i['line']} imports {i['target']}.{i['name']}" for i in found
                if i["name"] and i["name"].startswith("_") and not i["module"] and i["target"] != name
                and i["target"].startswith("pipeline")]
        aliases = {i["bound"]: i["target"] for i in found if i["module"] and i["target"] != name}
        for node in ast.walk(ast.parse(modules[name].read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                bad.append(f"{name}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert bad == []


def test_imports_sit_at_the_top_of_each_module():
    """Inside a function only: heavy third-party packages (:data:`HEAVY`); ``pipeline.report``, whose
    package loads matplotlib; in ``pipeline/io.py`` (it runs under ``python3 -S``, without pandas) and
    in ``pipeline/cli.py`` (each command imports its own stage, so ``sinergi --help`` stays fast).
    ``pipeline/report/`` itself is not checked here (issue 22 rebuilds it)."""
    _, imports = _graph()
    lazy = []
    for name, found in imports.items():
        if name.startswith("pipeline.report") or name in ("pipeline.io", "pipeline.cli"):
            continue
        lazy += [f"{name}:{i['line']} {i['target']}" for i in found if not i["top"]
                 and i["target"].split(".")[0] not in HEAVY and not i["target"].startswith("pipeline.report")]
    assert lazy == []


def test_io_runs_without_site_packages():
    res = subprocess.run([sys.executable, "-S", "-c", "import pipeline.io"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]


def _long_functions() -> list[str]:
    out = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 >= 80:
                out.append(f"{name}.{node.name} ({node.end_lineno - node.lineno + 1} lines)")
    return sorted(out)


def test_few_long_functions():
    long = _long_functions()
    assert len(long) <= MAX_LONG_FUNCTIONS, long
