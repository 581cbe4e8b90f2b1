"""Google Forms responses (CSV as downloaded, the linked Sheet as CSV or XLSX) → KoboToolbox-shaped submissions.

The fixtures in tests/data/google_forms/ have the shapes Google writes (README.md there); each test
below reads one of them, or a copy with one thing changed.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from pipeline.errors import SinergiError
from pipeline.instrument import load_instrument
from pipeline.sources.google_form_script import google_form_contract
from pipeline.sources.google_forms import load_contracts, read_responses, read_sheet, parse_responses

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "google_forms"
TZ = "Asia/Jakarta"


@pytest.fixture(scope="module")
def inst():
    return load_instrument(ROOT / "instruments" / "sinergi.yaml")


@pytest.fixture(scope="module")
def needed(inst):
    return inst.needed_xpaths()


def contracts(lang: str) -> list[dict]:
    return load_contracts([DATA / f"google_form_{lang}.json"])


def read(path, lang="en", needed=()):
    subs, quality, unnamed = read_responses(path, contracts(lang), timezone=TZ, needed=needed)
    return subs, (quality, unnamed)


def without_version(subs):
    return [{k: v for k, v in s.items() if k != "__version__"} for s in subs]


def test_fixture_contracts_are_what_the_generator_writes(inst):
    roster = pd.read_csv(DATA / "roster.csv", dtype=str)
    for lang in ("en", "id"):
        assert contracts(lang)[0] == json.loads(json.dumps(google_form_contract(inst, lang, roster)))


def test_english_sheet_csv_reads_to_api_shaped_submissions(needed):
    subs, notes = read(DATA / "sheet_en.csv", needed=needed)
    assert [s["_id"] for s in subs] == [2, 3, 4, 5]  # spreadsheet rows
    local = subs[0]
    assert local["_submission_time"] == "2026-08-31T02:05:11"  # 9:05:11 in Jakarta (UTC+7)
    assert local["meta/instanceID"] == f"uuid:{local['_uuid']}" and local["_validation_status"] == {}
    answers = {k: v for k, v in local.items() if not k.startswith(("_", "meta/"))}
    assert answers == {
        "persetujuan/setuju": "ya", "identitas/responden": "u002", "profil/asal": "lokal",
        "profil/lama_tinggal": "34", "profil/jenis_kelamin": "laki_laki", "profil/umur": "41",
        "profil/sektor": "jasa", "profil/umur_usaha": "12", "profil/karyawan": "2",
        "profil/keanggotaan": "forum_umkm koperasi",
        "kepercayaan/tr_gen1": "4", "kepercayaan/tr_in1": "5", "kepercayaan/tr_in2": "4", "kepercayaan/tr_out1": "2",
        # a label with ", " inside, resolved by its (id)
        "jaringan/net_info": "u001 u003",
        "jaringan/info_rinci": [{"jaringan/info_rinci/info_alter": "u001", "jaringan/info_rinci/info_frek": "3"},
                                {"jaringan/info_rinci/info_alter": "u003", "jaringan/info_rinci/info_frek": "2"}],
        "jaringan/net_bantuan": "u001",
        "jaringan/bantuan_rinci": [{"jaringan/bantuan_rinci/bantuan_alter": "u001"}],  # frequency not given
        "norma/nr_rec1": "5", "aksi_kolektif/beli_bersama": "tidak",
        "aksi_kolektif/kanal_digital": "whatsapp media_sosial",  # "Social media (Facebook, Instagram, TikTok)"
        "aksi_kolektif/omzet": "4500000", "program/hadir_forum": "3", "program/pelatihan": "tidak_ada",
    }
    assert without_version([subs[1]])[0]["persetujuan/setuju"] == "tidak"
    assert not any(k.startswith(("identitas/", "profil/")) for k in subs[1])


def test_a_shared_title_is_the_question_the_origin_answer_says(needed):
    subs, notes = read(DATA / "sheet_en.csv", needed=needed)
    migrant = subs[2]
    assert migrant["profil/asal"] == "pendatang"
    # "…lend money or goods to UMKM owners who are locals" is tr_out2 for a migrant, tr_in2 for a local
    assert (migrant["kepercayaan/tr_out2"], migrant["kepercayaan/tr_in2"]) == ("2", "5")
    assert subs[0]["kepercayaan/tr_in2"] == "4" and "kepercayaan/tr_out2" not in subs[0]
    # a question in both trust copies (two columns, one header) fills one key
    assert migrant["kepercayaan/tr_gen1"] == "3"
    # a frequency for someone not named is left out, with a note
    assert migrant["jaringan/kolaborasi_rinci"] == [{"jaringan/kolaborasi_rinci/kolaborasi_alter": "u002",
                                                     "jaringan/kolaborasi_rinci/kolaborasi_frek": "4"}]
    assert notes == ([], [{"submission_id": 4, "field": "jaringan/kolaborasi_rinci", "count": 1}])


def test_a_respondent_who_submitted_twice_gives_two_submissions_with_their_times(needed):
    subs, _ = read(DATA / "sheet_en.csv", needed=needed)
    twice = [s for s in subs if s.get("identitas/responden") == "u002"]
    assert [(s["_id"], s["_submission_time"]) for s in twice] == [(2, "2026-08-31T02:05:11"),
                                                                  (5, "2026-09-02T01:01:30")]
    assert twice[0]["meta/instanceID"] != twice[1]["meta/instanceID"]


def test_indonesian_account_reads_to_the_same_submissions(needed):
    en, _ = read(DATA / "sheet_en.csv", needed=needed)
    idn, _ = read(DATA / "sheet_id.csv", "id", needed=needed)
    assert without_version(idn) == without_version(en)
    assert idn[0]["__version__"] == contracts("id")[0]["version"]


def test_forms_download_with_gmt_offset_and_email_column(needed):
    en, _ = read(DATA / "sheet_en.csv", needed=needed)
    dl, notes = read(DATA / "download_en.csv", needed=needed)
    assert without_version(dl) == without_version(en)
    assert not any("@gmail.com" in json.dumps(s) for s in dl)
    assert notes[0] == [{"wave": "", "submission_id": "", "respondent_id": "", "issue": "column_personal",
                         "field": "download_en.csv: Email Address", "value": "it holds e-mail addresses",
                         "action": "kept_raw_only", "detail": ""}]


def test_linked_sheet_as_xlsx_with_typed_cells(tmp_path, needed):
    sheet = read_sheet(DATA / "sheet_en.csv")
    wb = Workbook()
    ws = wb.active
    ws.title = "Form Responses 1"
    ws.append(sheet.header)
    for _, cells in sheet.rows:
        typed = [datetime.strptime(cells[0], "%m/%d/%Y %H:%M:%S")]
        typed += [int(c) if c.isdigit() else (c or None) for c in cells[1:]]
        ws.append(typed)
    wb.save(tmp_path / "responses.xlsx")
    xlsx, _ = read(tmp_path / "responses.xlsx", needed=needed)
    en, _ = read(DATA / "sheet_en.csv", needed=needed)
    assert xlsx == en


def edited(tmp_path, name="sheet_en.csv", row=None, column=None, value=None, header=None, drop=None):
    """A copy of a fixture with one cell (or header) changed or one column dropped."""
    rows = list(csv.reader(io.StringIO((DATA / name).read_text(encoding="utf-8"))))
    k = rows[0].index(column) if column else None
    if header:
        rows[0][k] = header
    if row:
        rows[row - 1][k] = value
    if drop:
        k = rows[0].index(drop)
        rows = [r[:k] + r[k + 1:] for r in rows]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path = tmp_path / name
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


NOMINATE = "With whom did you exchange business information (prices, suppliers, customers, promotion)?"


@pytest.mark.parametrize("change,message", [
    (dict(column="Sex", header="Gender"),
     r"sheet_en.csv: column F \('Gender'\): no version of the form's contract explains this column"),
    (dict(row=2, column="Sex", value="Man"), r"sheet_en.csv: row 2, column F \('Sex'\): 'Man' is not one of the "
                                             r"question's answers \(Female, Male\)"),
    (dict(row=2, column=NOMINATE, value="Ibu Sari — warung, kue (u001), Pak Harto (u099)"),
     r"row 2, column AL \('With whom did you exchange.*'Pak Harto \(u099\)' is not anyone on the roster"),
    (dict(row=2, column="Which organisations are you a member of?", value="Cooperative, Karang Taruna"),
     r"row 2, column K .*'Karang Taruna' is not one of the question's answers"),
    (dict(row=2, column="Age (years)", value="4l"), r"row 2, column G \('Age \(years\)'\): '4l' is not a number"),
    (dict(row=2, column="Age (years)", value="1.500"), r"row 2, column G .*'1.500' is not a whole number"),
    (dict(row=3, column="Timestamp", value="kemarin"), r"row 3, column A \('Timestamp'\): 'kemarin' is not a date"),
    (dict(drop="Generally speaking, most people in this village can be trusted."),
     r"no column for 1 question\(s\) the analysis needs \(kepercayaan/tr_gen1\)"),
])
def test_bad_input_stops_with_one_line_naming_row_and_column(tmp_path, needed, change, message):
    if "drop" in change:  # both trust copies' columns carry this title: drop them both
        path = _drop_all(edited(tmp_path), change["drop"])
    else:
        path = edited(tmp_path, **change)
    with pytest.raises(SinergiError, match=message):
        read(path, needed=needed)


def _drop_all(path: Path, title: str) -> Path:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    keep = [i for i, h in enumerate(rows[0]) if h != title]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([[r[i] for i in keep] for r in rows])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def test_two_answers_to_one_question_in_a_row_stop(tmp_path, needed):
    title = "Generally speaking, most people in this village can be trusted."
    rows = list(csv.reader(io.StringIO((DATA / "sheet_en.csv").read_text(encoding="utf-8"))))
    second = [i for i, h in enumerate(rows[0]) if h == title][1]
    rows[1][second] = "Agree"  # the local also answered in the migrants' copy
    path = tmp_path / "x.csv"
    path.write_text("\r\n".join(",".join(f'"{c}"' for c in r) for r in rows), encoding="utf-8")
    with pytest.raises(SinergiError, match=r"row 2: column L .* and column Y .* both answer kepercayaan/tr_gen1"):
        read(path, needed=needed)


def test_a_renamed_question_is_read_with_a_second_contract_version(tmp_path, needed):
    path = edited(tmp_path, column="Sex", header="Gender")
    v2 = json.loads(json.dumps(contracts("en")[0]))
    v2["columns"]["Gender"] = v2["columns"].pop("Sex")
    v2["version"] = "gEDITED"
    subs, _, _ = read_responses(path, contracts("en") + [v2], timezone=TZ, needed=needed)
    assert subs[0]["profil/jenis_kelamin"] == "laki_laki"
    assert subs[0]["__version__"] == "gEDITED"  # the version that explains every column


def test_day_month_order_from_the_data_when_the_header_language_disagrees(tmp_path, needed):
    # an English account whose spreadsheet uses the Indonesian locale: 31/8/2026 cannot be M/d
    text = (DATA / "sheet_id.csv").read_text(encoding="utf-8")
    path = tmp_path / "mixed.csv"
    path.write_text(text.replace("Stempel waktu", "Timestamp", 1), encoding="utf-8")
    with pytest.raises(SinergiError, match="column B .*'Apakah Anda bersedia"):  # Indonesian titles, English contract
        read(path, needed=needed)
    subs, _, _ = read_responses(path, contracts("id") + contracts("en"), timezone=TZ, needed=needed)
    assert subs[0]["_submission_time"] == "2026-08-31T02:05:11"


def test_indonesian_time_with_dots_and_a_wrong_time_zone(tmp_path, needed):
    text = (DATA / "sheet_id.csv").read_text(encoding="utf-8").replace("31/8/2026 9:05:11", "31/08/2026 09.05.11")
    path = tmp_path / "dots.csv"
    path.write_text(text, encoding="utf-8")
    subs, _ = read(path, "id", needed=needed)
    assert subs[0]["_submission_time"] == "2026-08-31T02:05:11"
    with pytest.raises(SinergiError, match="'Asia/Jakrta' is not a time zone name"):
        read_responses(path, contracts("id"), timezone="Asia/Jakrta", needed=needed)


def test_not_a_responses_file_and_no_contract(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("nama,umur\nSari,40\n", encoding="utf-8")
    with pytest.raises(SinergiError, match=r"x.csv: the first column is 'nama', not the Timestamp"):
        read(path)
    with pytest.raises(SinergiError, match="no Google Form contract given"):
        parse_responses(read_sheet(DATA / "sheet_en.csv"), [], timezone=TZ)
    bad = tmp_path / "c.json"
    bad.write_text('{"format": "other"}', encoding="utf-8")
    with pytest.raises(SinergiError, match="not a sinergi Google Form contract"):
        load_contracts([bad])
