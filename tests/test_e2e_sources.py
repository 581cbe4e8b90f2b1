"""End to end: one village delivered by KoboToolbox, Google Forms and ODK Central gives one report (issue 25).

In a copy of the repository, `make report STUDY=…` runs for three studies of the same answers: the
demo's KoboToolbox pull, those answers downloaded from Google Forms (an English account's CSV) and
pulled from ODK Central (the stand-in of tests/odk_server.py). The three report.html files are equal
apart from:

- the source line (the header's *Source* and the colophon, which also carries each pull's time and
  checksums: the colophon is left out of the comparison);
- the sentence saying which submissions count (KoboToolbox's validation status, ODK Central's review
  state, none in Google Forms);
- the data-quality table: the demo's phone that sent one form twice is a duplicate upload in
  KoboToolbox, two responses of one person in Google Forms, and one submission in Central (which
  refuses a second upload); each keeps the later answers, so every other table is the same
  (tests/sources/test_source_wiring.py compares the quality rows themselves).

Figures are compared byte for byte (they are embedded in report.html). Each study gets the demo's
pseudonym key, as a team keeps its study's key: with a key of its own, the same people get other
pseudonyms, the graphs' vertices (sorted by pseudonym) another order, and Leiden's communities and
the layout can differ — the first runs of this test gave the Google study its own key, which with the
row order of the canonical tables (fixed: pipeline/order.py, tests/test_row_order.py) made the
network table and the figures differ.

Each report names the study's own platform in the data-quality table and the counting sentence:
an ODK Central or Google Forms study's report never says KoboToolbox.

The Indonesian-account CSV and the Sheet's XLSX give canonical tables identical to the English CSV's
(tests/sources/test_source_wiring.py), and the report is made from those tables.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path

import pytest

from pipeline.instrument import load_instrument
from pipeline.report import text as rt
from tests.makecopy import copy_repo, make
from tests.sources.test_source_wiring import DEMO, google_files, pull_from_central

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
HEAD = ("language: en\ntitle: Desa Kaloran\nsite: Kaloran Brimob\ninstrument: instruments/sinergi.yaml\n"
        "analysis: {seed: 7, permutations: 199}\n")


def _waves(waves: list[dict]) -> str:
    labels = {"pre": "Before", "post": "After"}
    rows = [", ".join([f"id: {w['id']}", f"label: {labels[w['id']]}"] + [f"{k}: '{v}'" for k, v in w.items()
                                                                            if k != "id"]) for w in waves]
    return "waves:\n" + "".join(f"  - {{{r}}}\n" for r in rows)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    inst = load_instrument(ROOT / "instruments" / "sinergi.yaml")
    shutil.copytree(DEMO, repo / "data" / "raw" / "via-kobo")
    (repo / "kobo.yaml").write_text("id: via-kobo\n" + HEAD + "source: {kind: kobo}\n" +
                                    _waves([{"id": "pre"}, {"id": "post"}]), encoding="utf-8")
    google = google_files(repo / "from-google", inst, "en", "csv")
    (repo / "data" / "raw" / "via-google").mkdir(parents=True)
    shutil.copy(DEMO / "pseudonym.key", repo / "data" / "raw" / "via-google" / "pseudonym.key")  # the same people
    (repo / "google.yaml").write_text("id: via-google\n" + HEAD + "source: {kind: google_forms, timezone: Asia/Jakarta}\n"
                                      + _waves(google), encoding="utf-8")
    mp = pytest.MonkeyPatch()
    try:
        with contextlib.chdir(repo):
            s = pull_from_central("via-odk", repo, inst, mp)
    finally:
        mp.undo()
    (repo / "odk.yaml").write_text("id: via-odk\n" + HEAD + "source: {kind: odk, server: 'https://central.example.org', "
                                   "project_id: 1}\n" + _waves([{"id": w.id, "form_id": w.form_id} for w in s.waves]),
                                   encoding="utf-8")
    out = {}
    for name in ("kobo", "google", "odk"):
        result = make(repo, "report", f"STUDY={name}.yaml")
        assert result.returncode == 0, name + ": " + result.stdout[-3000:] + result.stderr[-3000:]
        out[name] = (repo / "reports" / f"via-{name}" / "report.html").read_text(encoding="utf-8")
    return out


def _body(page: str) -> str:
    """The report without the source line, the colophon, the counting sentence and the quality table."""
    page = re.sub(r"<section[^>]*data-section=\"colophon\".*?</section>", "", page, flags=re.S)
    page = re.sub(r'<figure[^>]*id="table-quality".*?</figure>', "", page, flags=re.S)
    page = re.sub(r"(<dt>[^<]*</dt>\s*<dd>)(kobo|google_forms|odk)(</dd>)", r"\1SOURCE\3", page)
    # the sentence saying which submissions count (its first words as the catalogue has them)
    starts = [rt.STRINGS["en"][k].split(":")[0] for k in ("validation_exclude_not_approved",
                                                          "validation_odk_exclude_not_approved")]
    starts.append(rt.STRINGS["en"]["validation_google_forms"][:33])
    return re.sub(r"<p[^>]*>\s*(%s).*?</p>" % "|".join(map(re.escape, starts)), "<p>COUNTED</p>", page, flags=re.S)


def test_one_village_gives_one_report_whatever_the_platform(reports):
    kobo = _body(reports["kobo"])
    assert "SOURCE" in kobo and "COUNTED" in kobo and 'id="table-sample"' in kobo
    for name in ("google", "odk"):
        got = _body(reports[name])
        if got != kobo:
            a, b = kobo.splitlines(), got.splitlines()
            diff = [(i, x, y) for i, (x, y) in enumerate(zip(a, b)) if x != y][:3]
            pytest.fail(f"{name}: the report differs from the KoboToolbox pull's at {diff} ({len(a)} vs {len(b)} lines)")


def test_each_report_names_its_own_platform(reports):
    assert "KoboToolbox" in reports["kobo"]
    assert "KoboToolbox" not in reports["odk"] and "ODK Central" in reports["odk"]
    assert "KoboToolbox" not in reports["google"] and "Google Forms" in reports["google"]
