"""The references registry (pipeline/report/bibliography.py) and the citations of the catalogues."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from pipeline.errors import SinergiError
from pipeline.report import bibliography as bib
from pipeline.report import text as rt

LOCALES = Path(__file__).resolve().parents[2] / "pipeline" / "report" / "locales"


@lru_cache(maxsize=2)
def _raw(lang: str) -> dict:
    return yaml.safe_load((LOCALES / f"{lang}.yaml").read_text(encoding="utf-8"))


def _texts(value) -> list[str]:
    return value if isinstance(value, list) else [value] if isinstance(value, str) else []


def test_citation_forms_in_both_languages():
    assert bib.cite(["holm1979", "chen2007"], "en") == "(Holm, 1979; Chen, 2007)"
    assert bib.cite(["krackhardt1988ei"], "en") == "(Krackhardt & Stern, 1988)"
    assert bib.cite(["krackhardt1988ei"], "en", narrative=True) == "Krackhardt and Stern (1988)"
    assert bib.cite(["traag2019"], "id") == "(Traag dkk., 2019)"
    assert bib.cite(["traag2019"], "en", narrative=True) == "Traag et al. (2019)"
    text = bib.resolve("E-I [@krackhardt1988ei], as @holm1979 did; e-mail a@b is no citation", "en")
    assert text == "E-I (Krackhardt & Stern, 1988), as Holm (1979) did; e-mail a@b is no citation"


def test_an_unknown_key_is_one_clear_error_naming_the_message(tmp_path, monkeypatch):
    with pytest.raises(SinergiError, match=r"m_x cites @nobody2020, which is not in the references"):
        bib.resolve("see [@holm1979; @nobody2020]", "en", "locales/en.yaml: message m_x")
    (tmp_path / "en.yaml").write_text("m_x: 'Holm [@holm1979]; nobody [@nobody2020]'\n", encoding="utf-8")
    monkeypatch.setattr(rt, "LOCALES", tmp_path)
    with pytest.raises(SinergiError, match=r"en\.yaml: message m_x cites @nobody2020"):
        rt._catalogue("en")


def test_apa7_entries():
    """Authors with "&" before the last, the year, a sentence-case title, the journal and volume in
    italics, the issue and pages plain; a book in italics with its edition; up to 20 authors all named."""
    def plain(key, lang="en"):
        return "".join(t for t, _ in bib.entry_runs(key, lang))

    assert plain("krackhardt1988ei") == ("Krackhardt, D., & Stern, R. N. (1988). Informal networks and organizational "
                                         "crises: An experimental simulation. Social Psychology Quarterly, 51(2), 123–140.")
    runs = bib.entry_runs("krackhardt1988ei", "en")
    assert [t for t, italic in runs if italic] == ["Social Psychology Quarterly", "51"]
    assert bib.doi_url("krackhardt1988ei") == "https://doi.org/10.2307/2786835" and bib.doi_url("holm1979") == ""
    assert plain("cohen1988") == ("Cohen, J. (1988). Statistical power analysis for the behavioral sciences "
                                  "(2nd ed.). Lawrence Erlbaum Associates.")
    assert "(Ed. ke-2)" in plain("cohen1988", "id")
    assert [t for t, italic in bib.entry_runs("cohen1988", "en") if italic] == [
        "Statistical power analysis for the behavioral sciences"]
    maryam = plain("maryam2026")
    assert maryam.startswith("Maryam, R., Azzahro, A., Ronaldi, S.,") and ", & Tresno. (2026). Strategi" in maryam
    assert maryam.endswith("Arus Jurnal Psikologi dan Pendidikan, 6(1), 805–811.")


def test_same_authors_and_year_get_a_letter(monkeypatch):
    extra = dict(bib.REFERENCES, holm1979b=bib.Ref(("Holm, S.",), 1979, "Another paper", "J", "1", "", "1–2"))
    monkeypatch.setattr(bib, "REFERENCES", extra)
    years = bib._year_labels()
    assert {years["holm1979"], years["holm1979b"]} == {"1979a", "1979b"}
    assert years["krackhardt1988ei"] == years["krackhardt1988qap"] == "1988"  # other authors: no letter


def test_the_list_is_in_apa_order():
    keys = bib.ordered(bib.REFERENCES)
    assert keys.index("krackhardt1988qap") < keys.index("krackhardt1988ei")  # one author before two
    assert keys[0] == "bates2015" and keys[-1] == "yule1900"
    assert bib.ordered(["wilcoxon1945", "chen2007"]) == ["chen2007", "wilcoxon1945"]


def test_cited_keys_reads_both_citation_forms():
    text = "… (Holm, 1979) … as Krackhardt and Stern (1988) showed … Holm 1979 …"
    assert bib.cited_keys(text, "en") == ["holm1979", "krackhardt1988ei"]
    assert bib.cited_keys("(Traag dkk., 2019)", "id") == ["traag2019"]


@pytest.mark.parametrize("key", sorted(rt.STRINGS["en"]))
def test_a_message_cites_the_same_works_in_both_languages(key):
    ids = [bib.marker_keys(t) for t in _texts(_raw("id").get(key))]
    ens = [bib.marker_keys(t) for t in _texts(_raw("en").get(key))]
    assert [sorted(k) for k in ids] == [sorted(k) for k in ens], key


def test_no_catalogue_message_cites_by_hand():
    """An author–year citation in a message is a marker, never typed: the reference list finds it."""
    from tests.hygiene import CITATION

    for lang in ("id", "en"):
        for key, value in _raw(lang).items():
            for text in _texts(value):
                if key in ("monitor_names_warning",):
                    continue
                hand = [m.group(0) for m in CITATION.finditer(re.sub(r"\[@[^\]]*\]|@\w+", "", text))]
                assert not hand, (lang, key, hand)


def test_every_registry_entry_is_cited_somewhere_and_resolves():
    cited = {k for lang in ("id", "en") for v in _raw(lang).values() for t in _texts(v) for k in bib.marker_keys(t)}
    assert cited == set(bib.REFERENCES), sorted(set(bib.REFERENCES) ^ cited)
    assert not any("@" in t for v in rt.STRINGS["id"].values() for t in _texts(v) if "[@" in t)
