"""Every public fixture's report (tests/data/public/*), written in both languages as a user gets it
(report.html, report.docx, tables/tables.xlsx, exports/network/README.md): no analyst instructions,
no study keys, no English variable names in Indonesian sentences, every citation in the reference
list and every entry cited, every network table's measures defined under it, methods that describe
only what ran (the checks are in tests/hygiene.py; the demo is checked in tests/report/test_report.py).
"""

from __future__ import annotations

import contextlib
import html
import re
import shutil
from pathlib import Path

import pytest

from tests.hygiene import MAKE, STUDY_KEYS, _html_parts, check_folder, english_variable_names

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = ROOT / "tests" / "data" / "public"
STUDIES = sorted(p.parent.name for p in PUBLIC.glob("*/study.yaml"))
STAGES = ("tidy", "scales", "network", "prepost", "invariance", "coverage")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[tuple[str, str], tuple[Path, object]]:
    """(study, language) → (the report folder, the study), every output written by ``build``."""
    from pipeline.cli import main
    from pipeline.config import load_study
    from pipeline.report.build import build

    root = tmp_path_factory.mktemp("hygiene")
    out = {}
    with contextlib.chdir(root):
        for name in STUDIES:
            folder = root / "studies" / name
            shutil.copytree(PUBLIC / name, folder)
            text = (folder / "study.yaml").read_text(encoding="utf-8")
            text = re.sub(r"(?m)^instrument:.*$", f"instrument: {ROOT / 'instruments' / 'sinergi.yaml'}", text)
            (folder / "study.yaml").write_text(text, encoding="utf-8")
            path = str(folder / "study.yaml")
            for stage in ("pull", *STAGES):
                args = [stage, "--study", path] + (["--local-only", "--quiet"] if stage == "pull" else [])
                assert main(args) == 0, f"{name}: sinergi {stage} failed"
            study = load_study(path)
            for lang in ("id", "en"):
                html = build(study, lang)
                keep = root / "written" / f"{name}-{lang}"
                shutil.copytree(html.parent, keep)
                out[(name, lang)] = (keep, study)
    return out


BOTH = pytest.mark.parametrize("lang", ["id", "en"])


@BOTH
@pytest.mark.parametrize("name", STUDIES)
def test_no_instructions_keys_or_foreign_words_and_every_citation_listed(written, name, lang):
    folder, study = written[(name, lang)]
    problems = check_folder(folder, study, lang)
    assert not problems, "\n".join(problems)


def test_the_checks_find_what_they_look_for():
    """Each check fires on a text that breaks it (so a clean report is clean for a reason)."""
    from tests.hygiene import citations, hygiene_problems, listed

    bad = {"p": "Belum dihitung: jalankan `make plan` (kunci plan di berkas studi); skor trust naik."}
    found = "\n".join(hygiene_problems(bad, "id", {"p"}))
    for what in ("backtick", "make command", "study-file key", "'trust'"):
        assert what in found, what
    assert not hygiene_problems({"p": "The trust score rose in the two arms."}, "en", {"p"})
    assert {"trust", "norms", "joint_purchasing", "info", "collab"} <= english_variable_names()
    prose = "as Holm (1979) and (Krackhardt & Stern, 1988; Maryam dkk., 2026) did on 1 November 2026"
    assert citations(prose) == {("Holm", "1979"), ("Krackhardt", "1988"), ("Maryam", "2026")}
    refs = ("Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scand. J. Stat. "
            "Krackhardt, D., & Stern, R. N. (1988). Informal networks. Maryam, R., Azzahro, A., & Tresno. (2026). X.")
    assert listed(refs) == {("Holm", "1979"), ("Krackhardt", "1988"), ("Maryam", "2026")}


@BOTH
def test_a_tables_study_gets_a_neutral_header_and_its_own_network_readme(written, lang):
    folder, study = written[("lazega", lang)]
    page = (folder / "report.html").read_text(encoding="utf-8")
    kicker = re.search(r'<p class="kicker">(.*?)</p>', page).group(1)
    assert kicker == {"id": "Laporan evaluasi", "en": "Evaluation report"}[lang]
    readme = (folder / "exports" / "network" / "README.md").read_text(encoding="utf-8")
    for own in ("`advice`", "`friendship`", "`cowork`", "`boston` = Boston", "`providence` = Providence",
                "SG&R law firm", "0 = `boston`, 1 = `hartford`, 2 = `providence`"):
        assert own in readme, own
    for demo in ("lokal", "pendatang", "`info`", "`collab`", "village", "desa", "make "):
        assert demo not in readme, demo


@BOTH
def test_every_network_measure_is_defined_under_its_table(written, lang):
    """The whole-network and group tables' notes define each column they show, with its reference;
    both reciprocities and both group E-I are shown, named."""
    from pipeline.report import text as rt

    folder, _ = written[("s50-three", lang)]
    page = (folder / "report.html").read_text(encoding="utf-8")
    notes = {m.group(1): html.unescape(re.sub(r"<[^>]+>", "", m.group(2))) for m in re.finditer(
        r'data-table="(network_\w+|mixing|brokerage)".*?<p class="table-note">(.*?)</p>', page, flags=re.S)}
    t = rt.STRINGS[lang]
    heads = re.search(r'data-table="network_whole".*?<thead>(.*?)</thead>', page, flags=re.S).group(1)
    for col in ("c_reciprocity_edge", "c_reciprocity_dyad", "c_transitivity", "c_centr_in", "c_centr_out"):
        assert t[col] in heads, col
    whole, ei = notes["network_whole"], notes["network_ei"]
    for term, ref in (("Transitiv", "Wasserman & Faust, 1994"), ("(n − 1)²", "Freeman, 1979")):
        assert term in whole and ref in whole, (term, ref)
    for term, ref in (("(E − I)/(E + I)", "Krackhardt & Stern, 1988"), ("jackknife", "Newman, 2003"),
                      ("Leiden", "Traag"), ("Yule", "Yule, 1900")):
        assert term in ei and ref in ei, (term, ref)
    heads = re.search(r'data-table="network_ei".*?<thead>(.*?)</thead>', page, flags=re.S).group(1)
    for col in ("c_ties_within", "c_ties_between", "c_ei", "c_ei_exp", "c_ei_resc", "c_yules_q"):
        assert t[col] in html.unescape(heads), col
    assert t["c_ei_both"].split(" (")[0] in notes["network_groups"] and "Coleman, 1958" in notes["network_groups"]
    assert "Snijders" in notes["network_change"] and "Krackhardt, 1988" in notes["network_change"]
    assert "Holm, 1979" in notes["network_prepost"]


@BOTH
def test_methods_describe_only_what_ran(written, lang):
    """No scale methods for a study without scale items, no network methods without ties, no
    paired tests with one wave; the invariance test is described where it ran, not called untestable."""
    from pipeline.report import text as rt

    t = rt.STRINGS[lang]

    def methods(name):
        prose, _, _ = _html_parts((written[(name, lang)][0] / "report.html").read_text(encoding="utf-8"))
        return prose.split(t["sec_methods"])[-1].split(t["sec_references"])[0]

    coleman, bfi, affect = methods("coleman"), methods("bfi"), methods("affect-film")
    assert "Cronbach" not in coleman and "ω" not in coleman and "( and" not in coleman
    assert "Holm" in coleman and t["c_ei"] not in coleman.split("Holm")[1][:400]  # one group: degree only
    assert "igraph" not in bfi and "igraph" not in affect  # no ties
    assert "Wilcoxon" not in bfi and "Cronbach" in bfi  # one wave, scales
    assert "Chen, 2007" in affect and t["lim_invariance_untested"] not in affect


#: catalogue texts a report reader never sees: the monitor page (the team's own) and the note of a
#: report built before one of its stages ran (it names the command that makes the missing file)
TEAM_ONLY = re.compile(r"^(monitor_.*|missing_file)$")


@BOTH
def test_no_catalogue_text_tells_the_reader_to_edit_the_study_or_run_make(lang):
    """Texts printed only in rare cases (KoboToolbox validation, personal columns held back) are in no
    fixture's report: every catalogue entry is checked for make commands and study keys."""
    import yaml

    catalogue = yaml.safe_load((ROOT / "pipeline" / "report" / "locales" / f"{lang}.yaml").read_text(encoding="utf-8"))
    bad = {key: text for key, text in catalogue.items() if isinstance(text, str) and not TEAM_ONLY.match(key)
           and (MAKE.search(text) or STUDY_KEYS.search(text))}
    assert not bad
