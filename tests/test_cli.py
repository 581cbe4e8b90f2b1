"""The command line: every command documented, help works."""

from __future__ import annotations

import argparse

import pytest

from pipeline.cli import build_parser


def _commands(parser, prefix=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield prefix + (name,), sub
                yield from _commands(sub, prefix + (name,))


def test_every_command_has_help_text_and_readme_mentions_it(root):
    readme = (root / "README.md").read_text(encoding="utf-8")
    commands = list(_commands(build_parser()))
    assert {c[0] for c, _ in commands} >= {"instruments", "pull", "tidy", "scales", "network", "prepost",
                                           "report", "kobo"}
    for path, sub in commands:
        assert sub.description and len(sub.description) > 10, path
        assert "sinergi " + " ".join(path) in readme, f"README does not document `sinergi {' '.join(path)}`"


def test_help_exits_zero(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["--help"])
    assert exc.value.code == 0
    assert "tidy" in capsys.readouterr().out


# -- the source commands of issue 25: google script, odk deploy, roster next ----------------------

import contextlib  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

from pipeline.cli import main  # noqa: E402
from pipeline.instrument import load_instrument  # noqa: E402
from pipeline.roster import read_roster_csv  # noqa: E402
from pipeline.sources.google_form_script import google_form_contract  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
INSTRUMENT = ROOT / "instruments" / "sinergi.yaml"
GOOGLE = ROOT / "tests" / "data" / "google_forms"
DEMO = ROOT / "data" / "raw" / "demo-kaloran"


def _google_study(folder: Path) -> Path:
    path = folder / "study.yaml"
    path.write_text(f"id: lapangan\ntitle: Desa Uji\nlanguage: en\ninstrument: {INSTRUMENT}\n"
                    "source: {kind: google_forms}\n"
                    "waves:\n  - {id: pre, label: Before, file: responses/pre.csv, contract: forms/pre/google_form.json, "
                    "roster: roster.csv}\n", encoding="utf-8")
    shutil.copy(GOOGLE / "roster.csv", folder / "roster.csv")
    return path


def test_google_script_writes_the_script_and_contract_where_the_study_names_them(tmp_path, capsys):
    study = _google_study(tmp_path)  # the study file names files not made yet: loading it is fine
    with contextlib.chdir(tmp_path):
        assert main(["google", "script", "--study", str(study), "--wave", "pre", "--roster", "roster.csv"]) == 0
        assert main(["google", "script", "--study", str(study), "--wave", "pre", "--roster", "roster.csv"]) == 0
    out = tmp_path / "forms" / "pre"
    contract = json.loads((out / "google_form.json").read_text(encoding="utf-8"))
    want = google_form_contract(load_instrument(INSTRUMENT), "en", read_roster_csv(GOOGLE / "roster.csv"),
                                title="Desa Uji — Before")
    assert contract == json.loads(json.dumps(want))
    assert "function createForm" in (out / "google_form.gs").read_text(encoding="utf-8")
    assert "forms/pre/google_form.gs" in capsys.readouterr().out
    # a new roster is a new form: its contract never replaces the old one's (its answers are read with it)
    (tmp_path / "roster2.csv").write_text("name,label\nu001,Ibu Sari\nu009,Pak Joko\n", encoding="utf-8")
    with contextlib.chdir(tmp_path):
        assert main(["google", "script", "--study", str(study), "--wave", "pre", "--roster", "roster2.csv"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "another version of the form" in err and "--out" in err and "pre-v2" in err
    assert json.loads((out / "google_form.json").read_text(encoding="utf-8")) == contract


def test_google_script_refuses_another_source_s_study(tmp_path, capsys):
    study = tmp_path / "study.yaml"
    study.write_text(f"id: x\ntitle: t\ninstrument: {INSTRUMENT}\nsource: {{kind: demo}}\nwaves: [{{id: pre}}]\n",
                     encoding="utf-8")
    shutil.copy(GOOGLE / "roster.csv", tmp_path / "roster.csv")
    with contextlib.chdir(tmp_path):
        assert main(["google", "script", "--study", str(study), "--wave", "pre", "--roster", "roster.csv"]) == 2
    assert "source kind 'demo', not 'google_forms'" in capsys.readouterr().err


def test_roster_next_from_a_pulled_wave(tmp_path, capsys):
    study = tmp_path / "study.yaml"
    study.write_text(f"id: lapangan\ntitle: t\ninstrument: {INSTRUMENT}\nsource: {{kind: kobo}}\n"
                     "waves: [{id: pre}, {id: post}]\n", encoding="utf-8")
    (tmp_path / "new.csv").write_text("label\nIbu Baru — warung\n", encoding="utf-8")
    prev = read_roster_csv(DEMO / "post" / "media" / "roster.csv")
    leaver = prev["name"].iloc[-1]
    with contextlib.chdir(tmp_path):
        shutil.copytree(DEMO, tmp_path / "data" / "raw" / "lapangan")
        assert main(["roster", "next", "--study", str(study), "--from", "post", "--out", "next.csv",
                     "--newcomers", "new.csv", "--left", leaver]) == 0
    out = read_roster_csv(tmp_path / "next.csv")
    assert set(prev["name"]) < set(out["name"]) and len(out) == len(prev) + 1
    statuses = out["status"].tolist()
    assert statuses == sorted(statuses, key=["baseline", "listed", "left", "new"].index)
    assert statuses.count("baseline") > 0.5 * len(out) and statuses[-1] == "new"
    assert out.set_index("name").loc[leaver, "status"] == "left"
    assert "wrote next.csv" in capsys.readouterr().out


def test_odk_deploy_publishes_once_and_prints_the_links(tmp_path, capsys, monkeypatch):
    from pipeline.instrument import write_xlsform
    from tests.odk_server import FakeCentral

    write_xlsform(load_instrument(INSTRUMENT), tmp_path / "sinergi.xlsx")
    (tmp_path / "roster.csv").write_text("name,label\nu001,Ibu Sari\nu002,Pak Budi\n", encoding="utf-8")
    monkeypatch.setenv("ODK_CENTRAL_USERNAME", "pkm@example.org")
    monkeypatch.setenv("ODK_CENTRAL_PASSWORD", "rahasia-sekali")
    with FakeCentral() as fake, contextlib.chdir(tmp_path):
        study = tmp_path / "study.yaml"
        study.write_text(f"id: lapangan\ntitle: Desa Uji\ninstrument: {INSTRUMENT}\n"
                         f"source: {{kind: odk, server: '{fake.url}', project_id: 1}}\n"
                         "waves: [{id: pre, form_id: sinergi_pre}]\n", encoding="utf-8")
        argv = ["odk", "deploy", "--study", str(study), "--wave", "pre", "--roster", "roster.csv",
                "--xlsform", "sinergi.xlsx"]
        assert main(argv) == 0
        first = capsys.readouterr().out
        assert main(argv) == 0
        second = capsys.readouterr().out
        forms = [k for k in fake.forms if k[0] == 1]
    assert forms == [(1, "sinergi_pre")]
    assert first.startswith("created and published form sinergi_pre") and "/-/" in first and "app-users" in first
    assert second.startswith("unchanged") and "rahasia" not in first + second
