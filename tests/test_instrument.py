"""The instrument: its source of truth, the XLSForm it builds, the scale map and codebook."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook
from pyxform.xls2xform import convert

from pipeline.errors import SinergiError
from pipeline.instrument import (asset_content, codebook_markdown, load_instrument, scale_map, tie_questions,
                                 write_xlsform, xlsform_sheets)

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "instruments" / "sinergi.yaml"
LANG_COLS = ["label::Bahasa Indonesia (id)", "label::English (en)"]


@pytest.fixture(scope="module")
def inst():
    return load_instrument(SOURCE)


@pytest.fixture(scope="module")
def xlsx(inst, tmp_path_factory):
    path = tmp_path_factory.mktemp("form") / "sinergi.xlsx"
    write_xlsform(inst, path)
    return path


def test_xlsform_build_is_reproducible(inst, xlsx, tmp_path):
    import time
    import zipfile

    time.sleep(1.1)
    write_xlsform(inst, tmp_path / "again.xlsx")
    assert (tmp_path / "again.xlsx").read_bytes() == xlsx.read_bytes()
    with zipfile.ZipFile(xlsx) as z:
        assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}


def test_xlsform_converts_with_pyxform(xlsx):
    result = convert(str(xlsx), validate=False)
    assert "<h:title>Survei Modal Sosial UMKM Desa</h:title>" in result.xform
    assert 'jr://file-csv/roster.csv' in result.xform
    # both languages are itext translations of the form
    assert 'lang="Bahasa Indonesia (id)"' in result.xform and 'lang="English (en)"' in result.xform


@pytest.mark.skipif(shutil.which("java") is None, reason="ODK Validate needs java")
def test_xlsform_passes_odk_validate(xlsx):
    result = convert(str(xlsx), validate=True)  # raises ODKValidateError on XPath/structure errors
    assert result.xform


def test_xlsx_sheets_and_language_columns(xlsx):
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["survey", "choices", "settings"]
    header = [c.value for c in wb["survey"][1]]
    assert header[:2] == ["type", "name"] and all(c in header for c in LANG_COLS)
    settings = dict(zip([c.value for c in wb["settings"][1]], [c.value for c in wb["settings"][2]]))
    assert settings["default_language"] == "Bahasa Indonesia (id)"


def test_every_label_exists_in_both_languages(inst):
    sheets = xlsform_sheets(inst)
    labelled = [r for r in sheets["survey"] if any(k.startswith("label::") for k in r)]
    assert len(labelled) > 60
    for row in labelled + sheets["choices"]:
        for col in LANG_COLS:
            assert str(row.get(col, "")).strip(), f"{row['name']}: no {col}"
    for row in sheets["survey"]:
        for key in [k for k in row if k.startswith(("hint::", "constraint_message::"))]:
            other = key.replace("English (en)", "Bahasa Indonesia (id)") if "English" in key else \
                key.replace("Bahasa Indonesia (id)", "English (en)")
            assert row.get(other), f"{row['name']}: {key} without {other}"


def test_modules_in_order(inst):
    groups = [q.name for q in inst.questions if q.type == "begin_group"]
    assert groups == ["persetujuan", "identitas", "profil", "kepercayaan", "jaringan", "norma",
                      "aksi_kolektif", "program"]
    # no consent -> every later module is skipped
    for q in inst.questions:
        if q.type == "begin_group" and q.name != "persetujuan":
            assert q.get("relevant") == "${setuju} = 'ya'"


def test_scale_map_covers_exactly_the_likert_items(inst):
    smap = scale_map(inst)
    likert = {q.name for q in inst.questions if q.type == "select_one likert5"}
    assert set(smap["item"]) == likert
    assert (smap["min"] == 1).all() and (smap["max"] == 5).all()
    counts = smap.groupby(["dimension", "subscale"]).agg(n=("item", "size"), rev=("reverse", "sum"))
    assert set(counts.index) == {
        ("trust", "generalized"), ("trust", "ingroup"), ("trust", "outgroup"), ("trust", "institutional"),
        ("norms", "reciprocity"), ("norms", "gotong_royong"), ("norms", "transparency"),
        ("norms", "commitment"), ("norms", "conflict")}
    assert (counts["n"] >= 3).all()
    assert (counts["rev"] >= 1).all(), "every subscale has a reverse-coded item"


def test_roster_template_matches_from_file_questions(inst, xlsx):
    files = {q.list_name for q in inst.questions if q.base_type.endswith("_from_file")}
    assert files == {"roster.csv"}
    with open(ROOT / "instruments" / "roster_template.csv", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames == ["name", "label"]  # what KoboToolbox requires
    assert rows and all(r["name"] and r["label"] for r in rows)
    kinds = {q.base_type for q in inst.questions if q.base_type.endswith("_from_file")}
    assert kinds == {"select_one_from_file", "select_multiple_from_file"}


def test_name_generators_per_tie_type(inst):
    spec = tie_questions(inst)
    assert set(spec) == {"info", "help", "collab"}
    for entry in spec.values():
        assert entry["field"].startswith("jaringan/") and entry["alter"] and entry["weight"]


def test_asset_content_shape(inst):
    content = asset_content(inst)
    assert content["translations"] == ["Bahasa Indonesia (id)", "English (en)"]
    rows = {r.get("$xpath"): r for r in content["survey"] if "$xpath" in r}
    assert rows["kepercayaan/tr_gen1"]["type"] == "select_one"
    assert rows["kepercayaan/tr_gen1"]["select_from_list_name"] == "likert5"
    assert rows["identitas/responden"]["file"] == "roster.csv"
    assert len(rows["kepercayaan/tr_gen1"]["label"]) == 2
    assert [r["type"] for r in content["survey"]].count("end_group") == 8
    assert asset_content(inst) == content  # deterministic


def test_codebook_lists_every_question(inst):
    md = codebook_markdown(inst)
    for q in inst.questions:
        if q.base_type not in ("start", "end", "today", "begin_group"):
            assert f"`{q.xpath}`" in md
    assert "| `kepercayaan/tr_gen2` | select_one likert5 |" in md
    assert "trust/generalized | yes |" in md
    assert "| `trust/outgroup` | Kepercayaan terhadap pelaku UMKM kelompok lain | Trust in UMKM owners of the other group | 4 |" in md
    assert "| tie type `help` | bantuan dan pinjam-meminjam | help and lending |" in md


def test_labels_the_report_takes_from_the_instrument(inst):
    """Dimension, subscale, tie-type and covariate labels are the instrument's; what it does not name
    gets the catalogue's generic words (never the demo's), what the analysis makes the catalogue's."""
    from pipeline.report.labels import Labels

    id_, en = Labels(inst, "id"), Labels(inst, "en")
    assert id_.dim("trust") == "Kepercayaan" and en.dim("norms_gotong_royong") == "Gotong royong (mutual help)"
    assert id_.tie("collab") == "kolaborasi usaha" and en.tie("any") == "any tie"
    assert id_.var("sex") == "Jenis kelamin" and id_.choices("sex") == {"perempuan": "Perempuan", "laki_laki": "Laki-laki"}
    assert id_.dim("network_ei") == "Indeks E-I individu" and id_.var("net_ei") == "Jejaring: indeks E-I individu"
    bare = Labels(None, "id", pd.DataFrame({"dimension": ["trust"], "subscale": ["outgroup"]}))
    assert bare.dim("trust") == "Skala trust" and bare.dim("trust_outgroup") == "Skala trust: outgroup"
    assert bare.tie("info") == "hubungan info" and bare.var("sex") is None


def _broken(tmp_path, mutate) -> Path:
    raw = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    mutate(raw)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r["survey"][3]["rows"][0]["label"].pop("en"), "must have text for every language"),
    (lambda r: r["survey"][6]["rows"][1].update(name="tr_gen2"), "is used twice"),
    (lambda r: r["survey"][6]["rows"][1].update(type="select_one nolist"), "not in choices"),
    (lambda r: r["survey"][6]["rows"][1].update(scale="trust"), "dimension/subscale"),
    (lambda r: r["scales"]["trust"]["label"].pop("en"), r"scales.trust.label must have text for every language"),
    (lambda r: r["scales"]["norms"]["subscales"].update(gotong_royog={"id": "x", "en": "y"}),
     r"scales.norms.subscales.gotong_royog: no item has scale norms/gotong_royog"),
    (lambda r: r["scales"].update(trsut={"label": {"id": "x", "en": "y"}}), r"scales.trsut: no item has scale trsut"),
    (lambda r: r["scales"]["trust"].update(name="x"), "'scales' must map each dimension"),
    (lambda r: r["survey"][6]["rows"][1].update(short_label={"id": "x"}), "has short_label but no var"),
    (lambda r: r["survey"][5]["rows"][0].update(short_label={"id": "Asal"}), "short_label must have text for every"),
])
def test_bad_instrument_gives_one_clear_message(tmp_path, mutate, message):
    with pytest.raises(SinergiError, match=message):
        load_instrument(_broken(tmp_path, mutate))


def test_make_instruments_command(sinergi, tmp_path):
    code, out, err = sinergi("instruments", "--out", tmp_path)
    assert code == 0, err
    assert (tmp_path / "sinergi.xlsx").exists() and (tmp_path / "codebook.md").exists()
    assert "PREVIEW FORM" in (tmp_path / "google_form.gs").read_text(encoding="utf-8")  # the template roster's
    smap = pd.read_csv(tmp_path / "scales.csv")
    assert list(smap.columns) == ["item", "dimension", "subscale", "reverse", "min", "max"]
