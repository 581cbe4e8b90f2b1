"""Write the website-export fixtures of ``tests/data/kobo_exports/`` with formpack.

formpack is the library the KoboToolbox website uses to make its XLSX and CSV exports. It is a
test tool here, never a dependency of the project: this script runs only where formpack is
installed, e.g.::

    python3 -m venv /tmp/fpvenv
    /tmp/fpvenv/bin/pip install <formpack checkout> python-dateutil   # formpack does not declare it
    /tmp/fpvenv/bin/python tests/formpack_exports.py

The tests read the committed files and never need formpack.

What it does, as kpi does it (``kpi/models/import_export_task.py``, ``_build_export_options`` and
``_run_task``; ``kobo/apps/reports/report_data.py``, ``build_formpack``):

- the sources are the demo study's pulled submissions (``data/raw/demo-kaloran/<wave>/data``),
  a subset of 24 per wave (every special case kept: refusals, double submissions, the duplicate
  upload, the older form version), written to ``<wave>-submissions.json`` as the API gives them;
- wave ``pre`` gets a second, older form version in which ``profil/umur`` was called
  ``profil/usia`` and a question ``profil/no_hp`` existed (so "all versions" adds two columns);
- wave ``post`` gets number-like roster ids (``u010`` → ``010``), so a typed XLSX turns them
  into numbers; each wave's roster is written to ``<wave>-roster.csv``;
- ``FormPack(versions, title=asset name).export(lang, group_sep, hierarchy_in_labels,
  versions, multiple_select, copy_fields=kpi's COPY_FIELDS, force_index, tag_cols_for_header=['hxl'],
  filter_fields, xls_types_as_text)`` and ``to_xlsx`` / ``to_csv`` (lines joined by ``\\r\\n``,
  UTF-8, as kpi writes them).

``layouts()`` lists every file and its options; they are also written to ``layouts.json``, which
the tests read.
"""

from __future__ import annotations

import copy
import glob
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw" / "demo-kaloran"
OUT = Path(__file__).resolve().parent / "data" / "kobo_exports"
N_PER_WAVE = 24
LANGS = {"xml": False, "id": "Bahasa Indonesia (id)", "en": "English (en)"}
SEPS = {"slash": "/", "dot": ".", "dash": "-"}
OLD_VERSION = "vTMtdEtnaHW8fsGFCWtyXJ"  # the pre wave's first deployed version (6 submissions)


def layouts() -> list[dict]:
    """Every fixture: wave, type, lang, hier, sep, ms, versions, typed, hxl, fields, edit."""
    out = []
    # wave pre: every combination of type × lang × headers × select-multiple (all versions), and
    # each type × lang × headers also with the latest version only; the group separator cycles so
    # that each type × lang × headers meets all three
    for kind in ("xlsx", "csv"):
        for li, lang in enumerate(LANGS):
            for hier in (True, False):
                for mi, ms in enumerate(("summary", "details", "both")):
                    sep = list(SEPS)[(li + mi) % 3]
                    for versions in ("all", "latest") if ms == "both" else ("all",):
                        out.append(dict(wave="pre", kind=kind, lang=lang, hier=hier, sep=sep, ms=ms,
                                        versions=versions))
    # wave post: typed XLSX (numbers and dates as such), HXL tag rows, the custom selections
    post = dict(wave="post", hier=True, sep="slash", ms="both", versions="all")
    out += [
        {**post, "kind": "xlsx", "lang": "xml", "typed": True},
        {**post, "kind": "xlsx", "lang": "id", "typed": True, "hier": False, "ms": "summary"},
        {**post, "kind": "xlsx", "lang": "en", "typed": True, "sep": "dash", "ms": "details"},
        {**post, "kind": "xlsx", "lang": "en"},
        {**post, "kind": "csv", "lang": "xml", "ms": "summary"},
        {**post, "kind": "xlsx", "lang": "id", "hxl": True},
        {**post, "kind": "csv", "lang": "en", "hxl": True},
        {**post, "kind": "xlsx", "lang": "xml", "fields": "no-extras"},
        {**post, "kind": "xlsx", "lang": "en", "fields": "no-likert"},
        {**post, "kind": "csv", "lang": "xml", "edit": "likert-deleted"},
        {**post, "kind": "csv", "lang": "xml", "edit": "no-rows"},
        {**post, "kind": "xlsx", "lang": "xml", "edit": "no-rows"},
    ]
    for lay in out:
        lay.setdefault("typed", False)
        lay.setdefault("hxl", False)
        lay.setdefault("fields", None)
        lay.setdefault("edit", None)
        lay["file"] = file_name(lay)
    return out


def file_name(lay: dict) -> str:
    parts = [lay["wave"], lay["lang"], "groups" if lay["hier"] else "nogroups", lay["sep"], lay["ms"],
             lay["versions"]]
    parts += [x for x, on in (("typed", lay["typed"]), ("hxl", lay["hxl"])) if on]
    parts += [x for x in (lay["fields"], lay["edit"]) if x]
    return "-".join(parts) + "." + lay["kind"]


# --------------------------------------------------------------------------------------------
# sources


def _pages(wave: str) -> list[dict]:
    return [s for p in sorted(glob.glob(str(RAW / wave / "data" / "page-*.json")))
            for s in json.loads(Path(p).read_text(encoding="utf-8"))["results"]]


def pick(subs: list[dict], n: int = N_PER_WAVE) -> list[dict]:
    """The special submissions (refusals, doubles, duplicates, older version) and the first others."""
    from collections import Counter

    resp = Counter(s.get("identitas/responden") for s in subs)
    iids = Counter(s.get("meta/instanceID") for s in subs)
    versions = Counter(s.get("__version__") for s in subs)
    main = versions.most_common(1)[0][0]
    special = [s for s in subs if s.get("persetujuan/setuju") != "ya" or resp[s.get("identitas/responden")] > 1
               or iids[s.get("meta/instanceID")] > 1 or s.get("__version__") != main]
    rest = [s for s in subs if s not in special]
    chosen = special + rest[: max(0, n - len(special))]
    return sorted(chosen, key=lambda s: s["_id"])


def old_version(content: dict) -> dict:
    """The pre wave's first version: ``umur`` was ``usia``, and ``no_hp`` was asked."""
    old = copy.deepcopy(content)
    survey = []
    for row in old["survey"]:
        if row.get("name") == "umur":
            row.update(name="usia", **{"$autoname": "usia", "$xpath": "profil/usia", "$kuid": "0ldus1a00"})
        survey.append(row)
        if row.get("name") == "jenis_kelamin":
            survey.append({"name": "no_hp", "type": "text", "label": ["Nomor HP", "Phone number"],
                           "$kuid": "0ldn0hp00", "$autoname": "no_hp", "$xpath": "profil/no_hp"})
    old["survey"] = survey
    return old


def to_old(sub: dict) -> dict:
    out = {}
    for k, v in sub.items():
        if k == "profil/umur":
            out["profil/usia"] = v
            out["profil/no_hp"] = "0812" + str(sub["_id"])[-7:]
        else:
            out[k] = v
    return out


def numeric_ids(value):
    """Roster ids ``u010`` → ``010`` in every answer that holds them."""
    if isinstance(value, list):
        return [{k: numeric_ids(v) for k, v in e.items()} for e in value]
    if isinstance(value, str) and value.startswith("u") and all(t[:1] == "u" and t[1:].isdigit()
                                                                for t in value.split()):
        return " ".join(t[1:] for t in value.split())
    return value


def sources() -> dict[str, dict]:
    """{wave: {"subs", "versions": [(uid, content)] oldest first, "title", "roster"}}."""
    out = {}
    for wave in ("pre", "post"):
        asset = json.loads((RAW / wave / "asset.json").read_text(encoding="utf-8"))
        subs = pick(_pages(wave))
        content = asset["content"]
        versions = [(asset["deployed_version_id"], content)]
        roster = (RAW / wave / "media" / "roster.csv").read_text(encoding="utf-8")
        if wave == "pre":
            versions.insert(0, (OLD_VERSION, old_version(content)))
            subs = [to_old(s) if s["__version__"] == OLD_VERSION else s for s in subs]
        else:
            subs = [{k: (numeric_ids(v) if k.startswith(("identitas/", "jaringan/")) else v)
                     for k, v in s.items()} for s in subs]
            lines = roster.splitlines()
            roster = "\n".join([lines[0]] + [ln[1:] if ln.startswith("u") else ln for ln in lines[1:]]) + "\n"
        out[wave] = {"subs": subs, "versions": versions, "title": asset["name"], "roster": roster}
    return out


# --------------------------------------------------------------------------------------------
# exporting


def with_hxl(content: dict) -> dict:
    tagged = copy.deepcopy(content)
    tags = {"responden": "#respondent", "asal": "#group", "umur": "#age", "omzet": "#revenue"}
    for row in tagged["survey"]:
        if row.get("name") in tags:
            row["tags"] = ["hxl:" + tags[row["name"]]]
    return tagged


def export(src: dict, lay: dict):
    from formpack import FormPack
    from formpack.schema.fields import (IdCopyField, NotesCopyField, SubmissionTimeCopyField,
                                        TagsCopyField, ValidationStatusCopyField)

    copy_fields = (IdCopyField, "_uuid", SubmissionTimeCopyField, ValidationStatusCopyField, NotesCopyField,
                   "_status", "_submitted_by", "__version__", TagsCopyField, "meta/rootUuid")
    versions = src["versions"] if lay["versions"] == "all" else src["versions"][-1:]
    schemas = [{"version": uid, "content": with_hxl(c) if lay["hxl"] else c, "version_id_key": "__version__"}
               for uid, c in versions]
    pack = FormPack(schemas, title=src["title"])
    subs = copy.deepcopy(src["subs"])
    if lay["versions"] == "latest":  # kpi: every submission is read with the latest version
        for s in subs:
            s["__version__"] = versions[-1][0]
    fields = _fields(src, lay["fields"])
    exp = pack.export(lang=LANGS[lay["lang"]], group_sep=SEPS[lay["sep"]], hierarchy_in_labels=lay["hier"],
                      versions=pack.versions.keys(), multiple_select=lay["ms"], copy_fields=copy_fields,
                      force_index=not fields or "_index" in fields, tag_cols_for_header=["hxl"],
                      filter_fields=fields, xls_types_as_text=not lay["typed"])
    if lay["edit"] == "no-rows":
        subs = []
    return exp, subs


def _fields(src: dict, which: str | None) -> list[str]:
    """A custom question selection, as kpi passes it (groups and ``_uuid``, ``meta/rootUuid`` added)."""
    if which is None:
        return []
    content = src["versions"][-1][1]
    paths = [r["$xpath"] for r in content["survey"]
             if "$xpath" in r and r["type"] not in ("begin_group", "begin_repeat")]
    if which == "no-extras":  # what the analysis does not need: notes, calculations, timestamps
        drop = {r["$xpath"] for r in content["survey"]
                if r.get("type") in ("note", "calculate", "start", "end", "today")}
        drop -= {"jaringan/info_rinci/info_alter", "jaringan/bantuan_rinci/bantuan_alter",
                 "jaringan/kolaborasi_rinci/kolaborasi_alter"}
    else:  # no-likert: two trust/norm items left out
        drop = {"kepercayaan/tr_gen2", "norma/nr_kon3"}
    fields = [p for p in paths if p not in drop] + ["_id", "_submission_time", "_validation_status", "_status",
                                                    "_submitted_by", "__version__", "_tags", "_notes"]
    groups = {p.rsplit("/", 1)[0] for p in fields if "/" in p and not p.startswith("_")}
    return fields + sorted(groups) + ["_attachments", "_supplementalDetails", "_uuid", "meta/rootUuid"]


def write(path: Path, exp, subs: list[dict], lay: dict) -> None:
    if lay["kind"] == "xlsx":
        exp.to_xlsx(str(path), subs)
        return
    lines = list(exp.to_csv(subs))
    if lay["edit"] == "likert-deleted":  # a column deleted by hand in a spreadsheet program
        lines = _without_column(lines, "kepercayaan/tr_out2")
    path.write_bytes("".join(line + "\r\n" for line in lines).encode("utf-8"))


def _without_column(lines: list[str], name: str) -> list[str]:
    """formpack's CSV lines (every cell quoted, ``;`` between) without the column ``name``."""
    rows = [line[1:-1].split('";"') for line in lines]
    i = rows[0].index(name)
    return ['"' + '";"'.join(r[:i] + r[i + 1:]) + '"' for r in rows]


#: the formpack commit the committed fixtures were made with (kobotoolbox/formpack HEAD, 2026-06-17)
FORMPACK_COMMIT = "176f619aba8f9f1cf095147069a506711979687b"


def main(out: Path = OUT) -> None:
    srcs = sources()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("pre-*"):
        old.unlink()
    for old in out.glob("post-*"):
        old.unlink()
    for wave, src in srcs.items():
        (out / f"{wave}-submissions.json").write_text(
            json.dumps(src["subs"], indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        (out / f"{wave}-roster.csv").write_text(src["roster"], encoding="utf-8")
    lays = layouts()
    for lay in lays:
        exp, subs = export(srcs[lay["wave"]], lay)
        write(out / lay["file"], exp, subs, lay)
    (out / "layouts.json").write_text(json.dumps(lays, indent=1) + "\n", encoding="utf-8")
    print(f"{len(lays)} exports written to {out} (formpack {FORMPACK_COMMIT} expected)", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
