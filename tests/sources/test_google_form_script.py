"""The generated Google Apps Script, run under node against a stub of FormApp (tests/js/formapp_stub.js).

CI machines have node (`.ci/run` installs it when missing: `apt-get install -y nodejs`); a machine
without it skips these tests and says so.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.errors import SinergiError
from pipeline.instrument import load_instrument
from pipeline.roster import read_roster_csv
from pipeline.sources.google_form_script import (google_form_contract, google_form_script, roster_labels)

ROOT = Path(__file__).resolve().parents[2]
STUB = ROOT / "tests" / "js" / "formapp_stub.js"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed (apt-get install nodejs)")

ROSTER = pd.DataFrame({"name": ["u001", "u002", "u003", "u004"],
                       "label": ["Ibu Sari — warung, kue", "Pak Budi — bengkel", "Nur (Ani) — katering",
                                 "Eko — es teh (tidak aktif lagi)"]})


@pytest.fixture(scope="module")
def inst():
    return load_instrument(ROOT / "instruments" / "sinergi.yaml")


def run(script: str, tmp: Path, fn: str = "createForm") -> dict:
    path = tmp / "google_form.gs"
    path.write_text(script, encoding="utf-8")
    out = subprocess.run([NODE, str(STUB), str(path), fn, str(tmp / "state.json")], capture_output=True,
                         text=True, timeout=60, check=True)
    return json.loads(out.stdout)


def items_of(result: dict) -> list[dict]:
    (form,) = result["forms"].values()
    return form["items"]


@pytest.fixture(scope="module")
def made(inst, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gs")
    result = run(google_form_script(inst, "id", ROSTER), tmp)
    assert result["error"] is None, result["error"]
    return result


@needs_node
def test_one_form_with_private_settings_and_the_links_logged(made):
    assert len(made["forms"]) == 1
    (form,) = made["forms"].values()
    assert form["title"] == "Survei Modal Sosial UMKM Desa"
    assert form["settings"] == {"confirmationMessage": "Terima kasih. Jawaban Anda sudah tersimpan.",
                                "collectEmail": False, "limitOneResponsePerUser": False,
                                "allowResponseEdits": False, "showLinkToRespondAgain": True, "progressBar": True}
    assert any(log.startswith("Share this link (WhatsApp): https://docs.google.com/forms/d/e/form1/viewform")
               for log in made["logs"])


@needs_node
def test_consent_first_with_data_protection_text_and_refusal_submits(made):
    items = items_of(made)
    assert [i["type"] for i in items[:5]] == ["SECTION_HEADER"] * 4 + ["MULTIPLE_CHOICE"]
    assert items[0]["title"] == "Persetujuan"
    assert "UU No. 27 Tahun 2022" in items[3]["helpText"]
    consent = items[4]
    assert consent["title"] == "Apakah Anda bersedia mengikuti survei ini?" and consent["required"]
    assert consent["choices"] == [{"value": "Ya", "nav": {"type": "CONTINUE"}},
                                  {"value": "Tidak", "nav": {"type": "SUBMIT"}}]
    # the refusal note (shown only on refusal in the XLSForm) is not a question of the Google Form
    assert not any("Survei selesai" in i["helpText"] for i in items)


@needs_node
def test_respondent_picks_themself_from_the_roster_with_ids_in_the_labels(made):
    items = items_of(made)
    pick = next(i for i in items if i["type"] == "LIST")
    assert pick["required"] and pick["title"] == "Pilih nama Anda dari daftar pelaku UMKM desa."
    assert [c["value"] for c in pick["choices"]] == ["Ibu Sari — warung, kue (u001)", "Pak Budi — bengkel (u002)",
                                                     "Nur (Ani) — katering (u003)",
                                                     "Eko — es teh (tidak aktif lagi) (u004)"]


@needs_node
def test_origin_sends_each_respondent_to_their_trust_section_and_both_rejoin_at_the_network(made):
    items = items_of(made)
    pages = {i["id"]: i["title"] for i in items if i["type"] == "PAGE_BREAK"}
    assert list(pages.values()) == ["Identitas", "Profil pelaku usaha", "Kepercayaan", "Kepercayaan",
                                    "Jejaring usaha", "Norma kebersamaan", "Aksi kolektif dan hasil usaha",
                                    "Keikutsertaan dalam program"]
    trust = [i for i in items if i["type"] == "PAGE_BREAK" and i["title"] == "Kepercayaan"]
    origin = next(i for i in items if i["title"] == "Apakah Anda warga asli desa ini atau pendatang?")
    assert origin["required"]
    assert [c["value"] for c in origin["choices"]] == ["Warga asli desa (lokal)", "Pendatang"]
    assert [c["nav"]["page"] for c in origin["choices"]] == [trust[0]["id"], trust[1]["id"]]
    network = next(i for i in items if i["type"] == "PAGE_BREAK" and i["title"] == "Jejaring usaha")
    # setGoToPage on the second copy's break: where the first copy goes when it is done
    assert trust[1]["goTo"] == {"page": network["id"]} and trust[0]["goTo"] is None
    # each copy shows the group names written out for that answer
    first = items[items.index(trust[0]):items.index(trust[1])]
    second = items[items.index(trust[1]):items.index(network)]
    assert "Saya percaya kepada pelaku UMKM pendatang." in [i["title"] for i in first]
    assert "Saya percaya kepada pelaku UMKM warga asli desa." in [i["title"] for i in second]
    assert len([i for i in first if i["type"] == "MULTIPLE_CHOICE"]) == 13


@needs_node
def test_likert_items_are_multiple_choice_with_the_five_agreement_labels(made):
    item = next(i for i in items_of(made) if i["title"].startswith("Jika seseorang membantu usaha saya"))
    assert item["type"] == "MULTIPLE_CHOICE" and not item["required"]
    assert [c["value"] for c in item["choices"]] == ["Sangat tidak setuju", "Tidak setuju", "Ragu-ragu", "Setuju",
                                                     "Sangat setuju"]


@needs_node
def test_name_generators_are_roster_checkboxes_each_followed_by_a_frequency_grid(made):
    items = items_of(made)
    boxes = [i for i in items if i["type"] == "CHECKBOX" and i["choices"][0]["value"].endswith("(u001)")]
    assert len(boxes) == 3
    for box in boxes:
        grid = items[items.index(box) + 1]
        assert grid["type"] == "GRID"
        assert grid["rows"] == [c["value"] for c in box["choices"]] == list(roster_labels(ROSTER).values())
        assert grid["columns"] == ["Jarang (kurang dari sebulan sekali)", "Bulanan", "Mingguan",
                                   "Hampir setiap hari"]
    assert boxes[0]["title"].startswith("Dengan siapa Anda bertukar informasi usaha")


@needs_node
def test_numbers_have_their_range_and_multiple_answers_are_checkboxes(made):
    items = items_of(made)
    years = next(i for i in items if i["title"] == "Sudah berapa tahun Anda tinggal di desa ini?")
    assert years["type"] == "TEXT"
    assert years["validation"] == {"helpText": "Isi antara 0 dan 100 tahun.", "kind": "NUMBER_BETWEEN",
                                   "min": 0, "max": 100}
    channels = next(i for i in items if i["title"] == "Melalui saluran digital apa saja Anda menjual?")
    assert channels["type"] == "CHECKBOX"
    assert "Media sosial (Facebook, Instagram, TikTok)" in [c["value"] for c in channels["choices"]]


@needs_node
def test_every_question_of_the_form_is_a_column_of_the_contract_and_back(inst, made):
    contract = google_form_contract(inst, "id", ROSTER)
    titles = {i["title"] for i in items_of(made) if i["type"] not in ("PAGE_BREAK", "SECTION_HEADER")}
    assert titles == set(contract["columns"])
    # the ingroup item of a local reads as the outgroup item of a migrant: resolved by the answer
    lend = contract["columns"]["Saya bersedia meminjamkan uang atau barang kepada pelaku UMKM warga asli desa."]
    assert lend["cases"] == {"question": "profil/asal",
                             "xpaths": {"lokal": "kepercayaan/tr_in2", "pendatang": "kepercayaan/tr_out2"}}
    grid = contract["columns"]["Informasi usaha: seberapa sering"]
    assert (grid["field"], grid["alter"], grid["weight"]) == (
        "jaringan/net_info", "jaringan/info_rinci/info_alter", "jaringan/info_rinci/info_frek")
    assert grid["choices"]["Mingguan"] == "3"


@needs_node
def test_a_rerun_makes_no_second_form_and_a_cut_off_run_is_rebuilt_in_place(inst, tmp_path):
    script = google_form_script(inst, "en", ROSTER)
    first = run(script, tmp_path)
    again = run(script, tmp_path)
    assert again["error"] is None and list(again["forms"]) == ["form1"]
    assert "already made the form" in again["logs"][0]
    assert items_of(again) == items_of(first)
    # a run cut off half-way: the id is remembered, the form is not finished
    state = json.loads((tmp_path / "state.json").read_text())
    state["forms"]["form1"]["items"] = state["forms"]["form1"]["items"][:7]
    del state["props"]["sinergi_form_done"]
    (tmp_path / "state.json").write_text(json.dumps(state))
    rebuilt = run(script, tmp_path)
    assert list(rebuilt["forms"]) == ["form1"]
    assert [i["title"] for i in items_of(rebuilt)] == [i["title"] for i in items_of(first)]
    # another version of the script in the same project: refused, saying what to do
    other = run(google_form_script(inst, "en", ROSTER.head(3)), tmp_path)
    assert "run this one in a new Apps Script project" in other["error"]
    assert list(other["forms"]) == ["form1"]


@needs_node
def test_english_form_uses_the_english_texts(inst, tmp_path):
    items = items_of(run(google_form_script(inst, "en", ROSTER), tmp_path))
    assert items[4]["choices"] == [{"value": "Yes", "nav": {"type": "CONTINUE"}},
                                   {"value": "No", "nav": {"type": "SUBMIT"}}]
    assert "I trust UMKM owners who are migrants (pendatang)." in [i["title"] for i in items]


def test_unknown_language_and_a_question_google_cannot_hide_are_refused(inst, tmp_path):
    with pytest.raises(SinergiError, match="language 'fr' is not one of the instrument's"):
        google_form_script(inst, "fr", ROSTER)
    text = (ROOT / "instruments" / "sinergi.yaml").read_text(encoding="utf-8")
    changed = text.replace("        name: umur\n", "        name: umur\n        relevant: \"${asal} = 'lokal'\"\n")
    assert changed != text
    (tmp_path / "i.yaml").write_text(changed, encoding="utf-8")
    with pytest.raises(SinergiError, match="'umur' is shown only when"):
        google_form_script(load_instrument(tmp_path / "i.yaml"), "id", ROSTER)


@needs_node
def test_make_instruments_writes_a_preview_form_with_the_template_roster_saying_so(inst, tmp_path):
    """``sinergi instruments`` (what ``make instruments`` runs) writes instruments/build/google_form.gs: the
    instrument in its default language, the template's example people in the name lists; the header, the
    form's title and its description say it is a preview and how the real form is made (whose command
    refuses the template roster, as the ODK and KoboToolbox deploys do)."""
    out = tmp_path / "build"
    assert main(["instruments", "--source", str(ROOT / "instruments" / "sinergi.yaml"), "--out", str(out)]) == 0
    script = (out / "google_form.gs").read_text(encoding="utf-8")
    header = script[:script.index("*/")]
    assert "PREVIEW FORM" in header and "instruments/roster_template.csv" in header
    assert "sinergi google script --wave W --roster roster.csv" in header
    result = run(script, tmp_path)
    assert result["error"] is None, result["error"]
    (form,) = result["forms"].values()
    assert inst.default_language == "id"
    assert form["title"] == "Survei Modal Sosial UMKM Desa — PRATINJAU (daftar contoh)"
    assert form["description"].startswith("FORMULIR PRATINJAU:")
    assert "instruments/roster_template.csv" in form["description"]
    assert "sinergi google script --wave W --roster roster.csv" in form["description"]
    template = pd.read_csv(ROOT / "instruments" / "roster_template.csv", dtype=str)
    people = [f"{label} ({name})" for name, label in zip(template["name"], template["label"])]
    assert people[0] == "Contoh: Siti Aminah — warung sembako (u001)"
    pick = next(i for i in form["items"] if i["type"] == "LIST")
    assert [c["value"] for c in pick["choices"]] == people
    boxes = [i for i in form["items"] if i["type"] == "CHECKBOX" and i["choices"][0]["value"] == people[0]]
    assert len(boxes) == 3 and all(items_of_grid(form, b) == people for b in boxes)
    # the same questions as a wave's form made from that roster (only the title and the description differ)
    (tmp_path / "wave").mkdir()
    (wave,) = run(google_form_script(inst, "id", template), tmp_path / "wave")["forms"].values()
    assert [(i["type"], i["title"]) for i in wave["items"]] == [(i["type"], i["title"]) for i in form["items"]]
    assert wave["description"] == "" and wave["title"] == "Survei Modal Sosial UMKM Desa"
    # a wave's form is never made from the template
    with pytest.raises(SinergiError, match="template's example people"):
        read_roster_csv(ROOT / "instruments" / "roster_template.csv")


def items_of_grid(form: dict, box: dict) -> list[str]:
    """The rows of the frequency grid that follows a name generator's checkbox list."""
    items = form["items"]
    grid = items[items.index(box) + 1]
    assert grid["type"] == "GRID"
    return grid["rows"]
