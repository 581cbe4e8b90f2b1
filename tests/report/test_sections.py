"""The report's sections are declared: each ``section()`` has a docstring naming the files it
reads and every table and figure it prints (read from its module's code), and no section keeps a
private copy of the study's wave order or of a catalogue lookup."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import load_study
from pipeline.report.context import Context, Inputs
from pipeline.report.sections import ORDER, network, summary

SECTIONS = Path(__file__).resolve().parents[2] / "pipeline" / "report" / "sections"


def _literal_calls(module, *methods: str) -> set[str]:
    """The literal first arguments of the calls ``<x>.<method>("…", …)`` in a section's module."""
    keys = set()
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in methods and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            keys.add(node.args[0].value)
    return keys


def _made(module) -> set[str]:
    """The keys of the tables and figures a section module makes: numbering.table("key", …) and
    numbering.figure("key", …)."""
    return _literal_calls(module, "table", "figure")


@pytest.mark.parametrize("key,module", ORDER, ids=[k for k, _ in ORDER])
def test_each_section_names_what_it_reads_and_prints(key, module):
    doc = inspect.getdoc(module.section) or ""
    assert "Reads" in doc and "Prints" in doc, f"{key}: section() docstring names no files or tables"
    missing = sorted(k for k in _made(module) if f"``{k}``" not in doc)
    assert not missing, f"{key}: section() makes {missing} but its docstring does not name them"
    unnamed = sorted(f for f in _literal_calls(module, "inputs") if f"``{f}``" not in doc)
    assert not unnamed, f"{key}: section() reads {unnamed} but its docstring does not name them"


def test_the_scan_finds_the_tables():
    assert {"network_whole", "network_ei", "brokerage", "sociogram_any"} <= _made(network)
    assert {"network_whole.csv", "ties.parquet"} <= _literal_calls(network, "inputs")


@pytest.mark.parametrize("path", sorted(SECTIONS.glob("*.py")), ids=lambda p: p.name)
def test_no_private_order_maps_or_catalogue_lookups(path):
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"\{\s*\w+\s*:\s*i\s+for\s+i\s*,\s*\w+\s+in\s+enumerate", text), \
        f"{path.name}: an order map of its own (use shape.study_order)"
    assert "STRINGS[" not in text, f"{path.name}: a catalogue lookup of its own (use words.code_label / has)"


def test_the_summary_keeps_the_villages_order_within_a_wave():
    """A district's E-I sentences: wave by wave, the villages in network_whole.csv's order (a sort
    that is not stable shuffled them, differently on another CPU)."""
    study = load_study(str(SECTIONS.parents[2] / "study.yaml"))
    rows = [{"site": f"desa{i:02d}", "wave": wave, "tie_type": "any", "n_nodes": 20, "ties_between": 10,
             "n_ties": 100 + i + 50 * (wave == "post"), "ei": -0.8, "ei_expected": 0.0, "ei_rescaled": -0.5,
             "ei_p": 0.5} for wave in ("post", "pre") for i in range(30)]
    ctx = Context(study, "en", Inputs({"network_whole.csv": pd.DataFrame(rows)}))
    totals = [int(re.search(r"\d+ of (\d+) ties", f.text).group(1)) for f in summary._network_findings(ctx)]
    assert totals == [100 + i for i in range(30)] + [150 + i for i in range(30)]
