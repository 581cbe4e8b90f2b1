"""The report on real public datasets that are not the demo (tests/data/public/, issue 12).

Each study runs through the real stages (pull … coverage) in a temporary folder, once per module;
the report is assembled in both languages (the HTML text and the tables, no Word/Excel files).
What is asserted is what is true of that data: its groups, tie types and scale ranges, its waves,
its lack of ties or of a second group — and that no demo wording (UMKM owners, villages, locals
and migrants, business ties, 1–5 Likert items) is left in it.
"""

from __future__ import annotations

import contextlib
import html as htmlmod
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = ROOT / "tests" / "data" / "public"
STUDIES = ["s50-three", "s50-two", "coleman", "lazega", "affect-film", "bfi", "natgeo-only", "sampson", "caffeine",
           "film-anxiety"]
STAGES = ("tidy", "scales", "network", "prepost", "invariance", "coverage")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

#: words of the demo's framing that are false for these studies (regex, case-insensitive)
DEMO_WORDS = [r"UMKM", r"\blokal\b", r"pendatang", r"\bmigrants?\b", r"\blocals?\b", r"Likert", r"\bvillages?\b",
              r"\bdesa\b", r"4 or 5", r"4 atau 5", r"\bPKM\b", r"\bbusiness\b", r"\busaha\b",
              r"trust and norms", r"kepercayaan dan norma", r"trust or norms", r"kepercayaan atau norma",
              r"gotong royong", r"balai"]


def _copy(name: str, dest: Path) -> Path:
    """The fixture's study folder in ``dest`` (the instrument path made absolute)."""
    src = PUBLIC / ("affect-film" if name == "natgeo-only" else name)
    folder = dest / name
    shutil.copytree(src, folder)
    text = (folder / "study.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^instrument:.*$", f"instrument: {ROOT / 'instruments' / 'sinergi.yaml'}", text)
    if name == "natgeo-only":  # a one-group study with scales: the Nat Geo viewers only
        text = re.sub(r"(?m)^id:.*$", "id: natgeo-only", text)
        data = folder / "data"
        resp = pd.read_csv(data / "respondents.csv")
        keep = set(resp.loc[resp["group"] == "natgeo", "respondent_id"])
        resp[resp["respondent_id"].isin(keep)].to_csv(data / "respondents.csv", index=False)
        items = pd.read_csv(data / "responses.csv")
        items[items["respondent_id"].isin(keep)].to_csv(data / "responses.csv", index=False)
    (folder / "study.yaml").write_text(text, encoding="utf-8")
    return folder / "study.yaml"


def _sections(page: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in
            re.finditer(r'<section id="sec-[^"]+" class="report-section" data-section="([^"]+)">(.*?)</section>',
                        page, flags=re.S)}


def _text(fragment: str) -> str:
    fragment = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", fragment, flags=re.S)
    return re.sub(r"\s+", " ", htmlmod.unescape(re.sub(r"<[^>]+>", " ", fragment)))


class Built:
    """One study's report in one language: the page, its sections (HTML and text), its tables."""

    def __init__(self, study, ctx, page: str, root: Path):
        self.study, self.ctx, self.page, self.root = study, ctx, page, root
        self.html = _sections(page)
        self.text = {k: _text(re.sub(r"<h2>.*?</h2>", "", v, count=1, flags=re.S)) for k, v in self.html.items()}
        self.all = _text(page)
        self.tables = {t.key: t for t in ctx.numbering.tables}

    def handout(self, lang: str) -> str:
        """The handout in ``lang`` (both are written once, from this report's context)."""
        from pipeline.report.handout import write_handouts

        folder = self.root / "handouts" / f"{self.study.id}-{self.ctx.lang}"
        if not folder.exists():
            folder.mkdir(parents=True)
            write_handouts(self.ctx, folder)
        name = "handout.html" if lang == self.ctx.lang else f"handout-{lang}.html"
        return (folder / name).read_text(encoding="utf-8")

    def findings(self, section: str = "summary") -> list[tuple[dict, str]]:
        items = re.findall(r'<li class="finding[^"]*"([^>]*)>(.*?)</li>', self.html[section], flags=re.S)
        return [(dict(re.findall(r'data-([\w-]+)="([^"]*)"', a)), _text(t)) for a, t in items]


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[tuple[str, str], Built]:
    from pipeline.cli import main
    from pipeline.config import load_study
    from pipeline.report.build import assemble
    from pipeline.report.html import render_html

    root = tmp_path_factory.mktemp("public")
    out = {}
    with contextlib.chdir(root):
        for name in STUDIES:
            path = _copy(name, root / "studies")
            for stage in ("pull", *STAGES):
                args = [stage, "--study", str(path)] + (["--local-only", "--quiet"] if stage == "pull" else [])
                assert main(args) == 0, f"{name}: sinergi {stage} failed"
            study = load_study(str(path))
            for lang in ("id", "en"):
                ctx, sections = assemble(study, lang)
                out[(name, lang)] = Built(study, ctx, render_html(ctx, sections), root)
    return out


BOTH = pytest.mark.parametrize("lang", ["id", "en"])


# ---------------------------------------------------------------------------------------------
# no demo wording; the study's own labels
# ---------------------------------------------------------------------------------------------

@BOTH
@pytest.mark.parametrize("name", STUDIES)
def test_no_demo_words(reports, name, lang):
    text = reports[(name, lang)].all
    found = sorted({m.group(0) for w in DEMO_WORDS for m in re.finditer(w, text, flags=re.I)})
    assert not found, f"{name} ({lang}): demo wording {found}"


@BOTH
def test_group_and_tie_labels_are_the_studys(reports, lang):
    s50 = reports[("s50-two", lang)]
    groups = {"id": "Bukan perokok dan Perokok", "en": "Non-smokers and Smokers"}[lang]
    ei = [t for a, t in s50.findings() if a.get("kind") == "ei"]
    assert len(ei) == 2 and all(groups in t for t in ei), ei
    lazega = reports[("lazega", lang)]
    offices = {"id": "Boston, Hartford dan Providence", "en": "Boston, Hartford and Providence"}[lang]
    assert offices in " ".join(t for _, t in lazega.findings())
    net = lazega.text["network"]
    assert all(lazega.ctx.words.tie(t) in net and t in lazega.ctx.words.tie(t) for t in ("advice", "friendship", "cowork"))
    liaison = {"id": "tiga kelompok atau lebih", "en": "three groups or more"}[lang]
    assert liaison in net and {"id": "Dengan hanya dua kelompok", "en": "With only two groups"}[lang] not in net


# ---------------------------------------------------------------------------------------------
# scale ranges, every dimension
# ---------------------------------------------------------------------------------------------

@BOTH
def test_scale_range_is_the_datas(reports, lang):
    affect = reports[("affect-film", lang)]
    sm = pd.read_csv(PUBLIC / "affect-film" / "data" / "scales.csv")
    rng = f"{sm['min'].min():g}–{sm['max'].max():g}"
    assert rng == "0–3"
    assert rng in affect.text["trust"] and "1–5" not in affect.all
    scale = [t for a, t in affect.findings() if a.get("kind") == "scale"]
    assert scale and all(f" {rng} " in t for t in scale), scale
    assert [c for c in affect.tables["items_agree"].display.columns if c.startswith(affect.ctx.words.text("c_pct_top2"))]
    # two dimensions with their own ranges: each maximum is named, not one for both
    s50 = reports[("s50-three", lang)]
    trust = s50.text["trust"]
    assert f"{s50.ctx.words.dimension('alcohol')} 1–5" in trust and f"{s50.ctx.words.dimension('smoking')} 1–3" in trust
    assert re.search(r"(maximum score|skor maksimum) = 5\b", trust) is None
    assert "1–6" in reports[("bfi", lang)].text["trust"]


@BOTH
@pytest.mark.parametrize("name", ["affect-film", "s50-three", "bfi"])
def test_every_dimension_is_in_the_summary(reports, name, lang):
    b = reports[(name, lang)]
    dims = pd.unique(pd.read_csv(PUBLIC / ("affect-film" if name == "natgeo-only" else name) / "data" / "scales.csv")
                     ["dimension"])
    summary = b.findings()
    for d in dims:
        hits = [t for a, t in summary if a.get("dimension") == d and a.get("kind") in ("scale", "baseline")]
        assert hits, f"{name}: dimension {d} is not in the summary"
        assert b.ctx.words.dimension(d) in hits[0]


@BOTH
def test_one_item_subscales_are_not_called_adequate(reports, lang):
    rel = reports[("s50-three", lang)].tables["reliability"].display
    flags = set(rel.iloc[:, -1])
    assert flags == {{"id": "satu butir: α dan ω tidak terdefinisi", "en": "one item: α and ω are undefined"}[lang]}
    assert (rel.iloc[:, 4] == "–").all()  # α really is undefined there
    # a dimension of several items keeps its verdict
    assert {"id": "memadai", "en": "adequate"}[lang] in set(reports[("bfi", lang)].tables["reliability"].display.iloc[:, -1])


# ---------------------------------------------------------------------------------------------
# the evidence: no direction without it
# ---------------------------------------------------------------------------------------------

@BOTH
def test_network_change_without_evidence_is_no_clear_change(reports, lang):
    b = reports[("s50-three", lang)]
    ch = pd.read_csv(b.root / "data" / "processed" / "s50-three" / "network_change.csv")
    change = [(a, t) for a, t in b.findings() if a.get("kind") == "change"]
    assert len(change) == len(ch[ch["tie_type"] == "any"]) == 3
    assert (ch.loc[ch["tie_type"] == "any", "delta_ei_p"] >= b.study.analysis.alpha).all()
    for a, t in change:
        assert a["verdict"] == "unsure"
        assert {"id": "Belum ada perubahan yang jelas", "en": "no clear change"}[lang] in t
        for word in ({"id": ["lebih tertutup", "lebih terbuka"], "en": ["more closed", "more open"]}[lang]):
            assert word not in t, t


@BOTH
def test_scale_findings_follow_their_confidence_interval(reports, lang):
    b = reports[("affect-film", lang)]
    pp = pd.read_csv(b.root / "data" / "processed" / "affect-film" / "prepost.csv", dtype={"wave_post": str})
    unsure = {"id": "belum menunjukkan perubahan yang jelas", "en": "shows no clear change"}[lang]
    checked = 0
    for a, t in b.findings():
        if a.get("kind") != "scale":
            continue
        if a.get("why") == "subscale":  # a subscale shown because it changed clearly: it did
            assert a["verdict"] == "sig", t
            continue
        r = pp[(pp["dimension"] == a["dimension"]) & (pp["group"] == a["group"])].iloc[0]
        spans = r["diff_ci_low"] <= 0 <= r["diff_ci_high"]
        assert (unsure in t) == spans, t
        checked += 1
    assert checked == 6  # two dimensions × (all, two films)


@BOTH
def test_gap_sentences_claim_no_narrowing_without_evidence(reports, lang):
    b = reports[("affect-film", lang)]
    gaps = [(a, t) for a, t in b.findings() if a.get("kind") == "gap"]
    assert len(gaps) == 2  # both dimensions, Nat Geo against Halloween
    for a, t in gaps:
        if a["verdict"] != "sig":
            assert {"id": "Belum ada perbedaan yang jelas", "en": "no clear difference"}[lang] in t
            assert {"id": "menyempit", "en": "narrow"}[lang] not in t
        else:  # the films started level (baseline CI includes 0): no gap to narrow or widen
            assert b.ctx.words.text("gap_diff_sig") in t, t


# ---------------------------------------------------------------------------------------------
# designs: three waves, one group, no ties, one wave
# ---------------------------------------------------------------------------------------------

@BOTH
def test_three_waves_each_later_wave_against_the_first(reports, lang):
    b = reports[("s50-three", lang)]
    posts = {a["wave-post"] for a, _ in b.findings() if a.get("kind") == "scale"}
    assert posts == {"t2", "t3"}
    pairs = [t for t in b.text["summary"].split(". ") if "50" in t and ("(Year 2" in t or "(Tahun ke-2" in t)]
    assert pairs
    table = b.tables["network_prepost"].display
    w1, w2, w3 = (b.ctx.words.wave(w) for w in ("t1", "t2", "t3"))
    assert set(table[b.ctx.words.text("wave")]) == {f"{w1} → {w2}", f"{w1} → {w3}"}
    assert not [c for c in table.columns if w3 in c]  # no header names the last wave over the first block
    nodes = pd.read_csv(b.root / "data" / "processed" / "s50-three" / "prepost.csv", dtype={"wave_post": str})
    deg = nodes[(nodes["dimension"] == "network_degree") & (nodes["group"] == "all")].set_index("wave_post")
    rows = table[(table[b.ctx.words.text("dimension")] == b.ctx.words.dimension("network_degree")) & (table[b.ctx.words.text("group")] == b.ctx.words.text("all"))]
    got = dict(zip(rows[b.ctx.words.text("wave")], rows[b.ctx.words.text("c_mean_post")]))
    assert got[f"{w1} → {w2}"] == b.ctx.words.number(deg.loc["t2", "mean_post"])
    assert got[f"{w1} → {w3}"] == b.ctx.words.number(deg.loc["t3", "mean_post"])


@BOTH
@pytest.mark.parametrize("name", ["coleman", "natgeo-only"])
def test_one_group_has_no_group_comparison(reports, name, lang):
    b = reports[(name, lang)]
    assert b.ctx.shape.one_group
    kinds = [a.get("kind") for a, _ in b.findings()]
    assert "gap" not in kinds
    for a, t in b.findings():
        if a.get("kind") in ("ei", "change"):
            assert "E-I" not in t.replace("no E-I index", "").replace("indeks E-I tidak dihitung", ""), t
    if name == "natgeo-only":
        title = b.tables["mixed_models"].title
        assert "×" not in title and "(1 |" in title
        assert not b.tables["mixed_models"].display.iloc[:, 1].str.contains("×|Interaksi|Interaction").any()
        assert b.ctx.words.text("group_all_phrase") in b.text["summary"]
    else:
        for key in ("network_groups", "mixing", "brokerage"):
            assert key not in b.tables, key


@BOTH
@pytest.mark.parametrize("name", ["affect-film", "bfi"])
def test_no_ties_is_one_line(reports, name, lang):
    b = reports[(name, lang)]
    line = b.ctx.words.text("net_no_network")  # the study names no tie types: it asked no network questions
    assert b.text["network"].strip() == line
    assert not any(k.startswith(("network", "mixing", "brokerage", "coverage")) for k in b.tables), list(b.tables)
    assert [a.get("kind") for a, _ in b.findings() if a.get("kind") in ("ei", "change", "no-ties")] == ["no-ties"]
    assert b.all.count(line) >= 3  # summary, network, missing network data (and the methods)


@BOTH
@pytest.mark.parametrize("name", ["bfi", "lazega"])
def test_one_wave_says_so_and_talks_of_no_change(reports, name, lang):
    b = reports[(name, lang)]
    assert b.ctx.shape.one_wave
    methods = b.text["methods"]
    assert b.ctx.words.text("lim_one_wave_gen") in methods
    assert b.ctx.words.text("lim_change_gen") not in methods and b.ctx.words.text("lim_attrition_gen") not in methods
    assert not [a for a, _ in b.findings() if a.get("kind") in ("scale", "change", "gap")]


@BOTH
def test_sections_without_data_are_one_line(reports, lang):
    for name in ("lazega", "bfi"):
        b = reports[(name, lang)]
        assert b.text["collective"].strip() == b.ctx.words.text("coll_none")
        assert "collective" not in b.tables
    b = reports[("coleman", lang)]
    assert b.text["trust"].strip() == b.ctx.words.text("no_scales_gen")


@pytest.mark.parametrize("name", STUDIES)
def test_handouts_have_no_demo_words(reports, name, tmp_path):
    from pipeline.report.handout import write_handouts

    b = reports[(name, "en")]
    paths = write_handouts(b.ctx, tmp_path)
    assert len(paths) == 2
    for path in paths:
        text = _text(path.read_text(encoding="utf-8"))
        found = sorted({m.group(0) for w in DEMO_WORDS + [r"\bowners?\b", r"\bpelaku\b", r"\bprogram\b"]
                        for m in re.finditer(w, text, flags=re.I)})
        assert not found, f"{path.name}: {found}"
        if name in ("affect-film", "coleman"):  # two waves: no "after the second survey"
            assert "second survey" not in text and "survei kedua" not in text


@BOTH
def test_invariance_names_the_waves_it_leaves_out(reports, lang):
    """Three waves: the invariance test compares the first with the last, and says the middle one
    is not tested (rather than letting the reader assume every wave was compared)."""
    rep = reports[("s50-three", lang)]
    inv = rep.ctx.inputs("invariance.csv")
    assert inv is not None and (inv["comparison"] == "waves").any()
    first, middle, last = (rep.ctx.words.wave(w) for w in rep.ctx.shape.data_waves)
    expected = rep.ctx.words.text("inv_scope_waves", a=first, b=last, left=middle)
    assert expected in rep.text["designs"]
    assert rep.ctx.words.text("inv_scope_waves", a=first, b=last, left=middle) not in reports[("s50-two", lang)].text["designs"]


@BOTH
def test_distribution_figure_shows_the_studys_own_dimensions(reports, lang):
    """The score distributions are drawn for a study's own dimensions, not only for ones named
    trust or norms (the film study's are energetic and tense arousal)."""
    rep = reports[("affect-film", lang)]
    assert any(f.key == "distributions" for f in rep.ctx.numbering.figures)


# ---------------------------------------------------------------------------------------------
# issue 23: every number of a sentence is a printed table cell; the set of people is named
# ---------------------------------------------------------------------------------------------

def _labels(b: Built) -> list[str]:
    """The study's own names: a number inside one (Year 2 (1995), Time 4) is not a statistic."""
    ctx, st = b.ctx, b.study
    return ([st.title, st.site] + [ctx.words.wave(w) for w in ctx.shape.waves] + [ctx.words.group(g) for g in ctx.shape.levels]
            + [ctx.words.dimension(d) for d in ctx.shape.scale_dims()] + [ctx.words.tie(t) for t in [*st.tie_types, "any"]])


def _rules(b: Built) -> list[str]:
    """The numbers a sentence may print because a rule stated beside it gives them."""
    n = b.ctx.words.number
    return ["95%",                              # the confidence level of every CI ("95% CI", "IK 95%")
            "0",                                # the null value a CI "includes" or "excludes"
            n(b.study.analysis.alpha, 2),       # α of the rule in "how to read this"
            n(0.2, 1), n(0.5, 1), n(0.8, 1),    # Cohen's benchmarks for d_z, stated in "how to read this"
            n(0.90, 2),                         # the configural CFI cut-off, stated in the caution
            n(0.010, 3), n(0.015, 3),           # Chen's (2007) ΔCFI and ΔRMSEA cut-offs, stated as the rule
            n(100, 0)]                          # the × 100 of the % change formula (trust section)


#: sections whose sentences this branch writes (the methods are checked on their own below)
PROVENANCE_SECTIONS = ("summary", "data", "trust")


@BOTH
@pytest.mark.parametrize("name", STUDIES)
def test_every_number_of_the_summary_is_a_printed_table_cell(reports, name, lang):
    from tests.report.provenance import report_document, unexplained

    b = reports[(name, lang)]
    doc = report_document(b.page)
    for section in PROVENANCE_SECTIONS:
        missing = unexplained(doc, section, rules=_rules(b), labels=_labels(b))
        assert not missing, f"{name} ({lang}) {section}: numbers in no table: {missing}"




@BOTH
@pytest.mark.parametrize("name", STUDIES)
def test_every_number_of_the_methods_is_a_printed_table_cell(reports, name, lang):
    from tests.report.provenance import report_document, unexplained

    b = reports[(name, lang)]
    missing = unexplained(report_document(b.page), "methods", rules=_rules(b), labels=_labels(b))
    assert not missing, f"{name} ({lang}) methods: numbers in no table: {missing}"


@BOTH
@pytest.mark.parametrize("name", STUDIES)
def test_every_number_of_the_handout_is_in_its_own_table(reports, name, lang):
    """The handout is its own document: what its cards and its line on who answered say is in the
    handout's table of numbers (a study's labels apart)."""
    from tests.report.provenance import handout_document, unexplained

    b = reports[(name, lang)]
    page = b.handout(lang)
    doc = handout_document(page)
    labels = [b.study.wave_label(w, lang) for w in b.study.wave_ids] + [b.study.title, b.study.site] + \
             [b.study.group_label(g, lang) for g in b.study.group_values] + _labels(b)
    missing = unexplained(doc, "handout", labels=labels)
    assert not missing, f"{name} ({lang}) handout: numbers in no cell of its table: {missing}"
    if b.ctx.shape.one_wave:
        return
    cards = re.findall(r'<section class="card[^"]*" data-finding="([^"]+)" data-verdict="([^"]+)">', page)
    rows = re.findall(r"<tr>(.*?)</tr>", page.split('<table class="numbers">')[1], flags=re.S)
    # one verdict per card, from one named test: each card has its table row(s), one with a test
    tests = [r for r in rows if re.search(r"(α|alpha) =", r)]
    assert len(tests) == len(cards), (name, cards, tests)


def test_one_definition_of_answered_in_both_waves(reports):
    """The randomized study with blank questionnaires (psychTools sai, XRAY): 11 questionnaires are
    blank (no item answered; R: ``rowSums(!is.na(items)) == 0`` gives 4 and 7 per time), counted
    in the quality table and the sample flow; the 189 people with an answered questionnaire in both
    waves (R: ``length(intersect(...))`` over the non-blank ids) are the number the summary, the data
    section and the handout give; each scale's pairs are its own n (R: 174, 175, 172)."""
    for lang in ("id", "en"):
        b = reports[("caffeine", lang)]
        root = b.root / "data" / "processed" / "caffeine"
        quality = pd.read_csv(root / "quality.csv")
        blank = quality[quality["issue"] == "blank_questionnaire"]
        assert blank.groupby("wave").size().to_dict() == {"first": 4, "second": 7}
        assert (blank["action"] == "left_out").all()
        sample = pd.read_csv(root / "sample.csv").set_index(["wave", "group"])
        assert sample.loc[("first", "all"), "blank"] == 4 and sample.loc[("second", "all"), "blank"] == 7
        assert sample.loc[("second", "all"), "retained"] == sample.loc[("second", "all"), "in_first"] == 189
        n = b.ctx.words.number(189, 0)
        summary, data = b.text["summary"], b.text["data"]
        assert re.search(rf"\b{n} (responden|respondents) (mengisi kedua|answered in both)", summary), summary
        assert re.search(rf"\b{n} (responden bertahan|respondents stayed)", data)
        counts = b.tables["quality"].display
        assert sorted(counts[b.ctx.words.text("c_count")].tolist()) == ["4", "7"]
        assert b.ctx.words.text("issue_blank_questionnaire") in set(counts[b.ctx.words.text("c_issue")])
        assert set(b.tables["sample"].display[b.ctx.words.text("c_blank")]) >= {"4", "7"}
        handout = re.sub(r"<[^>]+>", " ", b.handout(lang))
        assert re.search(rf"\b{n} (responden mengisi kedua|respondents answered both)", handout), handout[:2000]
        pp = pd.read_csv(root / "prepost.csv")
        pairs = pp[(pp["group"] == "all") & (pp["kind"] == "scale")].set_index("dimension")["n_pairs"].to_dict()
        assert pairs == {"anxiety": 174, "anxiety_present": 175, "anxiety_absent": 172}


@BOTH
def test_a_subscale_significant_where_its_dimension_is_not_is_in_the_summary(reports, lang):
    """psychTools sai, FIAT (70 students, state anxiety before and after a film): the anxiety scale
    as a whole does not change clearly (R: Holm p 0.1232254222 over the scale and its two
    subscales, ``p.adjust(c(t.test(...)$p.value, ...), "holm")``), its anxiety-absent subscale does
    (0.0010694889); XRAY's caffeine arm: 0.1238737168 against 0.0192564561."""
    for name, group, p_dim, p_sub in (("film-anxiety", "all", 0.1232254222, 0.0010694889),
                                      ("caffeine", "caffeine", 0.1238737168, 0.0192564561)):
        b = reports[(name, lang)]
        pp = pd.read_csv(b.root / "data" / "processed" / name / "prepost.csv").set_index(["dimension", "group"])
        assert pp.loc[("anxiety", group), "p_holm"] == pytest.approx(p_dim, abs=1e-8)
        assert pp.loc[("anxiety_absent", group), "p_holm"] == pytest.approx(p_sub, abs=1e-8)
        found = [(a, t) for a, t in b.findings() if a.get("dimension") == "anxiety_absent" and a.get("group") == group]
        assert len(found) == 1, (name, [a for a, _ in b.findings()])
        a, t = found[0]
        assert a["why"] == "subscale" and a["verdict"] == "sig"
        assert b.ctx.words.dimension("anxiety_absent") in t and b.ctx.words.text("summary_subscale_why", dim=b.ctx.words.dimension("anxiety")) in t
        # the subscale that did not change clearly is not added
        assert not [x for x, _ in b.findings() if x.get("dimension") == "anxiety_present"]


@BOTH
def test_randomized_arms_ask_whether_the_groups_changed_differently(reports, lang):
    b = reports[("caffeine", lang)]
    summary_html = b.html["summary"]
    assert b.ctx.words.text("summary_gap_head_gen") in summary_html and b.ctx.words.text("summary_gap_head") not in summary_html
    text = b.text["summary"]
    for demo in ({"id": ["menyempit", "melebar", "kesenjangan"], "en": ["narrow", "widen", "gap"]}[lang]):
        assert demo not in text, demo


@BOTH
def test_a_poor_configural_fit_is_carried_to_the_summary(reports, lang):
    """invariance.csv: the 20 anxiety items fit one configural model poorly (CFI < 0.90) across
    the waves and across the arms; the summary's line on the scale and the groups line say so."""
    b = reports[("caffeine", lang)]
    inv = pd.read_csv(b.root / "data" / "processed" / "caffeine" / "invariance.csv")
    conf = inv[inv["level"] == "configural"].set_index("comparison")["cfi"]
    assert (conf < 0.90).all()
    scale = [t for a, t in b.findings() if a.get("kind") == "scale" and a.get("group") == "all"
             and a.get("dimension") == "anxiety"]
    gap = [t for a, t in b.findings() if a.get("kind") == "gap"]
    assert len(scale) == 1 and len(gap) == 1
    assert f"CFI {'konfigural ' if lang == 'id' else ''}= {b.ctx.words.number(conf['waves'], 3)}" in scale[0].replace(
        "configural CFI", "CFI"), scale[0]
    assert b.ctx.words.number(conf["groups"], 3) in gap[0] and b.ctx.words.number(0.90, 2) in gap[0]


@BOTH
def test_three_waves_four_groups_no_scales(reports, lang):
    """Sampson's monastery: liking among 18 novices at three times, four groups, no scales. The
    whole network's ties between groups and E-I per time are R's (``sum(adj * outer(g, g, "!="))``
    over ergm's samplk1-3: 25/55, 19/57, 18/56; E-I −0.0909, −0.3333, −0.3571); the handout
    compares the first and the last of the three surveys and says so."""
    b = reports[("sampson", lang)]
    whole = pd.read_csv(b.root / "data" / "processed" / "sampson" / "network_whole.csv")
    whole = whole[whole["tie_type"] == "any"].set_index("wave")
    assert whole["ties_between"].to_dict() == {"t2": 25, "t3": 19, "t4": 18}
    assert whole["n_ties"].to_dict() == {"t2": 55, "t3": 57, "t4": 56}
    assert whole["ei"].to_numpy() == pytest.approx([-0.0909091, -0.3333333, -0.3571429], abs=1e-6)
    assert b.ctx.words.text("no_scales_gen") in b.text["summary"]
    assert len([a for a, _ in b.findings() if a.get("kind") == "change"]) == 3
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", b.handout(lang)))
    assert {"id": "dua kali", "en": "twice"}[lang] not in text
    assert {"id": "survei terakhir dari 3 survei", "en": "the last of the 3 surveys"}[lang] in text
    cards = re.findall(r'data-finding="([^"]+)" data-verdict="([^"]+)"', b.handout(lang))
    assert [c for c, _ in cards] == ["bridge", "ties"]
