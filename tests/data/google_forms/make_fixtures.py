"""Writes the Google Forms fixtures of this folder, once, as Google writes them (see README.md).

Run from the repository root: `.venv/bin/python tests/data/google_forms/make_fixtures.py`. The
files are committed; tests/sources/test_google_forms.py reads them and checks that
google_form_en.json / google_form_id.json still equal what the generator writes for roster.csv.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd

from pipeline.instrument import load_instrument
from pipeline.sources.google_form_script import google_form_contract, google_form_script

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def columns(inst, lang, roster):
    """The responses file's headers in the form's order (grids: one column per row)."""
    script = google_form_script(inst, lang, roster)
    spec = json.loads(script[script.index("var SPEC = ") + 11:script.index(";\n\nvar PROP_ID")])
    out = []
    for it in spec["items"]:
        if it["type"] == "grid":
            out += [f"{it['title']} [{row}]" for row in it["rows"]]
        elif it["type"] not in ("section", "header"):
            out.append(it["title"])
    return out


# answers by (language → title) of each response; a title listed twice in the form (both trust
# copies) is filled in the copy the respondent saw: the first copy for locals, the second for migrants
RESPONSES = {
    "en": [
        ("8/31/2026 9:05:11", "lokal", {
            "Do you agree to take part in this survey?": "Yes",
            "Pick your name from the list of the village's UMKM owners.": "Pak Budi — bengkel (u002)",
            "Are you a native of this village or a migrant (pendatang)?": "Native of the village (local)",
            "How many years have you lived in this village?": "34", "Sex": "Male", "Age (years)": "41",
            "Main business sector": "Services (repair, salon, laundry, etc.)",
            "How many years has your business been running?": "12",
            "How many people work in your business besides yourself?": "2",
            "Which organisations are you a member of?": "Village UMKM communication forum, Cooperative",
            "Generally speaking, most people in this village can be trusted.": "Agree",
            "I trust UMKM owners who, like me, are locals (natives of the village).": "Strongly agree",
            "I am willing to lend money or goods to UMKM owners who are locals (natives of the village).": "Agree",
            "I trust UMKM owners who are migrants (pendatang).": "Disagree",
            "With whom did you exchange business information (prices, suppliers, customers, promotion)?":
                "Ibu Sari — warung, kue (u001), Nur (Ani) — katering (u003)",
            "Business information: how often [Ibu Sari — warung, kue (u001)]": "Weekly",
            "Business information: how often [Nur (Ani) — katering (u003)]": "Monthly",
            "Whom did you ask for help or a loan (money, goods, tools, labour) for your business?":
                "Ibu Sari — warung, kue (u001)",
            "If someone helps my business, I return the favour.": "Strongly agree",
            "Through which digital channels do you sell?":
                "WhatsApp / WhatsApp groups, Social media (Facebook, Instagram, TikTok)",
            "What was your business's revenue (gross income) in the last month? (Rp)": "4500000",
            "In the last 6 months, how many meetings of the village UMKM communication forum did you attend?": "3",
            "In the last 6 months, which trainings did you attend?": "Attended no training",
            "In the last 3 months, did you buy inputs together with other UMKM owners?": "No",
        }),
        ("8/31/2026 10:40:02", None, {"Do you agree to take part in this survey?": "No"}),
        ("9/1/2026 16:12:45", "pendatang", {
            "Do you agree to take part in this survey?": "Yes",
            "Pick your name from the list of the village's UMKM owners.": "Nur (Ani) — katering (u003)",
            "Are you a native of this village or a migrant (pendatang)?": "Migrant (pendatang)",
            "Generally speaking, most people in this village can be trusted.": "Neither agree nor disagree",
            # a migrant's "own group" item and a local's "other group" item share this title
            "I am willing to lend money or goods to UMKM owners who are locals (natives of the village).": "Disagree",
            "I am willing to lend money or goods to UMKM owners who are migrants (pendatang).": "Strongly agree",
            "With whom did you collaborate in business (buying inputs together, selling together, or producing together)?":
                "Pak Budi — bengkel (u002)",
            "Collaboration: how often [Pak Budi — bengkel (u002)]": "Almost daily",
            "Collaboration: how often [Ibu Sari — warung, kue (u001)]": "Rarely (less than once a month)",
        }),
        ("9/2/2026 8:01:30", "lokal", {
            "Do you agree to take part in this survey?": "Yes",
            "Pick your name from the list of the village's UMKM owners.": "Pak Budi — bengkel (u002)",
            "Are you a native of this village or a migrant (pendatang)?": "Native of the village (local)",
            "Age (years)": "42",
        }),
    ],
}


def translate(inst, rows):
    """The English responses as an Indonesian account shows them: the same choices, Indonesian labels."""
    out = []
    en, idl = google_form_contract(inst, "en", ROSTER), google_form_contract(inst, "id", ROSTER)
    by_xpath_id = {}
    for title, entry in idl["columns"].items():
        for case, x in ((entry.get("cases") or {}).get("xpaths") or {None: entry["xpath"]}).items():
            by_xpath_id[(x, case)] = title
    for stamp, origin, answers in rows:
        new = {}
        for title, value in answers.items():
            base, _, row = title.partition(" [")
            entry = en["columns"][base if row else title]
            cases = entry.get("cases")
            xpath = cases["xpaths"][origin] if cases else entry["xpath"]
            id_title = by_xpath_id.get((xpath, origin if cases else None)) or next(
                t for (x, _c), t in by_xpath_id.items() if x == xpath)
            if entry["kind"] in ("select_one", "grid"):
                names = {v: k for k, v in idl["columns"][id_title]["choices"].items()}
                value = names[entry["choices"][value]]
            elif entry["kind"] == "select_multiple":
                names = {v: k for k, v in idl["columns"][id_title]["choices"].items()}
                value = ", ".join(names[n] for lab, n in entry["choices"].items() if lab in value)
            new[id_title + (f" [{row}" if row else "")] = value
        out.append((stamp, origin, new))
    return out


def table(inst, lang, rows, *, first, email=False):
    cols = columns(inst, lang, ROSTER)
    header = [first] + (["Email Address"] if email else []) + cols
    body = []
    for k, (stamp, origin, answers) in enumerate(rows):
        line = [stamp] + ([f"responden{k}@gmail.com"] if email else []) + [""] * len(cols)
        seen = set()
        for title, value in answers.items():
            spots = [i for i, c in enumerate(cols) if c == title]
            # a title in both trust copies: the local's copy comes first, the migrant's second
            spot = spots[-1] if (len(spots) > 1 and origin == "pendatang") else spots[0]
            line[spot + 1 + email] = value
            seen.add(title)
        body.append(line)
    return header, body


def write_csv(path, header, body, quote_all):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    w.writerow(header)
    w.writerows(body)
    path.write_bytes(buf.getvalue().encode("utf-8"))


ROSTER = pd.read_csv(HERE / "roster.csv", dtype=str)

if __name__ == "__main__":
    inst = load_instrument(ROOT / "instruments" / "sinergi.yaml")
    for lang in ("en", "id"):
        (HERE / f"google_form_{lang}.json").write_text(
            json.dumps(google_form_contract(inst, lang, ROSTER), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    en = RESPONSES["en"]
    # the linked Sheet downloaded as CSV, English account: M/d/yyyy H:mm:ss, quoted only where needed
    write_csv(HERE / "sheet_en.csv", *table(inst, "en", en, first="Timestamp"), quote_all=False)
    # the same answers, Indonesian account: Stempel waktu, d/M/yyyy H:mm:ss, Indonesian labels
    idrows = []
    for stamp, origin, answers in translate(inst, en):
        m, d, rest = stamp.split("/", 2)
        idrows.append((f"{d}/{m}/{rest}", origin, answers))
    write_csv(HERE / "sheet_id.csv", *table(inst, "id", idrows, first="Stempel waktu"), quote_all=False)
    # Responses → Download responses (.csv): every cell quoted, yyyy/MM/dd h:mm:ss AM GMT+7, e-mail collected
    dl = []
    for stamp, origin, answers in en:
        mo, d, rest = stamp.split("/", 2)
        y, hms = rest.split(" ")
        h, mi, s = (int(x) for x in hms.split(":"))
        dl.append((f"{y}/{int(mo):02d}/{int(d):02d} {h % 12 or 12}:{mi:02d}:{s:02d} {'PM' if h >= 12 else 'AM'} GMT+7",
                   origin, answers))
    write_csv(HERE / "download_en.csv", *table(inst, "en", dl, first="Timestamp", email=True), quote_all=True)
