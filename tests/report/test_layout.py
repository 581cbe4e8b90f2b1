"""The report package's layout, read from its source: no import cycle between its modules, no module
importing another's private name, imports at the top (only third-party packages may be imported where
they are used), and no function of 80 lines or more in the modules that assemble the report."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "pipeline" / "report"
#: the modules that assemble the report (docx.py and exports.py write file formats, out of scope)
ASSEMBLY = ("sections", "handout.py", "villages.py", "build.py", "context.py", "inputs.py", "words.py",
            "shape.py", "numbering.py", "columns.py")


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[ast.stmt, str, list[str], bool]]:
    """(node, absolute module, names, at top) for each import statement of ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    me = _module(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((node, target, [a.name for a in node.names], id(node) in top))
        elif isinstance(node, ast.Import):
            for a in node.names:
                out.append((node, a.name, [], id(node) in top))
    return out


FILES = sorted(REPORT.rglob("*.py"))
MODULES = {_module(p): p for p in FILES}


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for m, p in MODULES.items():
        for _, target, names, _ in _imports(p):
            subs = [f"{target}.{n}" for n in names]
            # `from . import text` imports the module text, not the package's __init__
            named = [s for s in subs if s in MODULES]
            for c in named + ([target] if len(named) < len(subs) or not subs else []):
                if c in MODULES and c != m:
                    graph[m].add(c)
    return graph


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module, each sorted."""
    graph = nx.DiGraph()
    graph.add_nodes_from(edges)
    graph.add_edges_from((v, w) for v, ws in edges.items() for w in ws)
    return sorted(sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1)


def test_no_import_cycle_in_report():
    assert len(MODULES) > 20
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_one():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REPORT)))
def test_no_private_name_of_another_module(path):
    bad = [(node.lineno, target, n) for node, target, names, _ in _imports(path)
           for n in names if n.startswith("_") and target.startswith("pipeline")]
    assert bad == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REPORT)))
def test_imports_at_the_top_except_third_party(path):
    """Inside a function only a third-party package may be imported (a heavy one, loaded when used)."""
    stdlib = set(sys.stdlib_module_names)
    bad = [(node.lineno, target) for node, target, _, top in _imports(path)
           if not top and (target.startswith("pipeline") or target.split(".")[0] in stdlib)]
    assert bad == []


@pytest.mark.parametrize("name", ASSEMBLY)
def test_no_function_of_80_lines_or_more(name):
    paths = sorted((REPORT / name).rglob("*.py")) if (REPORT / name).is_dir() else [REPORT / name]
    long = [(p.name, n.name, n.end_lineno - n.lineno + 1) for p in paths
            for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 >= 80]
    assert long == []
