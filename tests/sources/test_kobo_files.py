"""pipeline.sources.kobo_files: every website export option reads back to the same API-shaped submissions.

The exports are written by a small writer below that mimics formpack's layout
(formpack ``reporting/export.py`` and ``schema/fields.py``, as KPI calls it in
``kpi/models/import_export_task.py``): headers are names or labels in one translation, with or
without group paths; ``select_multiple`` as a space-separated summary column, one 1/0 column per
choice (``q/choice``), or both; copy fields ``_id``, ``_uuid``, …, ``_index`` at the end; repeats
as extra XLSX sheets with ``_index``, ``_parent_table_name``, ``_parent_index`` and
``_submission_*`` columns; CSV with every cell quoted and ``;`` (or ``,``) between cells.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from pipeline.config import Study
from pipeline.errors import SinergiError
from pipeline.instrument import asset_content, load_instrument
from pipeline.pull import pull_exports
from pipeline.sources.kobo_files import read_export

from tests.kobo_server import make_submissions

INST = load_instrument()
CONTENT = asset_content(INST)
FIXTURES = Path(__file__).parents[1] / "data" / "kobo_exports"
COPY = ["_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status",
        "_submitted_by", "__version__", "_tags"]
TITLE = "Survei Modal Sosial UMKM Desa"


# --------------------------------------------------------------------------------------------
# a test-side writer mimicking formpack's export layout


def _sections(content):
    """[(section xpath, repeat name, parent xpath, [(field row, ancestors)])], main first."""
    secs = {"": {"name": TITLE, "parent": None, "fields": []}}
    order = [""]
    stack = []  # (row, xpath, is_repeat)
    for row in content["survey"]:
        t = row["type"]
        if t in ("end_group", "end_repeat"):
            stack.pop()
            continue
        cur = next((x for r, x, rep in reversed(stack) if rep), "")
        if t in ("begin_group", "begin_repeat"):
            if t == "begin_repeat":
                secs[row["$xpath"]] = {"name": row["name"], "parent": cur, "fields": []}
                order.append(row["$xpath"])
            stack.append((row, row["$xpath"], t == "begin_repeat"))
            continue
        if t == "note":
            continue
        secs[cur]["fields"].append((row, [r for r, _, _ in stack]))
    return [(x, secs[x]["name"], secs[x]["parent"], secs[x]["fields"]) for x in order]


def _label(row, lang):
    if lang is None:
        return None
    lab = row.get("label")
    return lab[lang] if isinstance(lab, list) and lab[lang] else None


def _header(row, ancestors, lang, hier):
    own = _label(row, lang) or row["name"]
    if not hier:
        return own
    return "/".join([_label(a, lang) or a["name"] for a in ancestors] + [own])


def _choices(content):
    out = {}
    for c in content["choices"]:
        out.setdefault(c["list_name"], []).append(c)
    return out


def _columns(fields, choices, lang, hier, ms):
    cols = []  # (header, row, choice or None)
    for row, anc in fields:
        h = _header(row, anc, lang, hier)
        if row["type"] == "select_multiple":
            if ms in ("both", "summary"):
                cols.append((h, row, None))
            if ms in ("both", "details"):
                for c in choices[row["select_from_list_name"]]:
                    cols.append((h + "/" + (_label(c, lang) or c["name"]), row, c))
        else:
            cols.append((h, row, None))
    return cols


def _value(row, c, value, choices, lang, as_text):
    t = row["type"]
    if t == "select_multiple":
        if c is not None:
            if value is None:
                return ""
            return "1" if c["name"] in value.split() else "0"
        if value is None:
            return ""
        lab = {x["name"]: _label(x, lang) or x["name"] for x in choices[row["select_from_list_name"]]}
        return " ".join(lab[v] for v in value.split())
    if value is None:
        return ""
    if t == "select_one":
        lab = {x["name"]: _label(x, lang) or x["name"] for x in choices[row["select_from_list_name"]]}
        return lab.get(value, value)
    if t == "integer" and not as_text:
        return int(value)
    return value


def _copy_value(key, sub, lang):
    v = sub.get(key)
    if key == "_validation_status":
        return (v.get("uid") if lang is None else v.get("label")) if v else ""
    if isinstance(v, list):
        return ", ".join(map(str, v))
    return "" if v is None else v


def export_tables(subs, content, *, lang=None, hier=True, ms="both", as_text=True):
    """{sheet name: (header, rows)} as formpack would export ``subs``."""
    choices = _choices(content)
    secs = _sections(content)
    tables = {}
    index = {x: 0 for x, *_ in secs}
    for xpath, name, parent, fields in secs:
        cols = _columns(fields, choices, lang, hier, ms)
        header = [h for h, _, _ in cols]
        header += COPY + ["_index"] if xpath == "" else (
            ["_index", "_parent_table_name", "_parent_index"] + [f"_submission_{k}" for k in COPY])
        tables[xpath] = (name[:31], header, cols, [])

    def emit(xpath, entries, parent_index, sub):
        name, header, cols, rows = tables[xpath]
        for entry in entries:
            index[xpath] += 1
            row = [_value(r, c, entry.get(r["$xpath"]), choices, lang, as_text) for _, r, c in cols]
            if xpath == "":
                row += [_copy_value(k, sub, lang) for k in COPY] + [index[xpath]]
            else:
                parent = next(p for x, _, p, _ in secs if x == xpath)
                row += [index[xpath], tables[parent][0], parent_index]
                row += [_copy_value(k, sub, lang) for k in COPY]
            rows.append(row)
            mine = index[xpath]
            for child, _, par, _ in secs:
                if par == xpath and child:
                    emit(child, entry.get(child, []), mine, sub)

    for sub in subs:
        emit("", [sub], None, sub)
    return {name: (header, rows) for name, header, _, rows in tables.values()}


def write_xlsx(path, tables):
    wb = Workbook()
    wb.remove(wb.active)
    for name, (header, rows) in tables.items():
        ws = wb.create_sheet(name)
        ws.append(header)
        for r in rows:
            ws.append(r)
    wb.save(path)


def write_csv(path, tables, sep=";"):
    header, rows = next(iter(tables.values()))

    def line(cells):
        return sep.join('"' + str(c).replace('"', '""') + '"' for c in cells)

    path.write_bytes(("\r\n".join([line(header)] + [line(r) for r in rows]) + "\r\n").encode("utf-8"))


# --------------------------------------------------------------------------------------------
# what an export can carry of an API submission

KEEP_META = {"_id", "_uuid", "_submission_time", "__version__", "_status", "_submitted_by", "_notes", "_tags"}


def expected(sub, content, repeats=True):
    fields = {r["$xpath"] for r in content["survey"] if "$xpath" in r and r["type"] != "note"}
    out = {}
    for k, v in sub.items():
        if k in KEEP_META:
            out[k] = v
        elif k == "_validation_status":
            out[k] = {"uid": v["uid"], "label": v["label"]} if v else {}
        elif isinstance(v, list) and k in fields:
            if repeats:
                out[k] = [expected(e, content) for e in v]
        elif k in fields:
            out[k] = v
    if "_uuid" in sub:  # restored from _uuid (kpi sets it from the instanceID)
        out["meta/instanceID"] = f"uuid:{sub['_uuid']}"
    return out


@pytest.fixture(scope="module")
def subs():
    return make_submissions(CONTENT, 12, seed=3, uid="aPRE")


LANGS = [None, 0, 1]  # XML names, Bahasa Indonesia labels, English labels


@pytest.mark.parametrize("lang", LANGS, ids=["xml", "label-id", "label-en"])
@pytest.mark.parametrize("hier", [True, False], ids=["groups", "no-groups"])
@pytest.mark.parametrize("ms", ["summary", "details", "both"])
def test_xlsx_variants_read_back_to_the_api_shape(tmp_path, subs, lang, hier, ms):
    path = tmp_path / "export.xlsx"
    write_xlsx(path, export_tables(subs, CONTENT, lang=lang, hier=hier, ms=ms))
    got = read_export(path, CONTENT)
    assert got == [expected(s, CONTENT) for s in subs]


@pytest.mark.parametrize("sep", [";", ","])
@pytest.mark.parametrize("lang,hier,ms", [(None, True, "both"), (0, False, "summary"),
                                          (1, True, "details"), (1, False, "both")])
def test_csv_variants_read_back_to_the_api_shape(tmp_path, subs, sep, lang, hier, ms):
    path = tmp_path / "export.csv"
    write_csv(path, export_tables(subs, CONTENT, lang=lang, hier=hier, ms=ms), sep=sep)
    got = read_export(path, CONTENT)
    assert got == [expected(s, CONTENT, repeats=False) for s in subs]


def test_numbers_written_as_numbers_come_back_as_api_strings(tmp_path, subs):
    path = tmp_path / "export.xlsx"
    write_xlsx(path, export_tables(subs, CONTENT, lang=0, as_text=False))
    got = read_export(path, CONTENT)
    assert got == [expected(s, CONTENT) for s in subs]
    ages = [g["profil/umur"] for g in got if "profil/umur" in g]
    assert ages and all(isinstance(a, str) and "." not in a for a in ages)


def test_repeats_are_renested_with_full_path_keys(tmp_path, subs):
    path = tmp_path / "export.xlsx"
    tables = export_tables(subs, CONTENT, lang=1)
    assert set(tables) == {TITLE, "info_rinci", "bantuan_rinci", "kolaborasi_rinci"}
    write_xlsx(path, tables)
    got = {s["_id"]: s for s in read_export(path, CONTENT)}
    with_repeat = [s for s in subs if "jaringan/info_rinci" in s]
    assert with_repeat
    for s in with_repeat:
        entries = got[s["_id"]]["jaringan/info_rinci"]
        assert len(entries) == len(s["jaringan/info_rinci"])
        assert all(k.startswith("jaringan/info_rinci/") for e in entries for k in e)


def test_empty_cells_are_absent_and_meta_restored(tmp_path, subs):
    path = tmp_path / "export.xlsx"
    write_xlsx(path, export_tables(subs, CONTENT))
    got = read_export(path, CONTENT)
    skipped = [(g, s) for g, s in zip(got, subs) if "profil/sektor" not in s]
    assert skipped and all("profil/sektor" not in g for g, _ in skipped)
    assert all(isinstance(g["_id"], int) for g in got)
    approved = [g for g in got if g["_validation_status"]]
    assert approved and approved[0]["_validation_status"] == {
        "uid": "validation_status_approved", "label": "Approved"}


def test_a_column_of_no_question_is_ignored_with_a_note(tmp_path, subs):
    """"Include fields from all versions" adds columns of removed questions: read, each noted."""
    from pipeline.sources.kobo_files import UNKNOWN_COLUMN

    tables = export_tables(subs, CONTENT)
    header, rows = tables[TITLE]
    tables[TITLE] = (header + ["pertanyaan_lama"], [r + ["x"] for r in rows])
    path = tmp_path / "lain.xlsx"
    write_xlsx(path, tables)
    notes = []
    assert read_export(path, CONTENT, notes=notes) == [expected(s, CONTENT) for s in subs]
    assert [{k: n[k] for k in ("issue", "field", "value", "action")} for n in notes] == [
        {"issue": UNKNOWN_COLUMN, "field": "pertanyaan_lama", "value": TITLE, "action": "ignored"}]


def test_an_export_of_another_form_stops_naming_the_missing_questions(tmp_path, subs):
    other = copy.deepcopy(CONTENT)
    for row in other["survey"]:
        if row.get("name") == "tr_gen1":
            row["name"], row["$xpath"] = "percaya_umum", "kepercayaan/percaya_umum"
    path = tmp_path / "lain.xlsx"
    write_xlsx(path, export_tables(subs, other))
    with pytest.raises(SinergiError) as e:
        read_export(path, CONTENT, needed=INST.needed_xpaths())
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"{path}: the export lacks question(s) the analysis needs: "
                                              "kepercayaan/tr_gen1;")
    assert "'kepercayaan/percaya_umum'" in msg


def test_a_label_that_is_not_a_choice_is_an_error(tmp_path, subs):
    tables = export_tables(subs[:1], CONTENT, lang=1, hier=True)
    header, rows = tables[TITLE]
    col = header.index("Business owner profile/Are you a native of this village or a migrant (pendatang)?")
    rows[0][col] = "Somewhere else"
    path = tmp_path / "x.xlsx"
    write_xlsx(path, tables)
    with pytest.raises(SinergiError, match="'profil/asal'"):
        read_export(path, CONTENT)


def test_roster_labels_map_back_to_names(tmp_path, subs):
    roster = {f"r{i:03d}": f"Warga Nomor {i}" for i in range(1, 41)}
    tables = export_tables(subs, CONTENT, lang=0)
    header, rows = tables[TITLE]
    col = header.index("Identitas/Pilih nama Anda dari daftar pelaku UMKM desa.")
    multi = header.index(next(h for h in header if h.startswith("Jejaring") and "informasi usaha" in h))
    for r in rows:
        if r[col]:
            r[col] = roster[r[col]]
        if r[multi]:
            r[multi] = " ".join(roster[v] for v in r[multi].split())
    path = tmp_path / "x.xlsx"
    write_xlsx(path, tables)
    assert read_export(path, CONTENT, roster_names=roster) == [expected(s, CONTENT) for s in subs]


def test_checked_in_fixtures(subs):
    """Small exports kept in tests/data/kobo_exports/ (regenerate with `_write_fixtures()`)."""
    source = json.loads((FIXTURES / "submissions.json").read_text(encoding="utf-8"))
    for name in ("labels-en-groups-both.xlsx", "xml-nogroups-summary.csv"):
        got = read_export(FIXTURES / name, CONTENT)
        assert got == [expected(s, CONTENT, repeats=name.endswith(".xlsx")) for s in source], name


def _write_fixtures() -> None:  # pragma: no cover - run by hand when the writer changes
    FIXTURES.mkdir(parents=True, exist_ok=True)
    small = make_submissions(CONTENT, 4, seed=11, uid="aPRE")
    (FIXTURES / "submissions.json").write_text(json.dumps(small, indent=1, ensure_ascii=False) + "\n")
    write_xlsx(FIXTURES / "labels-en-groups-both.xlsx", export_tables(small, CONTENT, lang=1, hier=True))
    write_csv(FIXTURES / "xml-nogroups-summary.csv",
              export_tables(small, CONTENT, lang=None, hier=False, ms="summary"))


# --------------------------------------------------------------------------------------------
# pull_exports


def test_pull_exports_copies_export_and_writes_asset(tmp_path, subs):
    export = tmp_path / "in" / "pre.xlsx"
    export.parent.mkdir()
    write_xlsx(export, export_tables(subs, CONTENT, lang=0))
    roster = tmp_path / "in" / "warga.csv"
    roster.write_text("name,label\nr001,Siti\n")
    study = Study(id="t", title="Judul studi", source={"kind": "kobo_files"},
                  waves=[{"id": "pre", "file": "in/pre.xlsx", "roster": "in/warga.csv"}], base=tmp_path)
    raw = tmp_path / "raw"
    out = pull_exports(study, raw)
    assert (raw / "pre" / "export" / "pre.xlsx").read_bytes() == export.read_bytes()
    assert (raw / "pre" / "media" / "roster.csv").read_bytes() == roster.read_bytes()
    asset = json.loads((raw / "pre" / "asset.json").read_text())
    assert asset == {"uid": None, "name": "Judul studi", "content": json.loads(json.dumps(CONTENT))}
    m = out["pre"]
    assert m["asset_uid"] is None and m["count"] == 12 and m["id_min"] == 1 and m["id_max"] == 12
    assert set(m["files"]) == {"pre/export/pre.xlsx", "pre/media/roster.csv", "pre/asset.json"}


def test_pull_exports_fails_early_on_a_foreign_export(tmp_path, subs):
    other = copy.deepcopy(CONTENT)
    for row in other["survey"]:
        if row.get("name") == "umur":
            row["name"], row["$xpath"] = "usia", "profil/usia"
    export = tmp_path / "pre.csv"
    write_csv(export, export_tables(subs, other))
    study = Study(id="t", title="T", source={"kind": "kobo_files"},
                  waves=[{"id": "pre", "file": "pre.csv"}], base=tmp_path)
    with pytest.raises(SinergiError, match=r"wave pre: .*pre\.csv: the export lacks .* profil/umur; .*'profil/usia'"):
        pull_exports(study, tmp_path / "raw")


# --------------------------------------------------------------------------------------------
# real website exports: formpack's files of the demo's submissions (tests/formpack_exports.py)

KEY = "cd" * 32
LAYOUTS = json.loads((FIXTURES / "layouts.json").read_text(encoding="utf-8"))
READABLE = [lay for lay in LAYOUTS if not lay["edit"] and lay["fields"] != "no-likert"]


def _raw_wave(root: Path, wave: str, export: Path | None = None) -> Path:
    """A raw folder for one wave: the API pull (``export=None``) or what ``pull_exports`` writes."""
    raw = root / ("raw-export" if export else "raw-json")
    wdir = raw / wave
    (wdir / "media").mkdir(parents=True)
    (wdir / "media" / "roster.csv").write_bytes((FIXTURES / f"{wave}-roster.csv").read_bytes())
    (wdir / "asset.json").write_text(json.dumps({"uid": None, "content": CONTENT}))
    if export is None:
        subs = json.loads((FIXTURES / f"{wave}-submissions.json").read_text(encoding="utf-8"))
        (wdir / "data").mkdir()
        (wdir / "data" / "page-000001.json").write_text(
            json.dumps({"count": len(subs), "next": None, "previous": None, "results": subs}))
    else:
        (wdir / "export").mkdir()
        (wdir / "export" / export.name).write_bytes(export.read_bytes())
    (raw / "pseudonym.key").write_text(KEY)
    return raw


def _study(tmp_path, wave, file="x.xlsx"):
    return Study(id="t", title="T", source={"kind": "kobo_files"},
                 waves=[{"id": wave, "file": file, "roster": f"{wave}-roster.csv"}], base=tmp_path)


@pytest.fixture(scope="module")
def json_tables(tmp_path_factory):
    """tidy's tables of each wave's API submissions (the reference)."""
    from pipeline.tidy import tidy_kobo

    out = {}
    for wave in ("pre", "post"):
        root = tmp_path_factory.mktemp(f"json-{wave}")
        out[wave] = tidy_kobo(_study(root, wave), INST, _raw_wave(root, wave))
    return out


def _canonical(tables):
    return {name: tables[name].reset_index(drop=True) for name in ("respondents", "responses", "ties")}


@pytest.mark.parametrize("lay", READABLE, ids=[lay["file"] for lay in READABLE])
def test_every_website_layout_reads_to_the_json_pulls_tables(tmp_path, json_tables, lay):
    from pipeline.sources.kobo_files import CSV_NO_REPEATS, UNKNOWN_COLUMN
    from pipeline.tidy import tidy_kobo

    wave = lay["wave"]
    got = tidy_kobo(_study(tmp_path, wave), INST, _raw_wave(tmp_path, wave, FIXTURES / lay["file"]))
    want = _canonical(json_tables[wave])
    if lay["kind"] == "csv":  # a CSV has no repeat groups: the ties are there, their frequencies not
        want["ties"] = want["ties"].assign(weight=np.nan)
    for name, frame in _canonical(got).items():
        pd.testing.assert_frame_equal(frame, want[name], obj=f"{lay['file']}: {name}")
    q = got["quality"]
    notes = q[q["issue"].isin([CSV_NO_REPEATS, UNKNOWN_COLUMN])]
    pd.testing.assert_frame_equal(q.drop(notes.index).reset_index(drop=True), json_tables[wave]["quality"])
    assert (notes["issue"] == CSV_NO_REPEATS).sum() == (lay["kind"] == "csv")
    ignored = sorted(notes.loc[notes["issue"] == UNKNOWN_COLUMN, "field"])
    # "all versions" adds the older version's questions profil/usia and profil/no_hp
    assert len(ignored) == (2 if wave == "pre" and lay["versions"] == "all" else 0), ignored
    assert all(notes["wave"] == wave) and all(notes["action"].isin(["ignored", "weights_unknown"]))


def _pull_fixture(tmp_path, name):
    wave = name.split("-", 1)[0]
    (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())
    (tmp_path / f"{wave}-roster.csv").write_bytes((FIXTURES / f"{wave}-roster.csv").read_bytes())
    return pull_exports(_study(tmp_path, wave, name), tmp_path / "raw")


@pytest.mark.parametrize("name,missing", [
    ("post-en-groups-slash-both-all-no-likert.xlsx", "kepercayaan/tr_gen2, norma/nr_kon3"),
    ("post-xml-groups-slash-both-all-likert-deleted.csv", "kepercayaan/tr_out2"),
])
def test_an_export_without_a_needed_question_stops_listing_them(tmp_path, name, missing):
    """A custom question selection, or a Likert column deleted by hand, must not read as
    'unanswered' for everyone."""
    with pytest.raises(SinergiError) as e:
        _pull_fixture(tmp_path, name)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"wave post: {tmp_path / name}: ")
    assert f"the analysis needs: {missing}. Download it again with all questions" in msg


def test_a_selection_without_what_the_analysis_ignores_reads(tmp_path, json_tables):
    """Leaving out notes, calculations and timestamps is fine (covered by the layout test too)."""
    out = _pull_fixture(tmp_path, "post-xml-groups-slash-both-all-no-extras.xlsx")
    assert out["post"]["count"] == 24


@pytest.mark.parametrize("name", ["post-xml-groups-slash-both-all-no-rows.csv",
                                  "post-xml-groups-slash-both-all-no-rows.xlsx"])
def test_an_export_with_no_submissions_stops_naming_the_file(tmp_path, name):
    with pytest.raises(SinergiError) as e:
        _pull_fixture(tmp_path, name)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"wave post: {tmp_path / name}: the export ")
    assert "download it again once the wave's submissions are on the server" in msg


def test_typed_xlsx_number_like_roster_ids_are_restored(tmp_path):
    """A typed XLSX writes the roster id ``010`` as the number 10; the roster gives it back."""
    from pipeline.sources.kobo_files import roster_map

    path = FIXTURES / "post-xml-groups-slash-both-all-typed.xlsx"
    source = {s["_id"]: s for s in json.loads((FIXTURES / "post-submissions.json").read_text(encoding="utf-8"))}
    got = read_export(path, CONTENT, roster_map([FIXTURES / "post-roster.csv"]))
    ids = [(g["identitas/responden"], source[g["_id"]]["identitas/responden"])
           for g in got if "identitas/responden" in g]
    assert ids and all(a == b for a, b in ids) and any(b.startswith("0") for _, b in ids)
    assert all(g["profil/umur"] == source[g["_id"]]["profil/umur"] for g in got if "profil/umur" in g)


def test_a_duplicate_upload_keeps_its_instance_id(tmp_path):
    """``meta/instanceID`` is not exported; restored from ``_uuid`` the duplicate upload in the
    post wave is reported as one, not as the respondent submitting twice."""
    from pipeline.tidy import tidy_kobo

    name = "post-en-groups-slash-both-all.xlsx"
    q = tidy_kobo(_study(tmp_path, "post"), INST, _raw_wave(tmp_path, "post", FIXTURES / name))["quality"]
    assert (q["issue"] == "duplicate_upload").sum() == 1
    assert (q["issue"] == "respondent_twice").sum() == 0


def test_a_label_equal_to_another_choices_name_is_read_as_its_own_choice(tmp_path, subs):
    """Label exports: the answer ``jasa`` is the label of ``warung`` here, not the choice ``jasa``."""
    tricky = copy.deepcopy(CONTENT)
    for c in tricky["choices"]:
        if c["list_name"] == "sektor" and c["name"] == "warung":
            c["label"] = ["jasa", "services"]
        if c["list_name"] == "keanggotaan" and c["name"] == "koperasi":
            c["label"] = ["bumdes", "bumdes"]
    picked = [s for s in subs if s.get("profil/sektor") == "warung" or "koperasi" in s.get("profil/keanggotaan", "")]
    assert picked
    path = tmp_path / "x.xlsx"
    write_xlsx(path, export_tables(subs, tricky, lang=0, ms="summary"))
    assert read_export(path, tricky) == [expected(s, tricky) for s in subs]


def test_the_csv_note_is_translated_for_the_report():
    from pipeline.report import text as rt
    from pipeline.sources.kobo_files import CSV_NO_REPEATS, UNKNOWN_COLUMN

    for issue in (CSV_NO_REPEATS, UNKNOWN_COLUMN):
        assert issue != rt.issue_label(issue, "id") != rt.issue_label(issue, "en") != issue
    assert rt.action_label("weights_unknown", "en") == "weights left unknown (NaN)"
    assert rt.action_label("weights_unknown", "id") == "bobot dibiarkan tidak diketahui (NaN)"


def test_a_csv_export_resaved_by_excel_in_windows_1252_is_read_with_a_note(tmp_path):
    """An export opened and saved again in Excel on Windows is Windows-1252, not UTF-8: it is read
    through the project's one reader of user files, which says so."""
    from pipeline.io import take_notes
    from pipeline.sources.kobo_files import _read_csv

    take_notes()
    path = tmp_path / "export.csv"
    path.write_bytes("nama;nilai\nDésa;1\n".encode("cp1252"))
    parses = _read_csv(path)
    assert any(header == ["nama", "nilai"] and rows == [["Désa", "1"]] for _, header, rows in parses)
    assert any("Windows-1252" in n for n in take_notes())
    path.write_bytes(b"nama;nilai\nA\x0bB;1\n")
    with pytest.raises(SinergiError, match="U\\+000B"):
        _read_csv(path)
