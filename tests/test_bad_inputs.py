"""The corpus of bad inputs: every one ends in one clear line, or in a correct run that says what it did.

Each case names the input it breaks (``study``, ``instrument``, ``tables``, ``roster``), how it
breaks it, and the outcome: ``error`` with the words the one-line message must hold (file, key or
row, column, value, what to do), or ``ok`` with the words a note must hold (and, where it matters,
a check of the result). A bug about an input becomes a new case here.

Most cases call the stage function directly; ``test_cli_*`` run a sample through ``sinergi`` and
check for one line on stderr, no traceback and exit status 2.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.config import check_distinct_waves, load_study
from pipeline.errors import SinergiError
from pipeline.instrument import check_study, load_instrument, scale_map
from pipeline.io import take_notes
from pipeline.pull import pull
from pipeline.sources.raw import read_roster
from pipeline.tidy import run as run_tidy
from pipeline.tidy import tidy_tables
from tests.tablestudy import write_tables_study

ROOT = Path(__file__).resolve().parent.parent
INSTRUMENT = ROOT / "instruments" / "sinergi.yaml"
STUDY = f"""# a tables study for the corpus
id: corpus
title: Corpus study
language: en
instrument: {INSTRUMENT}
source: {{kind: tables, path: data}}
waves:
  - {{id: pre, label: Before}}
  - {{id: post, label: After}}
tie_types: [info]
analysis: {{seed: 1, permutations: 199}}
"""
ROSTER = "name,label\nu001,Rizal — es teh\nu002,Titin — batik\nu003,Désa — warung\n"


@dataclass
class Case:
    """One bad (or odd but valid) input and what must come of it."""

    id: str
    target: str  # study | instrument | tables | roster
    mutate: Callable[[Path], None]
    outcome: str  # error | ok
    words: tuple[str, ...]
    check: Callable[[Any], bool] | None = field(default=None)
    argv: tuple[str, ...] = ()  # target cli: the command ({folder} is the case's folder)


# -- mutations --------------------------------------------------------------------------------


def study_text(fn: Callable[[str], str]):
    def mutate(folder: Path):
        path = folder / "study.yaml"
        path.write_text(fn(path.read_text(encoding="utf-8")), encoding="utf-8")
    return mutate


def study_sub(old: str, new: str):
    def fn(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)
    return study_text(fn)


def study_bytes(fn: Callable[[bytes], bytes]):
    def mutate(folder: Path):
        path = folder / "study.yaml"
        path.write_bytes(fn(path.read_bytes()))
    return mutate


def inst_sub(old: str, new: str, *more: tuple[str, str]):
    def mutate(folder: Path):
        path = folder / "inst.yaml"
        text = path.read_text(encoding="utf-8")
        for a, b in ((old, new), *more):
            assert a in text, a
            text = text.replace(a, b, 1)
        path.write_text(text, encoding="utf-8")
    return mutate


def inst_bytes(fn: Callable[[bytes], bytes]):
    def mutate(folder: Path):
        path = folder / "inst.yaml"
        path.write_bytes(fn(path.read_bytes()))
    return mutate


def df_edit(file: str, fn: Callable[[pd.DataFrame], Any], sep: str = ","):
    """Edit a tables CSV as a frame of text, written back with separator ``sep``."""
    def mutate(folder: Path):
        path = folder / "data" / file
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        out = fn(df)
        (out if isinstance(out, pd.DataFrame) else df).to_csv(path, index=False, sep=sep)
    return mutate


def csv_text(file: str, fn: Callable[[str], str]):
    def mutate(folder: Path):
        path = folder / "data" / file
        path.write_text(fn(path.read_text(encoding="utf-8")), encoding="utf-8", newline="")
    return mutate


def csv_bytes(file: str, fn: Callable[[bytes], bytes]):
    def mutate(folder: Path):
        path = folder / "data" / file
        path.write_bytes(fn(path.read_bytes()))
    return mutate


def cell(row: int, col: str, value: str):
    """Set one cell (``row`` counts data rows from 0: file line ``row + 2``)."""
    return lambda d: d.loc.__setitem__((row, col), value)


def roster(data: bytes | str | None):
    def mutate(folder: Path):
        media = folder / "wave" / "media"
        media.mkdir(parents=True, exist_ok=True)
        if data is None:
            (media / "roster.csv").mkdir()
        else:
            (media / "roster.csv").write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return mutate


def both(*mutations):
    def mutate(folder: Path):
        for m in mutations:
            m(folder)
    return mutate


def kobo_files_study(same: str):
    """A kobo_files study whose second wave's export is the same file (or a copy)."""
    def mutate(folder: Path):
        (folder / "pre.csv").write_text("a,b\n1,2\n")
        (folder / "post.csv").write_text("a,b\n1,2\n")
        second = "pre.csv" if same == "file" else "post.csv"
        (folder / "study.yaml").write_text(
            f"id: corpus\ntitle: t\ninstrument: {INSTRUMENT}\nsource: {{kind: kobo_files}}\n"
            f"waves:\n  - {{id: pre, file: pre.csv}}\n  - {{id: post, file: {second}}}\n", encoding="utf-8")
    return mutate


def demo_study(extra: str):
    """A demo-source study (read with the instrument) with one more top-level line."""
    def mutate(folder: Path):
        (folder / "study.yaml").write_text(
            f"id: corpus\ntitle: t\ninstrument: {INSTRUMENT}\nsource: {{kind: demo}}\n"
            f"waves: [{{id: pre}}, {{id: post}}]\n{extra}\n", encoding="utf-8")
    return mutate


def decimal_commas(d: pd.DataFrame) -> None:
    d["revenue"] = [f"{int(v) // 1000},5" for v in d["revenue"]]


def with_column(name: str, values: Callable[[int], str]):
    def fn(d: pd.DataFrame) -> None:
        d[name] = [values(i) for i in range(len(d))]
    return fn


def deploy_roster(data: bytes | str):
    """The roster `sinergi kobo deploy --roster` is given (folder/roster.csv)."""
    def mutate(folder: Path):
        (folder / "roster.csv").write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return mutate


def listener(kind: str):
    """A local service at the scheduler's address: ``http`` (python's http.server), ``silent``
    (accepts and says nothing), ``closed`` (accepts and hangs up)."""
    def mutate(folder: Path):
        (folder / "listener").write_text(kind)
    return mutate


def demo_copy(*, manifest: bool = True, edit: Callable[[dict], None] | None = None, kind: str = "demo"):
    """The shipped demo's raw folder copied to data/raw/corpus/ (a study of its own id), with or
    without its manifest, the first submission of wave pre edited by ``edit``; and a study file
    of source ``kind`` (demo, or kobo with the demo's asset uids)."""
    def mutate(folder: Path):
        import json
        import shutil

        raw = folder / "data" / "raw" / "corpus"
        shutil.copytree(DEMO_RAW, raw)
        if not manifest:
            (raw / "manifest.json").unlink()
        if edit is not None:
            page = raw / "pre" / "data" / "page-000001.json"
            body = json.loads(page.read_text(encoding="utf-8"))
            edit(body["results"][0])
            page.write_text(json.dumps(body), encoding="utf-8")
        source = "{kind: demo}" if kind == "demo" else "{kind: kobo, server: 'https://kf.kobotoolbox.org'}"
        waves = "[{id: pre}, {id: post}]" if kind == "demo" else "[{id: pre, asset_uid: aPRE}, {id: post, asset_uid: aPOST}]"
        (folder / "study.yaml").write_text(f"id: corpus\ntitle: t\ninstrument: {INSTRUMENT}\nsource: {source}\n"
                                           f"waves: {waves}\n", encoding="utf-8")
    return mutate


def site_names(*names: str):
    """A ``site`` column in respondents.csv: person ``i`` lives in ``names[i % len(names)]``."""
    def fn(d: pd.DataFrame) -> None:
        number = d["respondent_id"].str.extract(r"(\d+)$")[0].astype(int)
        d["site"] = [names[i % len(names)] for i in number]
    return df_edit("respondents.csv", fn)


def set_ties(column: str, value: str, every: int = 2):
    """Set ``column`` of every ``every``-th row of ties.csv to ``value``."""
    def fn(d: pd.DataFrame) -> None:
        d.loc[d.index % every == 0, column] = value
    return df_edit("ties.csv", fn)


LONG_TITLE = "Penguatan Modal Sosial " + "dan Jejaring Usaha Mikro, Kecil dan Menengah " * 7 + "di Desa Kaloran"
DEMO_RAW = ROOT / "data" / "raw" / "demo-kaloran"


LATIN1 = lambda b: b.replace("Corpus study".encode(), "Désa Kalorän".encode("cp1252"))  # noqa: E731
NOT_CP1252 = lambda b: b.replace(b"Corpus study", b"Corpus \x81\x8d study")  # noqa: E731
ID_LOCAL = "person00"


# -- the corpus --------------------------------------------------------------------------------

GOOGLE = ROOT / "tests" / "data" / "google_forms"
ODK_USER, ODK_PASSWORD = "pkm@example.org", "rahasia-sekali"


def google_study(sheet: Callable[[str], str] | None = None, source: str = "", wave: str = "",
                 files: bool = True, contract: bool = True):
    """A google_forms study of the shipped responses fixture (sheet_en.csv, its contract and roster),
    the sheet edited by ``sheet``; ``source``/``wave`` add keys to the source and the wave."""
    def mutate(folder: Path):
        text = (GOOGLE / "sheet_en.csv").read_bytes().decode("utf-8")
        if files:
            (folder / "sheet.csv").write_bytes((sheet(text) if sheet else text).encode("utf-8"))
            (folder / "google_form.json").write_bytes((GOOGLE / "google_form_en.json").read_bytes())
            (folder / "roster.csv").write_bytes((GOOGLE / "roster.csv").read_bytes())
        (folder / "study.yaml").write_text(
            f"id: corpus\ntitle: t\nlanguage: en\ninstrument: {INSTRUMENT}\n"
            f"source: {{kind: google_forms, {source or 'timezone: Asia/Jakarta'}}}\n"
            f"waves:\n  - {{id: pre, file: sheet.csv{', contract: google_form.json' if contract else ''}, "
            f"roster: roster.csv{wave}}}\n",
            encoding="utf-8")
    return mutate


def sheet_sub(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    def fn(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, count)
    return fn


def odk_study(*, project: int = 1, form: str = "sinergi_pre", password: str = ODK_PASSWORD,
              role: str | None = "viewer"):
    """An odk study of the stand-in Central (tests/odk_server.py) holding the form ``sinergi_pre``;
    the study names ``project`` and ``form``, the login ``password``, the user has ``role``."""
    def mutate(folder: Path):
        (folder / "study.yaml").write_text(
            f"id: corpus\ntitle: t\ninstrument: {INSTRUMENT}\n"
            f"source: {{kind: odk, server: '{{server}}', project_id: {project}, max_wait: 10}}\n"
            f"waves:\n  - {{id: pre, form_id: {form}}}\n", encoding="utf-8")
        (folder / "odk.json").write_text(json.dumps({"password": password, "role": role}), encoding="utf-8")
    return mutate


CASES = [
    # study file: strict booleans
    Case("study-show-names-quoted-false", "study", study_sub("analysis:", "privacy: {show_names: \"false\"}\nanalysis:"),
         "error", ("study.yaml", "privacy.show_names", "'false'", "true or false")),
    Case("study-show-names-tidak", "study", study_sub("analysis:", "privacy: {show_names: tidak}\nanalysis:"),
         "error", ("privacy.show_names", "'tidak'", "true or false")),
    Case("study-show-names-ya", "study", study_sub("analysis:", "privacy: {show_names: ya}\nanalysis:"),
         "error", ("privacy.show_names", "'ya'")),
    Case("study-show-names-1", "study", study_sub("analysis:", "privacy: {show_names: 1}\nanalysis:"),
         "error", ("privacy.show_names", "1", "true or false")),
    Case("study-show-names-yaml-no", "study", study_sub("analysis:", "privacy: {show_names: no}\nanalysis:"),
         "ok", (), lambda s: s.privacy.show_names is False),
    Case("study-show-names-true", "study", study_sub("analysis:", "privacy: {show_names: true}\nanalysis:"),
         "ok", (), lambda s: s.privacy.show_names is True),
    # study file: duplicated keys
    Case("study-title-twice", "study", study_sub("language: en", "language: en\ntitle: Other"),
         "error", ("study.yaml", "line 5", "'title'", "written twice", "line 3")),
    Case("study-id-twice", "study", study_sub("language: en", "language: en\nid: other"),
         "error", ("study.yaml", "'id'", "written twice")),
    Case("study-nested-key-twice", "study", study_sub("{kind: tables, path: data}", "{kind: tables, kind: demo, path: data}"),
         "error", ("'kind'", "written twice", "line 6")),
    Case("study-wave-key-twice", "study", study_sub("{id: post, label: After}", "{id: post, label: After, id: mid}"),
         "error", ("'id'", "written twice", "line 9")),
    Case("study-merge-key-is-not-a-duplicate", "study",
         study_sub("  - {id: pre, label: Before}\n  - {id: post, label: After}",
                   "  - &w {id: pre, label: Before}\n  - {<<: *w, id: post}"),
         "ok", (), lambda s: s.wave_ids == ["pre", "post"]),
    # study file: the id line
    Case("study-id-with-comment", "study", study_sub("id: corpus", "id: corpus   # the folder name"),
         "ok", (), lambda s: s.id == "corpus"),
    Case("study-id-quoted", "study", study_sub("id: corpus", "id: 'corpus'"), "ok", (), lambda s: s.id == "corpus"),
    Case("study-id-flow-mapping", "study", study_text(lambda t: "{id: corpus, title: x, source: {kind: demo}, "
                                                                "waves: [{id: pre}]}\n"),
         "error", ("study.yaml", "'id:' line")),
    Case("study-id-upper-case", "study", study_sub("id: corpus", "id: Corpus"), "error", ("id = 'Corpus'", "lower-case")),
    Case("study-id-number", "study", study_sub("id: corpus", "id: 2026"), "error", ("id = 2026", "quotes")),
    Case("study-id-empty", "study", study_sub("id: corpus", "id:"), "error", ("study.yaml", "id is empty")),
    Case("study-id-indented-only", "study", study_sub("id: corpus\n", ""), "error", ("missing key 'id'",)),
    # study file: encodings and characters
    Case("study-utf8-bom", "study", study_bytes(lambda b: b"\xef\xbb\xbf" + b), "ok", (), lambda s: s.id == "corpus"),
    Case("study-utf16-bom", "study", study_bytes(lambda b: b.decode().encode("utf-16")), "ok", (),
         lambda s: s.id == "corpus"),
    Case("study-crlf", "study", study_bytes(lambda b: b.replace(b"\n", b"\r\n")), "ok", (), lambda s: s.id == "corpus"),
    Case("study-latin1", "study", study_bytes(LATIN1), "ok", ("study.yaml", "Windows-1252", "line 3", "Désa Kalorän"),
         lambda s: s.title == "Désa Kalorän"),
    Case("study-not-any-encoding", "study", study_bytes(NOT_CP1252), "error", ("study.yaml", "not UTF-8", "line 3",
                                                                              "save it as UTF-8")),
    Case("study-nul-bytes", "study", study_bytes(lambda b: b + b"\x00\x00"), "error", ("study.yaml", "not a text file")),
    Case("study-control-character", "study", study_sub("Corpus study", "Corpus\x07study"),
         "error", ("study.yaml", "line 3, column 14", "U+0007", "delete it")),
    Case("study-zero-width-space", "study", study_sub("id: corpus", "id: cor\u200bpus"),
         "error", ("line 2, column 8", "zero-width space")),
    # study file: YAML shape
    Case("study-empty-file", "study", study_text(lambda t: ""), "error", ("study.yaml", "empty")),
    Case("study-only-comments", "study", study_text(lambda t: "# nothing yet\n"), "error", ("study.yaml", "empty")),
    Case("study-bad-indentation", "study", study_sub("language: en", "language: en\n  title2: x\n bad: y"),
         "error", ("study.yaml", "not valid YAML at line")),
    Case("study-tab-indentation", "study", study_sub("  - {id: pre", "\t- {id: pre"),
         "error", ("study.yaml", "not valid YAML at line 8", "tabs")),
    Case("study-unclosed-bracket", "study", study_sub("tie_types: [info]", "tie_types: [info"),
         "error", ("not valid YAML at line",)),
    Case("study-top-level-list", "study", study_text(lambda t: "- id: corpus\n"), "error", ("expected key: value pairs",)),
    Case("study-unknown-key", "study", study_sub("language: en", "language: en\ncolour: red"),
         "error", ("unknown key 'colour'",)),
    Case("study-language-yaml-no", "study", study_sub("language: en", "language: no"),
         "error", ("language = False", "allowed: id or en")),
    Case("study-wave-id-on", "study", study_sub("{id: pre, label: Before}", "{id: on, label: Before}"),
         "error", ("waves[0].id = True",)),
    Case("study-no-waves", "study", study_sub("waves:\n  - {id: pre, label: Before}\n  - {id: post, label: After}",
                                              "waves: []"), "error", ("waves",)),
    Case("study-tie-types-not-a-list", "study", study_sub("tie_types: [info]", "tie_types: info"),
         "error", ("tie_types",)),
    Case("study-alpha-decimal-comma", "study", study_sub("{seed: 1, permutations: 199}",
                                                         "{seed: 1, permutations: 199, alpha: '0,05'}"),
         "error", ("analysis.alpha = '0,05'",)),
    Case("study-tie-type-twice", "study", study_sub("tie_types: [info]", "tie_types: [info, info]"),
         "error", ("tie_types: 'info' is listed twice",)),
    Case("study-group-level-twice", "study",
         study_sub("tie_types:", "group: {levels: [{value: lokal}, {value: lokal}]}\ntie_types:"),
         "error", ("group.levels: value 'lokal' is listed twice",)),
    Case("study-one-group-level", "study", study_sub("tie_types:", "group: {levels: [{value: lokal}]}\ntie_types:"),
         "error", ("group.levels",)),
    # study file: paths
    Case("study-instrument-is-a-folder", "study", study_sub(f"instrument: {INSTRUMENT}", f"instrument: {ROOT / 'instruments'}"),
         "error", ("study.yaml", "instrument = ", "is a folder")),
    Case("study-instrument-missing", "study", study_sub(f"instrument: {INSTRUMENT}", "instrument: nope.yaml"),
         "error", ("instrument = 'nope.yaml': file not found",)),
    Case("study-source-path-is-a-file", "study", study_sub("path: data}", "path: study.yaml}"),
         "error", ("source.path = 'study.yaml'", "is a file")),
    Case("study-roster-is-a-folder", "study", both(kobo_files_study("copy"),
                                                   study_sub("{id: pre, file: pre.csv}", "{id: pre, file: pre.csv, roster: data}")),
         "error", ("waves[0].roster = 'data'", "is a folder")),
    Case("study-waves-same-export-file", "study", kobo_files_study("file"),
         "error", ("study.yaml", "waves[1].file = 'pre.csv'", "same file as waves[0].file", "compared with itself")),
    Case("study-waves-same-export-content", "study", kobo_files_study("copy"),
         "error", ("waves[1].file = 'post.csv'", "same content as waves[0].file = 'pre.csv'")),
    Case("study-waves-same-asset", "study",
         study_text(lambda t: f"id: corpus\ntitle: t\ninstrument: {INSTRUMENT}\nsource: {{kind: kobo}}\n"
                              "waves:\n  - {id: pre, asset_uid: aAbB}\n  - {id: post, asset_uid: aAbB}\n"),
         "error", ("asset_uid 'aAbB'", "two waves")),

    # instrument: reverse must be a YAML boolean
    Case("inst-reverse-quoted-false", "instrument", inst_sub("reverse: true", 'reverse: "false"'),
         "error", ("inst.yaml", "'tr_gen2'", "reverse = 'false'", "true or false")),
    Case("inst-reverse-tidak", "instrument", inst_sub("reverse: true", "reverse: tidak"),
         "error", ("'tr_gen2' reverse = 'tidak'",)),
    Case("inst-reverse-quoted-no", "instrument", inst_sub("reverse: true", 'reverse: "no"'),
         "error", ("reverse = 'no'",)),
    Case("inst-reverse-ya", "instrument", inst_sub("reverse: true", "reverse: ya"), "error", ("reverse = 'ya'",)),
    Case("inst-reverse-1", "instrument", inst_sub("reverse: true", "reverse: 1"), "error", ("reverse = 1",)),
    Case("inst-reverse-yaml-no", "instrument", inst_sub("reverse: true", "reverse: no"), "ok", (),
         lambda inst: not scale_map(inst).set_index("item").loc["tr_gen2", "reverse"]),
    Case("inst-reverse-without-scale", "instrument", inst_sub("var: years_in_village", "var: years_in_village\n        reverse: true"),
         "error", ("has reverse but no scale",)),
    # instrument: shapes
    Case("inst-choices-as-list", "instrument", inst_sub("choices:\n", "choices:\n  - [ya, Ya, Yes]\nold_choices:\n"),
         "error", ("inst.yaml", "'choices' must be", "got list")),
    Case("inst-choice-list-as-mapping", "instrument",
         inst_sub('  ya_tidak:\n    - [ya, "Ya", "Yes"]\n    - [tidak, "Tidak", "No"]',
                  '  ya_tidak:\n    ya: ["Ya", "Yes"]\n    tidak: ["Tidak", "No"]'),
         "error", ("choice list 'ya_tidak' must be a list",)),
    Case("inst-survey-as-mapping", "instrument", inst_sub("survey:\n  - {type: start, name: start}",
                                                          "survey:\n  first: {type: start, name: start}\n  x:"),
         "error", ("'survey' must be a list of rows",)),
    Case("inst-row-is-text", "instrument", inst_sub("  - {type: end, name: end}", "  - end"),
         "error", ("survey row must be",)),
    Case("inst-type-not-text", "instrument", inst_sub("  - {type: end, name: end}", "  - {type: 5, name: end}"),
         "error", ("row 'end': type must be text",)),
    Case("inst-rows-not-list", "instrument", inst_sub("  - {type: end, name: end}",
                                                      "  - {type: end, name: end}\n  - {type: begin_group, name: g, "
                                                      "label: {id: a, en: b}, rows: x}"),
         "error", ("'rows' of",)),
    Case("inst-tie-without-tie-type", "instrument", inst_sub("        role: tie\n        tie_type: info\n", "        role: tie\n"),
         "error", ("inst.yaml", "'net_info'", "needs tie_type")),
    Case("inst-tie-type-twice", "instrument", inst_sub("        role: tie\n        tie_type: help\n",
                                                       "        role: tie\n        tie_type: info\n"),
         "error", ("tie_type 'info' is used by two name generators",)),
    Case("inst-key-twice-in-row", "instrument", inst_sub("        name: tr_gen2\n", "        name: tr_gen2\n        name: tr_gen9\n"),
         "error", ("inst.yaml", "key 'name' is written twice")),
    Case("inst-no-form-title", "instrument", inst_sub("  title:\n", "  titel:\n"),
         "error", ("inst.yaml", "form.title is missing")),
    Case("inst-empty", "instrument", inst_bytes(lambda b: b""), "error", ("inst.yaml", "top-level keys")),
    Case("inst-bad-yaml-one-line", "instrument", inst_sub("survey:\n", "survey:\n  - {type: x, name: [y}\n"),
         "error", ("inst.yaml", "not valid YAML at line")),
    Case("inst-bad-scale", "instrument", inst_sub("scale: trust/generalized", "scale: trust"),
         "error", ("'tr_gen1' scale must be 'dimension/subscale'",)),
    Case("inst-latin1", "instrument", inst_bytes(lambda b: b.decode().encode("cp1252", errors="replace")),
         "ok", ("inst.yaml", "Windows-1252")),
    Case("inst-utf8-bom", "instrument", inst_bytes(lambda b: b"\xef\xbb\xbf" + b), "ok", ()),
    Case("inst-not-any-encoding", "instrument", inst_bytes(lambda b: b.replace(b"form:", b"\x81form:", 1)),
         "error", ("inst.yaml", "not UTF-8", "save it as UTF-8")),
    Case("inst-control-character", "instrument", inst_sub("Generally speaking", "Generally\x0bspeaking"),
         "error", ("inst.yaml", "U+000B")),
    Case("inst-is-a-folder", "instrument", lambda f: ((f / "inst.yaml").unlink(), (f / "inst.yaml").mkdir()),
         "error", ("inst.yaml", "is a folder")),

    # tables: ids and spaces
    Case("tables-trailing-space-in-id", "tables", df_edit("respondents.csv", cell(0, "respondent_id", "person00 ")),
         "ok", ("respondents.csv", "removed spaces", "row 2", "'person00 '"),
         lambda out: out["respondents"].groupby("respondent_id").size().max() == 2),
    Case("tables-trailing-space-in-ego", "tables", df_edit("ties.csv", cell(0, "ego", " person00")),
         "ok", ("ties.csv", "removed spaces")),
    Case("tables-space-in-group", "tables", df_edit("respondents.csv", cell(0, "group", "lokal ")),
         "ok", ("removed spaces",)),
    Case("tables-header-spaces", "tables", csv_text("ties.csv", lambda t: t.replace("wave,tie_type", " wave , tie_type", 1)),
         "ok", ()),
    Case("tables-empty-respondent-id", "tables", df_edit("respondents.csv", cell(2, "respondent_id", "")),
         "error", ("respondents.csv", "row 4, column respondent_id", "empty")),
    Case("tables-empty-ego", "tables", df_edit("ties.csv", cell(0, "ego", "")),
         "error", ("ties.csv", "row 2, column ego", "empty")),
    Case("tables-empty-alter", "tables", df_edit("ties.csv", cell(3, "alter", "")),
         "error", ("ties.csv", "row 5, column alter", "empty")),
    Case("tables-empty-item", "tables", df_edit("responses.csv", cell(1, "item", "")),
         "error", ("responses.csv", "row 3, column item", "empty")),
    Case("tables-empty-wave", "tables", df_edit("responses.csv", cell(1, "wave", "")),
         "error", ("responses.csv", "row 3, column wave", "empty")),
    Case("tables-ego-not-a-respondent", "tables", df_edit("ties.csv", cell(0, "ego", "stranger")),
         "error", ("ties.csv", "row 2, column ego", "'stranger'", "no row in respondents.csv")),
    Case("tables-alter-not-a-respondent", "tables", df_edit("ties.csv", cell(0, "alter", "stranger")),
         "ok", (), lambda out: "non_respondent_nomination" in set(out["quality"]["issue"])),
    Case("tables-wave-case", "tables", df_edit("respondents.csv", cell(0, "wave", "Pre")),
         "error", ("row 2, column wave", "'Pre' is not a wave")),
    Case("tables-fix-where", "tables", df_edit("respondents.csv", cell(0, "group", "asing")),
         "error", ("row 2, column group", "'asing'", "fix it in", "data/respondents.csv", "make pull")),
    # tables: numbers
    Case("tables-semicolon-decimal-comma", "tables", df_edit("respondents.csv", decimal_commas, sep=";"),
         "ok", ("respondents.csv", "decimal commas", "','"),
         lambda out: out["respondents"]["revenue"].notna().all() and out["respondents"]["revenue"].dtype == float
         and (out["respondents"]["revenue"] % 1 == 0.5).all()),
    Case("tables-semicolon-integers", "tables", df_edit("respondents.csv", lambda d: None, sep=";"),
         "ok", (), lambda out: out["respondents"]["revenue"].dtype == float),
    Case("tables-semicolon-thousands-only", "tables",
         df_edit("respondents.csv", lambda d: d.__setitem__("revenue", [f"{int(v) * 1000:,}".replace(",", ".")
                                                                       for v in d["revenue"]]), sep=";"),
         "error", ("respondents.csv", "column revenue", "is not a number", "digits only (1500000)")),
    Case("tables-semicolon-ambiguous-thousands", "tables",
         df_edit("respondents.csv", lambda d: d.loc.__setitem__((2, "revenue"), "2.500"), sep=";"),
         "error", ("row 4, column revenue", "'2.500'", "thousands or as a decimal", "(2,5)")),
    Case("tables-comma-file-quoted-thousands", "tables", df_edit("respondents.csv", cell(2, "revenue", "2,500")),
         "error", ("row 4, column revenue", "'2,500'", "thousands or as a decimal", "(2.5)")),
    Case("tables-semicolon-decimal-point", "tables",
         both(df_edit("respondents.csv", with_column("age", lambda i: "40.5")),
              df_edit("respondents.csv", lambda d: None, sep=";")),
         "ok", (), lambda out: (out["respondents"]["age"] == 40.5).all()),
    Case("tables-decimal-comma-with-a-point", "tables",
         df_edit("respondents.csv", lambda d: (decimal_commas(d), d.loc.__setitem__((4, "revenue"), "2.5")), sep=";"),
         "error", ("row 6, column revenue", "'2.5'", "decimals with a comma")),
    Case("tables-comma-file-quoted-decimal-comma", "tables", df_edit("respondents.csv", cell(0, "revenue", "2,5")),
         "error", ("row 2, column revenue", "'2,5'", "decimals with a point")),
    Case("tables-excel-sep-line", "tables",
         both(df_edit("ties.csv", lambda d: None, sep=";"), csv_text("ties.csv", lambda t: "sep=;\n" + t)),
         "ok", ("ties.csv", "'sep=;'"), lambda out: len(out["ties"]) > 50),
    Case("tables-group-case", "tables", df_edit("respondents.csv", cell(0, "group", "Lokal")),
         "error", ("row 2, column group", "'Lokal' is not a group level")),
    Case("tables-tab-separated", "tables", df_edit("ties.csv", lambda d: None, sep="\t"), "ok", (),
         lambda out: len(out["ties"]) > 50),
    Case("tables-revenue-inf", "tables", df_edit("respondents.csv", cell(3, "revenue", "inf")),
         "error", ("respondents.csv", "row 5, column revenue", "'inf' is not a number", "finite")),
    Case("tables-revenue-nan-text", "tables", df_edit("respondents.csv", cell(3, "revenue", "NaN")),
         "error", ("row 5, column revenue", "'NaN'")),
    Case("tables-revenue-negative", "tables", df_edit("respondents.csv", cell(3, "revenue", "-5")),
         "error", ("row 5, column revenue", "'-5' is not an amount")),
    Case("tables-revenue-rupiah", "tables", df_edit("respondents.csv", cell(3, "revenue", "Rp 500000")),
         "error", ("row 5, column revenue", "'Rp 500000'", "digits only")),
    Case("tables-revenue-empty-is-missing", "tables", df_edit("respondents.csv", cell(3, "revenue", "")),
         "ok", (), lambda out: out["respondents"]["revenue"].isna().sum() == 1),
    Case("tables-forum-meetings-fraction", "tables", df_edit("respondents.csv", cell(0, "forum_meetings", "2.5")),
         "error", ("row 2, column forum_meetings", "'2.5' is not a whole number")),
    Case("tables-age-300", "tables", df_edit("respondents.csv", with_column("age", lambda i: "300" if i == 1 else "40")),
         "error", ("row 3, column age", "'300'", "years")),
    Case("tables-joint-purchasing-ya-tidak", "tables",
         df_edit("respondents.csv", with_column("joint_purchasing", lambda i: "ya" if i % 2 else "tidak")),
         "ok", ("column joint_purchasing", "tidak/ya as 1/0"),
         lambda out: set(out["respondents"]["joint_purchasing"]) == {0.0, 1.0}),
    Case("tables-joint-purchasing-yes-no-caps", "tables",
         df_edit("respondents.csv", with_column("joint_purchasing", lambda i: "Yes" if i % 2 else "No")),
         "ok", ("no/yes as 1/0",), lambda out: out["respondents"]["joint_purchasing"].sum() > 0),
    Case("tables-joint-purchasing-2", "tables", df_edit("respondents.csv", with_column("joint_purchasing", lambda i: "2")),
         "error", ("row 2, column joint_purchasing", "'2' is not 1 or 0")),
    Case("tables-joint-purchasing-mungkin", "tables",
         df_edit("respondents.csv", with_column("joint_purchasing", lambda i: "mungkin" if i == 5 else "1")),
         "error", ("row 7, column joint_purchasing", "'mungkin'")),
    Case("tables-unknown-covariate-mixed", "tables",
         df_edit("respondents.csv", with_column("house", lambda i: "no. 5" if i == 3 else str(i))),
         "ok", (), lambda out: "house" not in out["respondents"].columns  # distinct, address-like: held back
         and (out["quality"]["field"] == "respondents.csv: house").any()),
    Case("tables-unknown-covariate-mixed-kept", "tables",
         df_edit("respondents.csv", with_column("sector2", lambda i: "no. 5" if i == 3 else str(i % 3))),
         "ok", ("column sector2 kept as text", "row 5")),
    Case("tables-unknown-covariate-numbers", "tables",
         df_edit("respondents.csv", with_column("house", lambda i: str(i))),
         "ok", (), lambda out: out["respondents"]["house"].dtype == float),
    # tables: scale answers and weights
    Case("tables-likert-3.5", "tables", df_edit("responses.csv", cell(3, "value", "3.5")),
         "error", ("responses.csv", "row 5", "value 3.5 is not a whole number", "1..5")),
    Case("tables-likert-9", "tables", df_edit("responses.csv", cell(3, "value", "9")),
         "error", ("responses.csv: row 5: item", "value 9 is outside 1..5")),
    Case("tables-likert-0", "tables", df_edit("responses.csv", cell(3, "value", "0")), "error", ("is outside 1..5",)),
    Case("tables-likert-inf", "tables", df_edit("responses.csv", cell(3, "value", "inf")),
         "error", ("row 5, column value", "'inf'")),
    Case("tables-likert-text", "tables", df_edit("responses.csv", cell(3, "value", "setuju")),
         "error", ("row 5, column value", "'setuju' is not a number")),
    Case("tables-likert-3.0", "tables", df_edit("responses.csv", cell(3, "value", "3.0")), "ok", ()),
    Case("tables-decimal-scale", "tables",
         both(df_edit("scales.csv", lambda d: (d.__setitem__("min", "0.5"), d.__setitem__("max", "5.5"))),
              df_edit("responses.csv", cell(3, "value", "3.5"))), "ok", ()),
    Case("tables-weight-1e9", "tables", df_edit("ties.csv", cell(2, "weight", "1e9")),
         "error", ("ties.csv", "row 4, column weight", "'1e9'", "1..4")),
    Case("tables-weight-0", "tables", df_edit("ties.csv", cell(2, "weight", "0")), "error", ("row 4, column weight", "'0'")),
    Case("tables-weight-2.5", "tables", df_edit("ties.csv", cell(2, "weight", "2.5")), "error", ("'2.5'", "frequency")),
    Case("tables-weight-empty", "tables", df_edit("ties.csv", cell(2, "weight", "")), "ok", (),
         lambda out: out["ties"]["weight"].isna().sum() == 1),
    Case("tables-no-weight-column", "tables", df_edit("ties.csv", lambda d: d.drop(columns=["weight"])), "ok", (),
         lambda out: out["ties"]["weight"].isna().all()),
    # tables: scales.csv
    Case("tables-reverse-tidak", "tables", df_edit("scales.csv", cell(2, "reverse", "tidak")), "ok", (),
         lambda out: not out["scale_map"].set_index("item").loc["t3", "reverse"]),
    Case("tables-reverse-false-caps", "tables", df_edit("scales.csv", cell(2, "reverse", "FALSE")), "ok", (),
         lambda out: not out["scale_map"].set_index("item").loc["t3", "reverse"]),
    Case("tables-reverse-maybe", "tables", df_edit("scales.csv", cell(0, "reverse", "maybe")),
         "error", ("scales.csv", "row 2, column reverse", "'maybe' is not true/false")),
    Case("tables-reverse-empty", "tables", df_edit("scales.csv", cell(0, "reverse", "")),
         "error", ("row 2, column reverse", "empty")),
    Case("tables-scale-min-above-max", "tables", df_edit("scales.csv", cell(1, "min", "6")),
         "error", ("scales.csv", "row 3, column max", "not above min")),
    Case("tables-scale-item-twice", "tables", df_edit("scales.csv", cell(1, "item", "t1")),
         "error", ("row 3, column item", "'t1' is listed twice")),
    Case("tables-scale-min-text", "tables", df_edit("scales.csv", cell(1, "min", "satu")),
         "error", ("row 3, column min", "'satu' is not a number")),
    # tables: CSV structure
    Case("tables-duplicated-column", "tables", csv_text("respondents.csv", lambda t: t.replace("group,", "group,group,", 1)
                                                        .replace("\n", "\n", 1)),
         "error", ("respondents.csv", "column 'group' appears 2 times")),
    Case("tables-empty-file", "tables", csv_bytes("respondents.csv", lambda b: b""),
         "error", ("respondents.csv", "the file is empty", "respondent_id,wave,group")),
    Case("tables-whitespace-file", "tables", csv_bytes("ties.csv", lambda b: b"\n  \n"),
         "error", ("ties.csv", "the file is empty", "wave,tie_type,ego,alter")),
    Case("tables-ties-header-only", "tables", csv_text("ties.csv", lambda t: t.splitlines()[0] + "\n"), "ok", (),
         lambda out: len(out["ties"]) == 0),
    Case("tables-respondents-header-only", "tables", csv_text("respondents.csv", lambda t: t.splitlines()[0] + "\n"),
         "error", ("respondents.csv", "no rows")),
    Case("tables-too-many-values", "tables", csv_text("ties.csv", lambda t: t.replace("\n", "\n", 1)
                                                      .replace("\npre,info,person00,", "\npre,info,person00,x,", 1)),
         "error", ("ties.csv", "row 2", "6 values but the header has 5 columns", "double quotes")),
    Case("tables-too-few-values", "tables", csv_text("ties.csv", lambda t: re.sub(r"\n(pre,info,person0[0-9]),[^\n]*",
                                                                                  r"\n\1", t, count=1)),
         "error", ("ties.csv", "row 2", "3 values but the header has 5 columns")),
    Case("tables-unclosed-quote", "tables", csv_text("respondents.csv", lambda t: t.replace("\nperson00,", '\n"person00,', 1)),
         "error", ("respondents.csv", "row 2")),
    Case("tables-trailing-separator", "tables", csv_text("ties.csv", lambda t: t.replace("\n", ",\n")),
         "ok", ("ties.csv", "empty column(s) without a name")),
    Case("tables-two-trailing-separators", "tables", csv_text("ties.csv", lambda t: t.replace("\n", ",,\n")),
         "ok", ("ties.csv", "ignored 2 empty column(s) without a name"), lambda out: len(out["ties"]) > 0),
    Case("tables-only-separators", "tables", csv_text("ties.csv", lambda t: ",,,,\n , \n"),
         "error", ("ties.csv", "the file is empty", "wave,tie_type,ego,alter")),
    Case("tables-sep-line-only", "tables", csv_text("scales.csv", lambda t: "sep=;\n"),
         "error", ("scales.csv", "the file is empty", "item,dimension")),
    Case("tables-unnamed-column-with-values", "tables", csv_text("ties.csv", lambda t: "".join(line + (",\n" if i == 0 else ",x\n")
                                                               for i, line in enumerate(t.splitlines()))),
         "error", ("ties.csv", "column 6 has no name", "row 2")),
    Case("tables-blank-lines", "tables", csv_text("ties.csv", lambda t: t.replace("\n", "\n\n", 3)), "ok", ()),
    Case("tables-row-is-the-file-line", "tables",
         csv_text("responses.csv", lambda t: t.replace("\n", "\n\n", 1).replace("\n\nperson00,pre,t1,", "\n\nperson00,pre,t1,7", 1)),
         "error", ("responses.csv", "row 3", "is outside 1..5")),
    Case("tables-crlf", "tables", csv_bytes("respondents.csv", lambda b: b.replace(b"\n", b"\r\n")), "ok", ()),
    Case("tables-utf8-bom", "tables", csv_bytes("respondents.csv", lambda b: b"\xef\xbb\xbf" + b), "ok", (),
         lambda out: len(out["respondents"]) > 40),
    Case("tables-utf16-bom", "tables", csv_bytes("respondents.csv", lambda b: b.decode().encode("utf-16")), "ok", ()),
    Case("tables-latin1", "tables", df_edit("respondents.csv", with_column("desa", lambda i: "Kalorän")),
         "ok", (), lambda out: set(out["respondents"]["desa"]) == {"Kalorän"}),
    Case("tables-cp1252-file", "tables",
         both(df_edit("respondents.csv", with_column("desa", lambda i: "Kalorän")),
              csv_bytes("respondents.csv", lambda b: b.decode().encode("cp1252"))),
         "ok", ("respondents.csv", "Windows-1252", "Kalorän"), lambda out: set(out["respondents"]["desa"]) == {"Kalorän"}),
    Case("tables-not-any-encoding", "tables", csv_bytes("respondents.csv", lambda b: b.replace(b"person01", b"person\x8d1", 1)),
         "error", ("respondents.csv", "not UTF-8", "line 3", "CSV UTF-8")),
    Case("tables-excel-workbook", "tables", csv_bytes("respondents.csv", lambda b: b"PK\x03\x04\x00\x00binary"),
         "error", ("respondents.csv", "not a text file", "Excel")),
    Case("tables-control-character", "tables", df_edit("respondents.csv", cell(0, "respondent_id", "person\x0b00")),
         "error", ("respondents.csv", "line 2, column 7", "U+000B")),
    Case("tables-missing-file", "tables", lambda f: (f / "data" / "scales.csv").unlink(),
         "error", ("scales.csv missing",)),
    Case("tables-missing-column", "tables", df_edit("ties.csv", lambda d: d.drop(columns=["ego"])),
         "error", ("ties.csv: missing column(s) ego",)),
    # tables: groups and sites
    Case("tables-group-variable-typo", "tables", study_sub("tie_types:", "group: {variable: orign}\ntie_types:"),
         "error", ("study.yaml", "group.variable = 'orign'", "respondents.csv has no column 'orign'")),
    Case("tables-group-variable-column", "tables",
         both(df_edit("respondents.csv", lambda d: d.rename(columns={"group": "origin"})),
              study_sub("tie_types:", "group: {variable: origin}\ntie_types:")),
         "ok", ("groups read from column 'origin'",), lambda out: set(out["respondents"]["group"]) == {"lokal", "pendatang"}),
    Case("tables-group-variable-other-column", "tables",
         both(df_edit("respondents.csv", with_column("usaha", lambda i: "pendatang" if i < 10 else "lokal")),
              study_sub("tie_types:", "group: {variable: usaha}\ntie_types:")),
         "ok", ("groups read from column 'usaha'", "'group' column is not used"),
         lambda out: (out["respondents"]["group"] == "pendatang").sum() == 10),
    Case("tables-site-partly-empty", "tables",
         df_edit("respondents.csv", with_column("site", lambda i: "" if i == 2 else "desa0")),
         "error", ("row 4, column site", "empty")),
    Case("tables-same-person-twice", "tables", df_edit("respondents.csv", cell(1, "respondent_id", "person00")),
         "error", ("rows 2, 3", "the same respondent_id twice", "'person00'")),

    # study against its instrument (KoboToolbox-shaped sources)
    Case("check-group-variable-typo", "check", demo_study("group: {variable: orign}"),
         "error", ("study.yaml", "group.variable = 'orign'", "not a select-one variable", "origin", "spelling")),
    Case("check-group-variable-sector", "check", demo_study("group: {variable: sex}"), "ok", ()),
    Case("check-tie-type-unknown", "check", demo_study("tie_types: [info, gossip]"),
         "error", ("study.yaml", "tie_types: 'gossip'", "no name generator", "info, help, collab")),

    # rosters
    Case("roster-utf8", "roster", roster(ROSTER), "ok", (), lambda names: names == ["u001", "u002", "u003"]),
    Case("roster-utf8-bom", "roster", roster("\ufeff" + ROSTER), "ok", (), lambda names: names[0] == "u001"),
    Case("roster-utf16", "roster", roster(ROSTER.encode("utf-16")), "ok", (), lambda names: len(names) == 3),
    Case("roster-latin1", "roster", roster(ROSTER.replace("—", "-").encode("cp1252")),
         "ok", ("roster.csv", "Windows-1252", "Désa"), lambda names: names == ["u001", "u002", "u003"]),
    Case("roster-not-any-encoding", "roster", roster(ROSTER.encode().replace(b"Titin", b"Ti\x81in")),
         "error", ("roster.csv", "not UTF-8", "line 3")),
    Case("roster-nul", "roster", roster(b"name,label\x00\n"), "error", ("roster.csv", "not a text file")),
    Case("roster-control-character", "roster", roster(ROSTER.replace("Titin", "Ti\x1btin")),
         "error", ("roster.csv", "line 3", "U+001B")),
    Case("roster-is-a-folder", "roster", roster(None), "error", ("roster.csv", "is a folder")),
    Case("roster-no-name-column", "roster", roster("id,label\nu001,x\n"), "error", ("roster.csv", "'name' column")),
    Case("roster-space-around-name", "roster", roster("name,label\nu001 ,x\n"), "ok", (), lambda names: names == ["u001"]),

    # -- issue 20: inputs added since the corpus was written (districts, arms, the scheduler, the
    # -- instrument build, kobo deploy, the monitor, report texts, full disks)
    Case("study-scheduler-dashboard-url", "study",
         study_sub("{seed: 1, permutations: 199}", "{seed: 1, permutations: 199, scheduler: 'http://10.0.0.5:8787'}"),
         "error", ("study.yaml", "analysis.scheduler", "'http://10.0.0.5:8787'", "dashboard", "tcp://10.0.0.5:8786")),
    Case("study-scheduler-https-url", "study",
         study_sub("{seed: 1, permutations: 199}", "{seed: 1, permutations: 199, scheduler: 'https://dask.example.org'}"),
         "error", ("analysis.scheduler", "dashboard", "tcp://dask.example.org:8786")),
    Case("study-scheduler-unknown-scheme", "study",
         study_sub("{seed: 1, permutations: 199}", "{seed: 1, permutations: 199, scheduler: 'ftp://host:21'}"),
         "error", ("analysis.scheduler", "'ftp://host:21'", "tcp://")),
    Case("study-arms-all-program", "study", study_sub("tie_types:", "arms: {desa0: program, desa1: program}\ntie_types:"),
         "error", ("study.yaml", "arms", "every village is 'program'", "comparison")),
    Case("study-arms-one-village", "study", study_sub("tie_types:", "arms: {desa0: comparison}\ntie_types:"),
         "error", ("study.yaml", "arms", "'comparison'", "at least one")),
    Case("study-program-empty-english", "study",
         study_sub("tie_types:", "report: {program: {id: Forum, en: ''}}\ntie_types:"),
         "error", ("study.yaml", "report.program.en", "empty")),
    Case("study-program-blank-indonesian", "study",
         study_sub("tie_types:", "report: {program: {id: '  ', en: Forum}}\ntie_types:"),
         "error", ("study.yaml", "report.program.id", "empty")),
    Case("study-stages-not-a-list", "study",
         study_sub("tie_types:", "report: {stages: pelatihan}\ntie_types:"),
         "error", ("study.yaml", "report.stages", "'pelatihan'", "valid list")),
    Case("study-stage-date-a-number", "study",
         study_sub("tie_types:", "report: {stages: [{name: Forum, date: 5}]}\ntie_types:"),
         "error", ("study.yaml", "report.stages[0].date", "5", "2026-07-01")),
    Case("study-stage-name-english-missing", "study",
         study_sub("tie_types:", "report: {stages: [{name: {id: Forum}}]}\ntie_types:"),
         "error", ("study.yaml", "report.stages[0].name.en")),
    Case("study-stage-date-as-a-date", "study",
         study_sub("tie_types:", "report: {stages: [{name: Forum, date: 2026-07-01}]}\ntie_types:"),
         "ok", (), lambda s: s.stages_in("id") == [("Forum", "2026-07-01", None)]),
    Case("study-wave-label-empty-english", "study",
         study_sub("{id: pre, label: Before}", "{id: pre, label: {id: Sebelum, en: ''}}"),
         "error", ("study.yaml", "waves[0].label.en", "empty")),
    Case("study-title-over-255-characters", "docx", study_sub("title: Corpus study", f"title: {LONG_TITLE}"),
         "ok", (), lambda doc: len(doc.core_properties.title) <= 255 and doc.core_properties.title.endswith("…")
         and LONG_TITLE in "\n".join(p.text for p in doc.paragraphs)),
    Case("inst-choice-name-twice", "instrument", inst_sub('    - ["5", "Sangat setuju", "Strongly agree"]',
                                                          '    - ["4", "Sangat setuju", "Strongly agree"]'),
         "error", ("inst.yaml", "choice list 'likert5'", "'4'", "twice")),
    Case("inst-choice-name-empty", "instrument", inst_sub('    - ["5", "Sangat setuju", "Strongly agree"]',
                                                          '    - ["", "Sangat setuju", "Strongly agree"]'),
         "error", ("inst.yaml", "choice list 'likert5'", "empty")),
    Case("inst-pyxform-refuses-reference", "build", inst_sub("relevant: \"${setuju} = 'ya'\"",
                                                              "relevant: \"${setju} = 'ya'\""),
         "error", ("inst.yaml", "pyxform", "setju")),
    Case("inst-pyxform-refuses-name", "build", inst_sub("name: tr_gen1", "name: tr gen1"),
         "error", ("inst.yaml", "pyxform", "tr gen1")),
    Case("tables-tie-type-in-no-wave", "tables", study_sub("tie_types: [info]", "tie_types: [info, colab]"),
         "error", ("study.yaml", "tie_types: 'colab'", "occurs in no wave", "ties.csv has: info")),
    Case("tables-tie-type-typo-and-data-type", "tables",
         both(set_ties("tie_type", "collab"), study_sub("tie_types: [info]", "tie_types: [info, colab]")),
         "error", ("study.yaml", "tie_types: 'colab'", "collab, info")),
    Case("tables-tie-type-only-in-one-wave", "tables",
         both(df_edit("ties.csv", lambda d: d.loc.__setitem__(((d["wave"] == "post") & (d.index % 2 == 0), "tie_type"),
                                                                "help")),
              study_sub("tie_types: [info]", "tie_types: [info, help]")),
         "ok", (), lambda out: set(out["ties"]["tie_type"]) == {"info", "help"}),
    Case("tables-sites-differ-in-punctuation", "export", site_names("Desa A", "Desa_A"),
         "ok", (), lambda files: {p.parts[1] for p in files if p.parts[0] == "graphs"} == {"Desa_A", "Desa_A-1"}
         and {p.parts[1] for p in files if p.parts[0] == "rsiena"} == {"Desa_A", "Desa_A-1"}),
    Case("deploy-roster-id-twice", "deploy", deploy_roster("name,label\nu001,Rizal\nu002,Titin\nu001,Désa\n"),
         "error", ("roster.csv", "rows 2 and 4", "'u001'", "twice")),
    Case("deploy-roster-empty-label", "deploy", deploy_roster("name,label\nu001,Rizal\nu002,\n"),
         "error", ("roster.csv", "row 3, column label", "empty")),
    Case("deploy-roster-empty-name", "deploy", deploy_roster("name,label\nu001,Rizal\n,Titin\n"),
         "error", ("roster.csv", "row 3, column name", "empty")),
    Case("deploy-roster-space-in-name", "deploy", deploy_roster("name,label\nu 001,Rizal\n"),
         "error", ("roster.csv", "row 2, column name", "'u 001'", "space")),
    Case("deploy-roster-wrong-header", "deploy", deploy_roster("id,nama\nu001,Rizal\n"),
         "error", ("roster.csv", "name,label", "id,nama")),
    Case("deploy-roster-empty-file", "deploy", deploy_roster(""), "error", ("roster.csv", "empty", "name,label")),
    Case("deploy-roster-header-only", "deploy", deploy_roster("name,label\n"), "error", ("roster.csv", "no people")),
    Case("deploy-roster-xlsx-as-csv", "deploy", deploy_roster(b"PK\x03\x04\x14\x00\x06\x00binary"),
         "error", ("roster.csv", "not a text file", "Excel")),
    Case("deploy-roster-semicolon-ok", "deploy", deploy_roster("name;label\nu001;Rizal\nu002;Titin\n"),
         "ok", (), lambda out: out["created"] is True and out["uploaded"] == b"name,label\nu001,Rizal\nu002,Titin\n"),
    Case("deploy-roster-utf8-as-is", "deploy", deploy_roster(ROSTER), "ok", (),
         lambda out: out["uploaded"] == ROSTER.encode("utf-8")),
    Case("scheduler-http-server", "scheduler", listener("http"),
         "error", ("tcp://127.0.0.1:", "not a Dask scheduler", "tcp://host:8786")),
    Case("scheduler-silent-listener", "scheduler", listener("silent"),
         "error", ("tcp://127.0.0.1:", "did not answer as a Dask scheduler within")),
    Case("scheduler-closed-socket", "scheduler", listener("closed"),
         "error", ("tcp://127.0.0.1:", "closed the connection", "not a Dask scheduler")),
    Case("kobo-approved-only-none-approved", "kobo", demo_study("validation: approved_only"),
         "error", ("study.yaml", "validation: approved_only", "no submission", "Approved", "exclude_not_approved")),
    Case("monitor-start-not-a-time", "monitor", demo_copy(edit=lambda s: s.__setitem__("start", "kemarin")),
         "ok", (), lambda flags: flags.query("check == 'bad_time'")["detail"].tolist() == ["start:kemarin"]),
    Case("cli-deploy-without-roster", "cli", demo_study(""), "error", ("--roster", "roster.csv", "name,label"),
         argv=("kobo", "deploy", "--study", "{folder}/study.yaml")),
    Case("cli-kobo-report-without-manifest", "cli", demo_copy(manifest=False, kind="kobo"),
         "error", ("data/raw/corpus/manifest.json", "missing", "make pull"),
         argv=("pull", "--study", "{folder}/study.yaml", "--local-only", "--if-missing", "--quiet")),
    Case("cli-kobo-monitor-offline-without-manifest", "cli", demo_copy(manifest=False, kind="kobo"),
         "error", ("data/raw/corpus/manifest.json", "missing", "without OFFLINE=1"),
         argv=("monitor", "--study", "{folder}/study.yaml", "--offline", "--quiet")),
    Case("cli-demo-copy-monitor-without-manifest", "cli", demo_copy(manifest=False),
         "error", ("data/raw/corpus/manifest.json", "missing", "delete"),
         argv=("monitor", "--study", "{folder}/study.yaml", "--offline", "--quiet")),
    # -- Google Forms (issue 25): the mistakes a team makes with a responses file -------------------
    Case("google-header-no-version-explains", "google",
         google_study(sheet_sub("How many years have you lived in this village?", "Years in the village")),
         "error", ("sheet.csv", "column E", "'Years in the village'", "no version of the form's contract",
                   "google_form.json")),
    Case("google-answer-not-a-label", "google", google_study(sheet_sub(",Male,", ",Laki-laki,")),
         "error", ("sheet.csv", "row 2", "column F", "'Laki-laki' is not one of the question's answers")),
    Case("google-nomination-no-roster-entry", "google",
         google_study(sheet_sub("Ibu Sari — warung, kue (u001), Nur (Ani) — katering (u003)",
                                "Ibu Sari — warung, kue (u001), Pak Harto")),
         "error", ("sheet.csv", "row 2", "column", "'Pak Harto' is not anyone on the roster")),
    Case("google-age-out-of-range", "google", google_study(sheet_sub("(local),,,42,", "(local),,,420,")),
         "error", ("wave pre, spreadsheet row 5", "profil/umur", "'420'", "outside the allowed range",
                   "linked Sheet", "download the responses again")),
    Case("google-timestamp-edited", "google", google_study(sheet_sub("8/31/2026 9:05:11", "kemarin")),
         "error", ("sheet.csv", "row 2", "column A", "'kemarin' is not a date and time")),
    Case("google-not-a-responses-file", "google", google_study(lambda t: "Nama,Umur\nSari,41\n"),
         "error", ("sheet.csv", "not the Timestamp", "Download responses")),
    Case("google-responses-file-missing", "google", both(google_study(), lambda f: (f / "sheet.csv").unlink()),
         "error", ("study.yaml", "waves[0].file = 'sheet.csv'", "file not found", "Download responses")),
    Case("google-contract-missing", "google", both(google_study(), lambda f: (f / "google_form.json").unlink()),
         "error", ("study.yaml", "waves[0].contract = 'google_form.json'", "file not found", "sinergi google script")),
    Case("google-contract-not-one", "google",
         both(google_study(), lambda f: (f / "google_form.json").write_text('{"a": 1}', encoding="utf-8")),
         "error", ("google_form.json", "not a sinergi Google Form contract")),
    Case("google-wave-without-contract", "study", google_study(contract=False),
         "error", ("study.yaml", "waves[0].contract", "needed for source kind 'google_forms'", "sinergi google script")),
    Case("google-approved-only", "study", both(google_study(), study_text(lambda t: t + "validation: approved_only\n")),
         "error", ("study.yaml", "approved_only", "google_forms", "no review status")),
    Case("google-timezone-wib", "study", google_study(source="timezone: WIB"),
         "error", ("study.yaml", "source.timezone = 'WIB'", "Asia/Jakarta")),
    Case("google-asset-uid-given", "study", google_study(wave=", asset_uid: aBc123"),
         "error", ("study.yaml", "waves[0].asset_uid", "not read for source kind 'google_forms'")),
    # -- ODK Central (issue 25) ---------------------------------------------------------------------
    Case("odk-wave-without-form-id", "study",
         lambda f: (f / "study.yaml").write_text(f"id: corpus\ntitle: t\ninstrument: {INSTRUMENT}\nsource: "
                                                 "{kind: odk, server: 'https://c.example.org', project_id: 3}\n"
                                                 "waves: [{id: pre}]\n", encoding="utf-8"),
         "error", ("study.yaml", "waves[0].form_id", "needed for source kind 'odk'")),
    Case("odk-project-id-zero", "study",
         lambda f: (f / "study.yaml").write_text(f"id: corpus\ntitle: t\ninstrument: {INSTRUMENT}\nsource: "
                                                 "{kind: odk, server: 'https://c.example.org', project_id: 0}\n"
                                                 "waves: [{id: pre, form_id: f}]\n", encoding="utf-8"),
         "error", ("study.yaml", "source.project_id = 0", "greater than or equal to 1")),
    Case("odk-wrong-password-401", "odk", odk_study(password="salah"),
         "error", ("wave pre", "401", "password")),
    Case("odk-no-role-403", "odk", odk_study(role=None), "error", ("wave pre", "403")),
    Case("odk-form-not-found-404", "odk", odk_study(form="sinergi_pra"), "error", ("wave pre", "form sinergi_pra", "not found", "form_id")),
    Case("odk-wrong-project-id", "odk", odk_study(project=7), "error", ("wave pre", "project 7")),
    Case("cli-disk-full", "diskfull", lambda folder: None,
         "error", ("data/processed/corpus/respondents.parquet", "no space left", "free")),
]


# -- running a case ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_tables(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("base")
    write_tables_study(folder, study_id="corpus")
    return {p.name: p.read_bytes() for p in (folder / "data").iterdir()}


def setup(folder: Path, base_tables: dict[str, bytes]) -> None:
    (folder / "data").mkdir()
    for name, data in base_tables.items():
        (folder / "data" / name).write_bytes(data)
    (folder / "study.yaml").write_text(STUDY, encoding="utf-8")
    (folder / "inst.yaml").write_bytes(INSTRUMENT.read_bytes())


def run(case: Case, folder: Path) -> Any:
    """Run the stage that reads the case's input; return its result."""
    if case.target == "study":
        study = load_study(folder / "study.yaml")
        if study.source.kind == "kobo_files":
            check_distinct_waves(study)
        return study
    if case.target == "instrument":
        return load_instrument(folder / "inst.yaml")
    if case.target == "check":
        study = load_study(folder / "study.yaml")
        return check_study(load_instrument(INSTRUMENT), study)
    if case.target == "roster":
        return read_roster(folder / "wave", "roster.csv")
    if case.target in RUNNERS:
        return RUNNERS[case.target](case, folder)
    study = load_study(folder / "study.yaml")
    pull(study, local_only=True, progress=False)
    return tidy_tables(study, study.raw_dir)


def _run_deploy(case: Case, folder: Path) -> Any:
    """`sinergi kobo deploy` against the fake KoboToolbox server: a refused roster sends nothing."""
    from pipeline.instrument import write_xlsform
    from pipeline.sources.kobo.client import KoboClient
    from pipeline.sources.kobo.deploy import deploy
    from tests.kobo_server import FakeKobo

    write_xlsform(load_instrument(INSTRUMENT), folder / "form.xlsx")
    token = "tok-corpus-0123456789abcdef"
    with FakeKobo(token) as fake, KoboClient(fake.url, token, timeout=5.0, connect_timeout=2.0) as client:
        try:
            out = deploy(client, folder / "form.xlsx", folder / "roster.csv", title="Corpus", poll=0)
            return {**out, "uploaded": fake.assets[out["uid"]].files[0]["data"]}
        except SinergiError:
            assert fake.requests == [], f"a refused roster sent requests: {fake.requests}"
            raise


def _run_scheduler(case: Case, folder: Path) -> Any:
    """The network stage's map over sites, with a scheduler address that another service answers:
    it must stop within the connect timeout (set to 2 s here)."""
    import time

    from pipeline import parallel

    with _listening((folder / "listener").read_text()) as port, pytest.MonkeyPatch.context() as mp:
        mp.setattr(parallel, "CONNECT_TIMEOUT", "2s")
        start = time.monotonic()
        try:
            return parallel.map_sites(abs, [1, -2], f"tcp://127.0.0.1:{port}")
        finally:
            assert time.monotonic() - start < 8, "waited well past the connect timeout"


@contextlib.contextmanager
def _listening(kind: str):
    """A local listener of ``kind`` (see :func:`listener`); yields its port."""
    import http.server
    import socket
    import threading

    if kind == "http":
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield server.server_address[1]
        finally:
            server.shutdown()
            server.server_close()
        return
    sock = socket.create_server(("127.0.0.1", 0))
    held: list = []

    def accept():
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            (conn.close() if kind == "closed" else held.append(conn))

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()
        for conn in held:
            conn.close()


def _run_kobo(case: Case, folder: Path) -> Any:
    """Tidy the shipped demo's raw submissions with the case's study file."""
    from pipeline.tidy import tidy_kobo

    return tidy_kobo(load_study(folder / "study.yaml"), load_instrument(INSTRUMENT), DEMO_RAW)


def _run_monitor(case: Case, folder: Path) -> Any:
    """The fieldwork monitor's flags on the case's copy of the demo's raw folder."""
    from pipeline import monitor as M
    from pipeline.pseudonym import pseudonymizer, read_key

    study, inst, raw = load_study(folder / "study.yaml"), load_instrument(INSTRUMENT), folder / "data/raw/corpus"
    out = M.run(study, inst, M.read_waves(study, inst, raw), pseudonymizer(read_key(raw)), as_of="", run_at="",
                names_path="names.html")
    return out["flags"]


def _run_cli(case: Case, folder: Path) -> Any:
    """A ``sinergi`` command as the command line parses it (an error is raised, not printed)."""
    from pipeline.cli import build_parser

    args = build_parser().parse_args([a.format(folder=folder) for a in case.argv])
    return args.func(args)


def _run_diskfull(case: Case, folder: Path) -> Any:
    """`sinergi tidy` on a disk that fills up while the first table is written: the write fails
    with ENOSPC, which carries no file name."""
    import errno
    import os

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    study = load_study(folder / "study.yaml")
    pull(study, local_only=True, progress=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pd.DataFrame, "to_parquet", full)
        mp.setattr(pq.ParquetWriter, "write_table", full)  # the partitioned tables (pipeline/partitions.py)
        return _run_cli(Case("", "cli", lambda f: None, "error", (), argv=("tidy", "--study", "{folder}/study.yaml")),
                        folder)


def _run_export(case: Case, folder: Path) -> Any:
    """The Gephi and RSiena files of the tables study's networks; returns the paths written,
    relative to the export folder."""
    from pipeline.analysis import network
    from pipeline.report.network_export import write_exports

    study = load_study(folder / "study.yaml")
    pull(study, local_only=True, progress=False)
    t = tidy_tables(study, study.raw_dir)
    nodes = network.run(t["respondents"], t["ties"], study.tie_types, study.wave_ids, permutations=99,
                        scheduler="serial")["network_nodes"]
    graphs = network.build_graphs(t["respondents"], t["ties"], study.tie_types)
    out = folder / "exports"
    return [p.relative_to(out) for p in write_exports(graphs, nodes, out, study.wave_ids, ties=t["ties"])]


def _run_docx(case: Case, folder: Path) -> Any:
    """The Word writer with the study's title; returns the document as python-docx reads it."""
    import docx

    from pipeline.report.docx import write_docx

    study = load_study(folder / "study.yaml")
    write_docx(folder / "report.docx", title=study.title, subtitle="", sections=[], lang=study.language)
    return docx.Document(str(folder / "report.docx"))


def _run_build(case: Case, folder: Path) -> Any:
    """`sinergi instruments` on the case's instrument file (the XLSForm checked by pyxform)."""
    return _run_cli(case, folder) if case.argv else _run_cli(
        Case("", "cli", lambda f: None, "error", (), argv=("instruments", "--source", "{folder}/inst.yaml",
                                                            "--out", "{folder}/build")), folder)


def _run_google(case: Case, folder: Path) -> Any:
    """``sinergi pull`` of the case's google_forms study (a responses file is read at pull time), then tidy."""
    study = load_study(folder / "study.yaml")
    pull(study, progress=False)
    return run_tidy(study, load_instrument(INSTRUMENT), study.raw_dir)


@functools.lru_cache(maxsize=1)
def _odk_xform() -> str:
    from pyxform.xls2xform import convert

    from pipeline.instrument import write_xlsform
    from pipeline.sources.odk import xlsform_settings

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.xlsx"
        write_xlsform(load_instrument(INSTRUMENT), path)
        path.write_bytes(xlsform_settings(path.read_bytes(), form_id="sinergi_pre", version="v1"))
        return convert(str(path), validate=False).xform


def _run_odk(case: Case, folder: Path) -> Any:
    """``sinergi pull`` of the case's odk study against the stand-in Central (one form in project 1)."""
    from tests.odk_server import FakeCentral

    given = json.loads((folder / "odk.json").read_text(encoding="utf-8"))
    roles = {(ODK_USER, 1): given["role"]} if given["role"] else {}
    old = {k: os.environ.get(k) for k in ("ODK_CENTRAL_USERNAME", "ODK_CENTRAL_PASSWORD")}
    with FakeCentral(users={ODK_USER: ODK_PASSWORD}, roles=roles) as fake:
        fake.add_form(1, _odk_xform(), {"roster.csv": (DEMO_RAW / "pre" / "media" / "roster.csv").read_bytes()})
        path = folder / "study.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("{server}", fake.url), encoding="utf-8")
        os.environ.update(ODK_CENTRAL_USERNAME=ODK_USER, ODK_CENTRAL_PASSWORD=given["password"])
        try:
            return pull(load_study(path), progress=False)
        finally:
            for k, v in old.items():
                os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


RUNNERS: dict[str, Callable[[Case, Path], Any]] = {
    "deploy": _run_deploy, "scheduler": _run_scheduler, "kobo": _run_kobo, "monitor": _run_monitor, "cli": _run_cli,
    "diskfull": _run_diskfull, "export": _run_export, "docx": _run_docx, "build": _run_build,
    "google": _run_google, "odk": _run_odk}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, in_tmp: Path, base_tables):
    setup(in_tmp, base_tables)
    case.mutate(in_tmp)
    take_notes()
    if case.outcome == "error":
        with pytest.raises(SinergiError) as info:
            run(case, in_tmp)
        message = str(info.value)
        assert "\n" not in message, message
        for word in case.words:
            assert word in message, f"{word!r} not in: {message}"
    else:
        result = run(case, in_tmp)
        notes = " | ".join(take_notes())
        for word in case.words:
            assert word in notes, f"{word!r} not in the notes: {notes or '(none)'}"
        if case.check is not None:
            assert case.check(result), "the run succeeded but its result is wrong"


def test_corpus_is_large_and_ids_unique():
    ids = [c.id for c in CASES]
    assert len(ids) >= 100 and len(set(ids)) == len(ids)
    assert {c.target for c in CASES} == {"study", "instrument", "tables", "roster", "check", *RUNNERS}


# -- through the command line -----------------------------------------------------------------

CLI = ["study-show-names-quoted-false", "study-id-twice", "study-latin1", "study-not-any-encoding",
       "study-instrument-is-a-folder", "inst-choices-as-list", "inst-tie-without-tie-type", "inst-bad-yaml-one-line",
       "tables-semicolon-decimal-comma", "tables-weight-1e9", "tables-empty-file", "tables-group-variable-typo",
       "tables-trailing-space-in-id", "study-scheduler-dashboard-url", "inst-pyxform-refuses-reference",
       "tables-tie-type-in-no-wave", "cli-deploy-without-roster", "cli-kobo-report-without-manifest",
       "cli-demo-copy-monitor-without-manifest"]


def _command(case: Case, folder: Path) -> list[str]:
    if case.target == "cli":
        return [a.format(folder=folder) for a in case.argv]
    if case.target in ("instrument", "build"):
        return ["instruments", "--source", str(folder / "inst.yaml"), "--out", str(folder / "build")]
    if case.target == "study":
        return ["pull", "--study", str(folder / "study.yaml"), "--quiet"]
    return ["tidy", "--study", str(folder / "study.yaml")]


@pytest.mark.parametrize("case_id", CLI)
def test_cli_one_line(case_id: str, in_tmp: Path, base_tables, sinergi):
    case = next(c for c in CASES if c.id == case_id)
    setup(in_tmp, base_tables)
    case.mutate(in_tmp)
    if case.target == "tables":
        code, _, err = sinergi("pull", "--study", in_tmp / "study.yaml", "--quiet")
        assert code == 0, err
    code, out, err = sinergi(*_command(case, in_tmp))
    assert "Traceback" not in err
    if case.outcome == "error":
        assert code == 2
        assert err.startswith("sinergi: error: ") and err.count("\n") == 1, err
        assert all(word in err for word in case.words), err
    else:
        assert code == 0, err
        notes = [line for line in err.splitlines() if line.startswith("sinergi: note: ")]
        assert all(any(word in n for n in notes) for word in case.words), err


def test_cli_study_is_a_folder(in_tmp, sinergi):
    code, _, err = sinergi("tidy", "--study", in_tmp)
    assert code == 2 and "is a folder" in err and err.count("\n") == 1


def test_cli_notes_are_not_printed_after_an_error(in_tmp, base_tables, sinergi):
    setup(in_tmp, base_tables)
    both(df_edit("respondents.csv", cell(0, "respondent_id", "person00 ")),
         df_edit("ties.csv", cell(2, "weight", "9")))(in_tmp)
    assert sinergi("pull", "--study", in_tmp / "study.yaml", "--quiet")[0] == 0
    code, _, err = sinergi("tidy", "--study", in_tmp / "study.yaml")
    assert code == 2 and err.count("\n") == 1 and "sinergi: note" not in err


# -- the id as Make reads it ------------------------------------------------------------------


@pytest.mark.parametrize("text, code, expected", [
    (b"id: corpus\n", 0, "corpus"),
    (b"id: corpus   # the folder name\r\n", 0, "corpus"),
    (b"\xef\xbb\xbfid: \"corpus\"\n", 0, "corpus"),
    ("title: Désa\nid: corpus\n".encode("cp1252"), 0, "corpus"),
    (b"id: corpus\ntitle: x\nid: other\n", 2, "'id:' is written twice (lines 1 and 3)"),
    (b"title: x\n", 2, "no top-level 'id:' line"),
    (b"id: My Study\n", 2, "line 1: id = 'My Study'"),
])
def test_make_reads_the_id_with_the_standard_library(tmp_path, text, code, expected):
    import subprocess
    import sys

    path = tmp_path / "s.yaml"
    path.write_bytes(text)
    # -S: no site-packages, as with a bare `python3` before the venv exists
    result = subprocess.run([sys.executable, "-S", "-m", "pipeline.io", "study-id", str(path)], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == code
    if code == 0:
        assert result.stdout == expected + "\n"
    else:
        assert result.stderr.startswith("sinergi: error: ") and expected in result.stderr
        assert result.stderr.count("\n") == 1


def test_cli_disk_full_is_one_line(in_tmp, base_tables, sinergi, monkeypatch):
    """ENOSPC from a write (which names no file) is one line naming the file being written."""
    import errno
    import os

    setup(in_tmp, base_tables)
    assert sinergi("pull", "--study", in_tmp / "study.yaml", "--quiet")[0] == 0

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)  # the partitioned tables (pipeline/partitions.py)
    code, _, err = sinergi("tidy", "--study", in_tmp / "study.yaml")
    assert code == 2 and err.startswith("sinergi: error: ") and err.count("\n") == 1, err
    assert "data/processed/corpus/respondents.parquet" in err and "no space left" in err
    assert not list((in_tmp / "data" / "processed" / "corpus").glob("*.parquet"))
