"""The report on study shapes a `tables` user has (issue 23): a randomized, placebo-controlled study
without network questions whose scales.csv names its scales and statements (tests/trialstudy.py).

Asserted: the scale's own name and each statement in the report and the SPSS/Stata variable labels;
the reference group (the first level, or ``group.reference``) stated and used, every table in the
study's level order; one plain line where the network parts would be, no network rows, columns
or graph files.
"""

from __future__ import annotations

import contextlib
import html as htmlmod
import re

import pandas as pd
import pyreadstat
import pytest

from pipeline.cli import main
from pipeline.config import load_study
from pipeline.report.build import assemble, build
from pipeline.report.context import Context, Inputs
from pipeline.report.html import render_html
from tests.trialstudy import write_trial_study

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
STAGES = ("tidy", "scales", "network", "prepost", "did", "invariance", "coverage")


def _text(page: str) -> str:
    page = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", htmlmod.unescape(re.sub(r"<[^>]+>", " ", page)))


def _run(folder, **kw):
    """The study through every stage; (study, root folder)."""
    path = write_trial_study(folder / "study", **kw)
    with contextlib.chdir(folder):
        for stage in ("pull", *STAGES):
            args = [stage, "--study", str(path)] + (["--local-only", "--quiet"] if stage == "pull" else [])
            assert main(args) == 0, f"sinergi {stage} failed"
        return load_study(str(path))


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    """Placebo (listed first, sorts last) and caffeine; the report built in full (English), and
    assembled in both languages."""
    root = tmp_path_factory.mktemp("trial")
    study = _run(root)
    out = {"root": root, "study": study}
    with contextlib.chdir(root):
        out["html"] = root / build(study)
        for lang in ("id", "en"):
            ctx, sections = assemble(study, lang)
            out[lang] = (ctx, _text(render_html(ctx, sections)))
    return out


@pytest.fixture(scope="module")
def three_arms(tmp_path_factory):
    """Caffeine, decaf and placebo in that order, placebo the reference (``group.reference``)."""
    root = tmp_path_factory.mktemp("arms")
    study = _run(root, arms=("caffeine", "decaf", "placebo"), reference="placebo", study_id="arms")
    with contextlib.chdir(root):
        ctx, _ = assemble(study, "en")
    return root, study, ctx


BOTH = pytest.mark.parametrize("lang", ["id", "en"])


@BOTH
def test_the_scales_own_names_and_statements(trial, lang):
    ctx, text = trial[lang]
    name = {"id": "Kecemasan sesaat", "en": "State anxiety"}[lang]
    assert ctx.words.dimension("anxiety") == name and ctx.words.dimension("anxiety_calm") == {"id": "Ketenangan", "en": "Calmness"}[lang]
    assert ctx.words.dimension("alertness") == "Alertness"  # given in English only: used as given, not "Skala alertness"
    assert name in text and ctx.words.text("dim_generic", name="anxiety") not in text
    items = ctx.numbering.tables[[t.key for t in ctx.numbering.tables].index("items_agree")].display
    statements = dict(zip(items[ctx.words.text("item")], items[ctx.words.text("c_item_text")]))
    assert statements["tense"] == {"id": "Saya merasa tegang", "en": "I feel tense"}[lang]
    assert statements["sleepy"] == "I feel sleepy"  # English only
    assert all(statements.values())  # no empty cell in the statement column


def test_spss_and_stata_variable_labels_are_the_statements(trial):
    exports = trial["html"].parent / "exports"
    for reader, name in ((pyreadstat.read_sav, "scores.sav"), (pyreadstat.read_dta, "scores.dta")):
        _, meta = reader(str(exports / name), metadataonly=True)
        labels = dict(zip(meta.column_names, meta.column_labels))
        assert labels["tense"] == "I feel tense" and labels["anxiety"] == "Score: State anxiety"
        assert labels["calm"] == "I feel calm (reversed)" and labels["calm_raw"] == "I feel calm (answer as given)"
        assert not [c for c in meta.column_names if c.startswith("net_")]  # missing, not a column of zeros
    _, meta = pyreadstat.read_sav(str(exports / "scores_wide.sav"), metadataonly=True)
    labels = dict(zip(meta.column_names, meta.column_labels))
    assert labels["calm_after"] == "I feel calm (reversed) [After]"


@BOTH
def test_reference_group_is_the_first_level_and_stated(trial, lang):
    ctx, text = trial[lang]
    placebo, caffeine = ctx.words.group("placebo"), ctx.words.group("caffeine")
    assert ctx.shape.reference == "placebo"  # listed first, although "caffeine" sorts first
    assert ctx.words.text("mixed_intro_gen", g1=placebo, others=caffeine) in text
    terms = ctx.numbering.tables[[t.key for t in ctx.numbering.tables].index("mixed_models")].display[ctx.words.text("c_term")]
    assert ctx.words.text("term_group", g=caffeine, g1=placebo) in set(terms)
    assert ctx.words.text("term_intercept", g1=placebo, w1=ctx.words.wave("before")) in set(terms)
    mm = pd.read_csv(trial["root"] / trial["study"].processed_dir / "mixed_models.csv")
    assert "group[caffeine]" in set(mm["term"]) and "group[placebo]" not in set(mm["term"])


def _group_order(ctx, table) -> list[str]:
    col = ctx.words.text("group")
    if col not in table.display.columns:
        return []
    return [g for g in dict.fromkeys(table.display[col]) if g and g != ctx.words.text("all")]


@BOTH
def test_every_table_lists_the_groups_in_the_studys_order(trial, lang):
    ctx, _ = trial[lang]
    seen = {t.key: _group_order(ctx, t) for t in ctx.numbering.tables}
    with_groups = {k: v for k, v in seen.items() if v}
    assert {"sample", "paired_statistics", "paired_test", "effect_sizes"} <= set(with_groups), sorted(with_groups)
    for key, order in with_groups.items():
        assert order == [ctx.words.group("placebo"), ctx.words.group("caffeine")], (key, order)


def test_group_reference_keeps_the_tables_order_and_changes_the_models(three_arms):
    root, study, ctx = three_arms
    assert ctx.shape.model_levels == ["placebo", "caffeine", "decaf"]
    for t in ctx.numbering.tables:
        order = _group_order(ctx, t)
        assert order in ([], ["Caffeine", "Decaf", "Placebo"]), (t.key, order)
    mm = pd.read_csv(root / study.processed_dir / "mixed_models.csv")
    assert {"group[caffeine]", "group[decaf]"} <= set(mm["term"]) and "group[placebo]" not in set(mm["term"])


@BOTH
def test_a_study_without_network_questions_says_so_in_one_line(trial, lang):
    ctx, text = trial[lang]
    line = ctx.words.text("net_no_network")
    assert ctx.no_network_text() == line and ctx.words.text("net_no_ties") not in text
    assert text.count(line) >= 3  # summary, network section, missing network data, methods
    assert not [t.key for t in ctx.numbering.tables if t.key.startswith(("network", "mixing", "brokerage", "coverage"))]


def test_no_network_rows_columns_or_graph_files(trial):
    proc = trial["root"] / trial["study"].processed_dir
    for name in ("prepost.csv", "mixed_models.csv"):
        df = pd.read_csv(proc / name)
        assert len(df) and (df["kind"] == "scale").all(), name
    for name in ("network_whole.csv", "network_nodes.csv", "network_coverage.csv"):
        assert len(pd.read_csv(proc / name)) == 0, name
    exports = trial["html"].parent / "exports"
    assert not (exports / "network").exists()
    assert not list(trial["html"].parent.glob("figures/*socio*"))


def test_study_order_sorts_by_the_studys_levels_waves_and_tie_types(trial):
    ctx, _ = trial["en"]
    df = pd.DataFrame({"wave": ["after", "before", "after", "before", "before"],
                       "group": ["caffeine", "all", "placebo", "caffeine", "placebo"], "v": range(5)})
    got = ctx.shape.study_order(df, "wave", "group")
    assert list(zip(got["wave"], got["group"])) == [("before", "all"), ("before", "placebo"), ("before", "caffeine"),
                                                   ("after", "placebo"), ("after", "caffeine")]
    assert got.index.tolist() == [1, 4, 3, 2, 0]  # rows kept whole


def test_no_ties_recorded_is_not_no_network_questions(trial):
    ctx, _ = trial["en"]
    asked = ctx.study.model_copy(update={"tie_types": ["friend"]})
    empty = pd.DataFrame(columns=["site", "wave", "tie_type", "ego", "alter", "weight"])
    other = Context(asked, "en", Inputs({"ties.parquet": empty}))
    assert other.shape.no_ties and other.no_network_text() == ctx.words.text("net_no_ties")
