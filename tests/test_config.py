"""study.yaml: validated on load, one clear line per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.config import load_study
from pipeline.errors import SinergiError

ROOT = Path(__file__).resolve().parent.parent


def test_demo_study_loads():
    study = load_study(ROOT / "study.yaml")
    assert study.id == "demo-kaloran" and study.wave_ids == ["pre", "post"]
    assert study.source.kind == "demo" and study.group_values == ["lokal", "pendatang"]
    assert study.raw_dir == Path("data/raw/demo-kaloran")
    assert study.wave_label("post", "en") == "After the program"
    assert study.privacy.show_names is False
    assert study.program_name("en") == "Cross-group UMKM forum (example)" and study.report.team
    assert study.report.pdf is True


def _write(tmp_path, mutate) -> Path:
    raw = yaml.safe_load((ROOT / "study.yaml").read_text(encoding="utf-8"))
    raw["instrument"] = str(ROOT / "instruments" / "sinergi.yaml")
    mutate(raw)
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r.update(colour="red"), "unknown key 'colour'"),
    (lambda r: r["source"].update(sed=1), "unknown key 'source.sed'"),
    (lambda r: r["source"].update(kind="odk"), "source.kind = 'odk' is not allowed; allowed: demo, tables, kobo, kobo_files"),
    (lambda r: r.update(language="fr"), "language = 'fr': allowed: id or en"),
    (lambda r: r["analysis"].update(permutations="many"), "analysis.permutations = 'many'"),
    (lambda r: r.pop("waves"), "missing key 'waves'"),
    (lambda r: r.update(id="My Study"), "id = 'My Study': use lower-case letters"),
    (lambda r: r.update(source={"kind": "tables", "path": "nowhere"}), "source.path = 'nowhere': folder not found"),
    (lambda r: r.update(source={"kind": "kobo", "server": "kf.kobotoolbox.org"}, waves=[{"id": "pre", "asset_uid": "a1"}]),
     "source.server = 'kf.kobotoolbox.org'"),
    (lambda r: r["waves"].append({"id": "pre"}), "wave id 'pre' appears twice"),
    (lambda r: r.update(tie_types=["info", "any"]), "'any' is reserved"),
    (lambda r: r.update(instrument="missing.yaml"), "instrument = 'missing.yaml': file not found"),
    (lambda r: r["report"].update(colour="red"), "unknown key 'report.colour'"),
    (lambda r: r["report"].update(team=" "), "report.team = ' ': is empty; write the name, or leave the key out"),
    (lambda r: r["report"].update(pdf="ya"), "report.pdf = 'ya': write true or false"),
])
def test_bad_study_gives_one_line(tmp_path, mutate, message):
    with pytest.raises(SinergiError) as exc:
        load_study(_write(tmp_path, mutate))
    text = str(exc.value)
    assert message in text
    assert "\n" not in text and "Traceback" not in text


def test_not_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "s.yaml"
    bad.write_text("id: [unclosed\n")
    with pytest.raises(SinergiError, match="not valid YAML at line"):
        load_study(bad)
    with pytest.raises(SinergiError, match="study file not found"):
        load_study(tmp_path / "nope.yaml")


def test_cli_prints_one_line_and_exit_2(tmp_path, sinergi):
    path = _write(tmp_path, lambda r: r.update(colour="red"))
    code, out, err = sinergi("tidy", "--study", path)
    assert code == 2
    assert err.startswith("sinergi: error: ") and err.count("\n") == 1 and "Traceback" not in err


def _tables(tmp_path, **keys) -> Path:
    (tmp_path / "data").mkdir(exist_ok=True)
    raw = {"id": "t", "title": "T", "source": {"kind": "tables", "path": "data"}, "waves": [{"id": "pre"}],
           "group": {"levels": [{"value": "placebo"}, {"value": "caffeine"}]}, **keys}
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_tie_types_default_by_source_and_may_be_empty(tmp_path):
    assert load_study(ROOT / "study.yaml").tie_types == ["info", "help", "collab"]  # the instrument's
    tables = load_study(_tables(tmp_path))
    assert tables.tie_types == [] and not tables.has_networks  # a tables study names its own, or has none
    assert load_study(_tables(tmp_path, tie_types=["friend"])).tie_types == ["friend"]
    demo = load_study(_write(tmp_path, lambda r: r.update(tie_types=[])))
    assert demo.tie_types == [] and not demo.has_networks  # [] = a study without networks, not refused


def test_reference_group_is_the_first_level_or_group_reference(tmp_path):
    study = load_study(_tables(tmp_path))
    assert study.reference_group == "placebo" and study.model_levels == ["placebo", "caffeine"]
    study = load_study(_tables(tmp_path, group={"levels": [{"value": "caffeine"}, {"value": "decaf"},
                                                           {"value": "placebo"}], "reference": "placebo"}))
    assert study.group_values == ["caffeine", "decaf", "placebo"]  # the tables' order stays the study's
    assert study.model_levels == ["placebo", "caffeine", "decaf"]
    with pytest.raises(SinergiError) as exc:
        load_study(_tables(tmp_path, group={"levels": [{"value": "a"}, {"value": "b"}], "reference": "Placebo"}))
    assert str(exc.value) == (f"{tmp_path / 'study.yaml'}: group.reference = 'Placebo' is not a group level (a, b); "
                              "name one of group.levels' values, or leave it out to use the first")
