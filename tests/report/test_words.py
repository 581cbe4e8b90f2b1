"""The report's words (pipeline.report.words): messages in the study's wording, numbers, names."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import load_study
from pipeline.report.labels import Labels
from pipeline.report.words import Words

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def study():
    return load_study(str(ROOT / "study.yaml"))


def test_the_studys_wording(study):
    demo = Words(study, "en", Labels(None, "en"), instrument_words=True, origin_groups=True)
    other = Words(study, "en", Labels(None, "en"), instrument_words=False)
    assert demo.study_message("net_intro") == "net_intro" and other.study_message("net_intro") == "net_intro_gen"
    assert other.study_message("t_whole") == "t_whole"  # no _gen wording: the message itself
    assert other.study_text("sec_trust") == other.text("sec_trust_gen") != demo.study_text("sec_trust")


def test_names_of_waves_groups_and_codes(study):
    words = Words(study, "id", Labels(None, "id"), origin_groups=True)
    assert words.wave("pre") == "Sebelum program" and words.wave("later") == "later"
    assert words.wave_span("pre", "post") == "Sebelum program → Sesudah program"
    assert words.group("all") == words.text("all") and words.group("lokal") == "Lokal"
    assert words.group_in_sentence("lokal") == "lokal"
    assert Words(study, "id", Labels(None, "id")).group_in_sentence("lokal") == "Lokal"
    assert words.code_label("role", "liaison") == words.text("role_liaison")
    assert words.code_label("role", "no_such_role") == "no_such_role"
    assert words.join(["a", "", "b", "c"]) == f"a, b {words.text('and')} c"


def test_numbers_in_the_report_language(study):
    en, id_ = (Words(study, lang, Labels(None, lang)) for lang in ("en", "id"))
    assert en.number(-1234.5, 1) == "−1,234.5" and id_.number(-1234.5, 1) == "−1.234,5"
    assert id_.integer(3707) == "3.707" and en.share(0.254) == "25.4%"
    assert en.p_value(0.0004) == "< 0.001" and en.p_equals(0.0231) == "= 0.023"
    assert en.number(0.5, sign=True) == "+0.50"
    assert [en.yes_no(v) for v in ("True", 1.0, "false", None)] == [en.text("yes"), en.text("yes"), en.text("no"), ""]
