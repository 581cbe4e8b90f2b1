"""pipeline/outputs.py names each stage's files once: the Makefile's ``*_OUT`` lists, what each
``sinergi`` command writes and the report's "run `make …`" notes all agree with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from pipeline.outputs import OUTPUTS, STAGE_OF, report_inputs
from tests.tablestudy import write_tables_study

ROOT = Path(__file__).resolve().parent.parent


def _makefile_outputs() -> dict[str, list[str]]:
    """``TIDY_OUT := $(addprefix $(PROC)/,a b \\ c)`` or ``COVERAGE_OUT := $(PROC)/x`` → {"tidy": [a, b, c], …}."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    out = {}
    for var, value in re.findall(r"(?m)^([A-Z]+)_OUT\s*:=\s*(.*)$", text):
        value = value.strip()
        m = re.fullmatch(r"\$\(addprefix \$\(PROC\)/,([^)]*)\)", value)
        if m:
            out[var.lower()] = m.group(1).split()
        elif value.startswith("$(PROC)/"):
            out[var.lower()] = [w.removeprefix("$(PROC)/") for w in value.split()]
    return out


def test_makefile_lists_are_the_registry():
    make = _makefile_outputs()
    assert make == {stage: list(names) for stage, names in OUTPUTS.items()}


def test_makefile_has_a_target_and_a_command_per_stage():
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    for stage in OUTPUTS:
        assert re.search(rf"(?m)^{stage}: \$\({stage.upper()}_OUT\)", text), f"make {stage}"
        assert f"$(call RUN,{stage})" in text, f"the rule for {stage.upper()}_OUT runs `sinergi {stage}`"


def test_every_file_has_one_stage_and_the_report_reads_them_in_stage_order():
    names = [n for ns in OUTPUTS.values() for n in ns]
    assert len(names) == len(set(names))
    assert report_inputs() == names
    assert all(STAGE_OF[n] == f"make {stage}" for stage, ns in OUTPUTS.items() for n in ns)


def test_readme_pipeline_names_each_stage_files(root):
    """The README's pipeline drawing names what each stage writes (without extensions)."""
    readme = (root / "README.md").read_text(encoding="utf-8")
    for stage in [s for s in OUTPUTS if s != "plan"]:  # plan is made on its own, not drawn
        line = re.search(rf"─ {stage}\s+─►\s*([^\n(]*)", readme)
        assert line, stage
        listed = [w.strip() for w in line.group(1).split(",") if w.strip()]
        assert listed == [n.rsplit(".", 1)[0] for n in OUTPUTS[stage]], stage


@pytest.mark.slow
def test_each_command_writes_exactly_its_registered_files(in_tmp, sinergi):
    """Every stage on a small tables study (the plan with few simulations) writes the files the
    registry names for it, and nothing else."""
    study = write_tables_study(in_tmp)
    doc = yaml.safe_load(study.read_text(encoding="utf-8"))
    doc["plan"] = {"villages_program": 1, "villages_comparison": 1, "respondents": 20, "sims": 20}
    study.write_text(yaml.safe_dump(doc), encoding="utf-8")
    code, _, err = sinergi("pull", "--study", study, "--quiet")
    assert code == 0, err
    proc = in_tmp / "data" / "processed" / doc["id"]
    seen: set[str] = set()
    for stage in OUTPUTS:
        code, _, err = sinergi(stage, "--study", study)
        assert code == 0, f"{stage}: {err}"
        now = {p.name for p in proc.iterdir()} if proc.exists() else set()
        assert now - seen == set(OUTPUTS[stage]), stage
        seen = now


def test_a_missing_input_names_the_stage_that_makes_it(in_tmp, sinergi):
    study = write_tables_study(in_tmp)
    assert sinergi("pull", "--study", study, "--quiet")[0] == 0
    assert sinergi("tidy", "--study", study)[0] == 0
    code, _, err = sinergi("prepost", "--study", study)
    assert code == 2 and "scores.csv: missing" in err and "`make scales`" in err
