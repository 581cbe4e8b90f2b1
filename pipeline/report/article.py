"""The journal article draft (``artikel.docx`` / ``article.docx``): the report's evidence in the
structure Indonesian community-service (PKM, SINTA) journals ask for.

:func:`assemble_article` is pure: it takes the report's :class:`Context` and its assembled
sections and picks, never recomputes, what the article shows — the report's own tables, figures
and finding sentences (same catalogue, same rules: "belum dapat dipastikan" where the CI holds 0).
The parts:

* a title of at most :data:`TITLE_WORDS` words and an identity block (team, institution, program,
  year from the study's ``report:`` keys);
* an abstract in Indonesian **and** English (each from the same findings in that language), of at
  most :data:`ABSTRACT_WORDS` words, naming the participants per group, the design and the main
  results with their size and CI; keywords;
* *Pendahuluan*: the baseline facts the data show, and marked places (``todo`` blocks) where the
  team writes its situational analysis, the partner's problems and the solution — never invented;
* *Metode Pelaksanaan*, *Hasil dan Pembahasan* (at most :data:`MAX_TABLES` tables and
  :data:`MAX_FIGURES` figures), *Kesimpulan*, *Daftar Pustaka* (what the article cites, APA 7).

The Word file is written by :mod:`pipeline.report.article_docx`.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field, replace
from typing import Any

from . import bibliography as bib
from .context import Context
from .model import Block, Entry, Finding, Section, Table
from .sections import summary
from .sections.references import printed_texts

__all__ = ["Article", "Abstract", "assemble_article", "TABLE_KEYS", "FIGURE_KEYS", "TITLE_WORDS",
           "ABSTRACT_WORDS", "article_name", "figure_keys", "ARTICLE_LANGUAGES"]

#: the report's tables the article may print, in preference order (the first MAX_TABLES found)
TABLE_KEYS = ["sample", "paired_statistics", "paired_test", "effect_sizes", "network_change", "reliability",
              "network_whole"]
#: the columns (header ids) an article table keeps of the report's table; its rows are those of
#: the top-level dimensions (a table not named here is printed whole)
SLICES = {"reliability": ["wave", "dimension", "c_n", "c_k", "c_alpha", "c_alpha_ci", "c_omega"],
          "paired_statistics": ["dimension", "group", "wave", "c_mean", "c_N", "c_sd"],
          "paired_test": ["dimension", "group", "wave", "c_mean_diff", "c_ci_low", "c_ci_high", "c_t", "c_df"],
          "effect_sizes": ["dimension", "group", "c_n_pairs", "c_dz", "c_dz_ci", "c_p_holm", "c_n_gain"],
          "network_change": ["tie_type", "wave", "c_n_common", "c_kept", "c_new_within", "c_new_between",
                             "c_dropped_within", "c_dropped_between", "c_jaccard", "c_delta_ei", "c_delta_ei_p",
                             "c_rsiena"]}
#: tables whose report note counts rows the article leaves out (the paired test's people without a pair)
NOTELESS = {"paired_test"}
#: the article's own note of a table whose report note is elsewhere (the report's formulas list):
#: each measure defined, with its reference, under the table that shows it
NOTES = {"paired_test": "art_note_paired", "effect_sizes": "art_note_effects"}
#: the report's figures the article may print, in preference order
FIGURE_KEYS = ["change_forest", "cross_share", "dumbbell", "group_ties", "distributions"]
MAX_TABLES, MAX_FIGURES = 5, 3
#: every build writes the article in each of these languages (artikel.docx, article.docx)
ARTICLE_LANGUAGES = ("id", "en")
TITLE_WORDS = 15
ABSTRACT_WORDS = (150, 250)


@dataclass
class Abstract:
    """One language's abstract: its heading, text, keyword label and keywords."""

    lang: str
    heading: str
    text: str
    keywords_label: str
    keywords: list[str]


@dataclass
class Article:
    """What the article prints, in order."""

    lang: str
    title: str
    identity: list[tuple[str, str]]
    abstracts: list[Abstract]
    sections: list[Section] = field(default_factory=list)

    @property
    def tables(self) -> list[Table]:
        return [b.table for sec in self.sections for b in sec.blocks if b.table is not None]

    @property
    def figures(self) -> list[Any]:
        return [b.figure for sec in self.sections for b in sec.blocks if b.figure is not None]


def article_name(lang: str) -> str:
    """The article's file name in ``lang``: ``artikel.docx`` (Indonesian), ``article.docx``."""
    return "artikel.docx" if lang == "id" else "article.docx"


def figure_keys(sections: list[Section]) -> list[str]:
    """The keys of the report figures the article prints: the first :data:`MAX_FIGURES` of
    :data:`FIGURE_KEYS` that ``sections`` drew (the second language draws only these)."""
    drawn = {b.figure.key for sec in sections for b in sec.blocks if b.figure is not None and b.figure.png}
    return [k for k in FIGURE_KEYS if k in drawn][:MAX_FIGURES]


def words_in(text: str) -> int:
    """The number of words of ``text`` (runs between spaces)."""
    return len(str(text).split())


def assemble_article(ctx: Context, sections: list[Section], other: Context | None = None) -> Article:
    """The article of the report ``sections`` of ``ctx``.

    Parameters
    ----------
    ctx : Context
        The report's context (its language is the article's).
    sections : list of Section
        The report's assembled sections: the article takes their tables and figures.
    other : Context, optional
        The same study in the other language, for the second abstract (made from ``ctx`` when not
        given: no file is read).
    """
    words = ctx.words
    other = other or Context(ctx.study, "en" if ctx.lang == "id" else "id", ctx.inputs,
                             manifest=ctx.manifest, instrument=ctx.instrument)
    abstracts = [abstract(ctx), abstract(other)]
    if ctx.lang != "id":
        abstracts.reverse()  # the Indonesian abstract first, as the journals print them
    picked = _pick(ctx, sections)
    body = [_section("intro", words.text("art_sec_intro"), _intro(ctx, picked)),
            _section("method", words.text("art_sec_method"), _method(ctx, picked)),
            _section("results", words.text("art_sec_results"), _results(ctx, sections, picked)),
            _section("conclusion", words.text("art_sec_conclusion"), _conclusion(ctx))]
    _renumber([b for sec in body for b in sec.blocks])
    keys = bib.cited_keys("\n".join(printed_texts(body)), ctx.lang)
    if keys:
        refs = [Entry(bib.entry_runs(k, ctx.lang), bib.doi_url(k)) for k in keys]
        body.append(_section("references", words.text("sec_references"), [Block("refs", items=refs)]))
    return Article(lang=ctx.lang, title=title(ctx), identity=identity(ctx), abstracts=abstracts, sections=body)


def _section(key: str, heading: str, blocks: list[Block]) -> Section:
    return Section(key=key, number=0, title=heading, blocks=[b for b in blocks if b is not None])


def title(ctx: Context) -> str:
    """The study's title when it has at most :data:`TITLE_WORDS` words, else the catalogue's title
    naming the village (cut to the limit only as a last resort, and marked for the team)."""
    study, words = ctx.study, ctx.words
    if words_in(study.title) <= TITLE_WORDS:
        return str(study.title)
    made = words.text("art_title" if ctx.shape.umkm else "art_title_gen", site=study.site)
    if words_in(made) <= TITLE_WORDS:
        return made
    return " ".join(made.split()[:TITLE_WORDS - 1]) + " …"


def identity(ctx: Context) -> list[tuple[str, str]]:
    """(label, value) of the identity block: team, institution, program and year, each when known."""
    study, words = ctx.study, ctx.words
    year = study.report.year
    if year is None and ctx.manifest:
        year = str(ctx.manifest.get("created", ""))[:4] or None
    lines = [(words.text("docx_team"), study.report.team), (words.text("docx_institution"),
                                                             study.institution_name(ctx.lang)),
             (words.text("docx_program"), study.program_name(ctx.lang)),
             (words.text("docx_year"), str(year) if year else None)]
    return [(k, str(v)) for k, v in lines if v]


# ---------------------------------------------------------------------------------------------
# the abstract
# ---------------------------------------------------------------------------------------------

def participants(ctx: Context) -> str:
    """``48 peserta (Lokal n = 30; Pendatang n = 18)`` at the first wave with answers, from the
    sample table's cells; empty without ``sample.csv``."""
    words, shape = ctx.words, ctx.shape
    sample = ctx.inputs("sample.csv")
    if sample is None or not len(sample) or not shape.data_waves:
        return ""
    first = sample[sample["wave"].astype(str) == str(shape.data_waves[0])]
    alls = first[first["group"] == "all"]
    if not len(alls):
        return ""
    groups = [f"{words.group(r['group'])} n = {words.integer(r['n'])}"
              for g in shape.present_levels for _, r in first[first["group"] == g].iterrows()]
    return words.text("art_participants", n=words.integer(alls["n"].iloc[0]), wave=words.wave(shape.data_waves[0]),
                      groups="; ".join(groups) if len(groups) > 1 else words.text("art_one_group"))


def design(ctx: Context) -> str:
    """The design in one sentence: baseline only, one group before/after, comparison villages,
    or several villages."""
    study, shape, words = ctx.study, ctx.shape, ctx.words
    try:
        arms = study.site_arms(shape.sites)
    except Exception:  # noqa: BLE001 - an inconsistent arms key: the report says so; here no design claim
        arms = {}
    waves = ", ".join(words.wave(w) for w in shape.data_waves)
    if shape.one_wave:
        return words.text("art_design_one_wave", wave=waves)
    if "comparison" in arms.values():
        return words.text("art_design_comparison", waves=waves)
    if shape.n_sites > 1:
        return words.text("art_design_villages", n=words.integer(shape.n_sites), waves=waves)
    return words.text("art_design_prepost" if shape.umkm else "art_design_prepost_gen", waves=waves)


#: each context's summary findings, made once (the abstract, results and conclusion all quote them)
_FOUND: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _findings(ctx: Context) -> list[Finding]:
    """The report summary's findings, in its order (scales, gaps, networks)."""
    if ctx not in _FOUND:
        try:
            blocks = summary.section(ctx)
        except Exception:  # noqa: BLE001 - summary.Unavailable: no findings to quote
            blocks = []
        _FOUND[ctx] = [f for b in blocks if b.kind == "list" for f in b.items if isinstance(f, Finding)]
    return list(_FOUND[ctx])


def main_findings(ctx: Context) -> list[Finding]:
    """The findings an abstract quotes: each scale for everyone (not a subscale), then the network."""
    found = _findings(ctx)
    scales = [f for f in found if f.attrs.get("kind") == "scale" and f.attrs.get("group") == "all"
              and not f.attrs.get("why") and f.attrs.get("dimension") in set(ctx.shape.top_dims())]
    if not scales:  # one wave: the baseline levels
        scales = [f for f in found if f.attrs.get("kind") not in ("ei", "change", "no-ties", "gap")][:3]
    nets = [f for f in found if f.attrs.get("kind") in ("change", "no-ties")]
    return scales + nets


def abstract(ctx: Context) -> Abstract:
    """The abstract in ``ctx``'s language: aim, participants, design, analysis, the main findings
    (as many as fit :data:`ABSTRACT_WORDS`), and how to read them."""
    words = ctx.words
    program = ctx.study.program_name(ctx.lang) or words.text("art_program_unnamed")
    head = [words.text("art_abs_aim" if ctx.shape.umkm else "art_abs_aim_gen", program=program,
                       site=ctx.study.site), participants(ctx), design(ctx), words.text("art_abs_analysis")]
    tail = words.text("art_abs_reading")
    parts = [p for p in head if p]
    budget = ABSTRACT_WORDS[1] - words_in(" ".join(parts)) - words_in(tail)
    for f in main_findings(ctx):
        if words_in(f.text) <= budget:
            parts.append(f.text)
            budget -= words_in(f.text)
    text = " ".join(parts + [tail])
    keys = [k.strip() for k in words.text("art_keywords" if ctx.shape.umkm else "art_keywords_gen").split(";")]
    return Abstract(ctx.lang, words.text("art_abstract"), text, words.text("art_keywords_label"), keys)


# ---------------------------------------------------------------------------------------------
# the body
# ---------------------------------------------------------------------------------------------

def _pick(ctx: Context, sections: list[Section]) -> dict[str, Block]:
    """The report's table and figure blocks the article prints, by key (the first
    :data:`MAX_TABLES` tables and :data:`MAX_FIGURES` figures of the preference lists), each table
    cut to its :data:`SLICES` columns and top-level rows; numbered in the article's order."""
    tables = {b.table.key: b.table for sec in sections for b in sec.blocks if b.table is not None}
    figs = {b.figure.key: b.figure for sec in sections for b in sec.blocks if b.figure is not None}
    keys = [k for k in TABLE_KEYS if k in tables][:MAX_TABLES]
    made = {k: sliced(ctx, tables[k]) for k in keys}
    out = {k: Block("table", table=t) for k, t in made.items() if len(t.display)}
    out |= {f"fig:{k}": Block("figure", figure=replace(figs[k])) for k in figure_keys(sections)}
    return out


def sliced(ctx: Context, table: Table) -> Table:
    """A copy of the report's ``table`` with the columns of :data:`SLICES` and the rows of the
    top-level dimensions (the cells unchanged: the same strings the report prints)."""
    spec = SLICES.get(table.key)
    d = table.display
    if spec is None:
        return replace(table)
    wanted = {ctx.words.study_text(h) for h in spec}
    cols = [j for j, h in enumerate(d.columns) if h in wanted]
    rows = d.index == d.index
    dim = ctx.words.study_text("dimension")
    if dim in d.columns:
        tops = {ctx.words.dimension(x) for x in ctx.shape.top_dims()}
        shown = d[dim].where(d[dim].astype(str) != "").ffill()  # a repeat shown blank is still its dimension
        rows = shown.isin(tops).to_numpy()
    note = ctx.words.text(NOTES[table.key]) if table.key in NOTES else "" if table.key in NOTELESS else table.note
    return replace(table, display=d.iloc[rows, cols].reset_index(drop=True),
                   align=[table.align[j] for j in cols], note=note)


def _renumber(blocks: list[Block]) -> None:
    """Number the article's tables and figures 1, 2, … in the order they are printed."""
    nt = nf = 0
    for b in blocks:
        if b.table is not None:
            nt += 1
            b.table.number = nt
        if b.figure is not None:
            nf += 1
            b.figure.number = nf


def _todo(ctx: Context, key: str) -> Block:
    """A marked place the team fills in (never invented text); a study that is not about UMKM
    gets the general wording where there is one (``<key>_gen``)."""
    words = ctx.words
    return Block("todo", words.text(key if ctx.shape.umkm or not words.has(f"{key}_gen") else f"{key}_gen"))


def _intro(ctx: Context, picked: dict[str, Block]) -> list[Block]:
    words = ctx.words
    blocks = [_todo(ctx, "art_todo_situation")]
    facts = [participants(ctx)]
    facts = [t for t in facts if t]
    if facts:
        blocks.append(Block("p", words.text("art_intro_baseline") + " " + " ".join(facts)))
    blocks += [_todo(ctx, "art_todo_problem"),
               Block("p", words.text("art_intro_concept" if ctx.shape.umkm else "art_intro_concept_gen")),
               _todo(ctx, "art_todo_solution")]
    return blocks


def _method(ctx: Context, picked: dict[str, Block]) -> list[Block]:
    words, study, shape = ctx.words, ctx.study, ctx.shape
    sites = ", ".join(shape.sites) if shape.n_sites > 1 else str(study.site)
    waves = ", ".join(words.wave(w) for w in shape.waves)
    blocks = [Block("p", words.text("art_method_where", site=sites, waves=waves) + " " + participants(ctx)),
              *stages(ctx), Block("p", design(ctx))]
    if not shape.no_scales:
        blocks.append(Block("p", words.text("art_method_instrument", range=ctx.ranges_text())))
    if not shape.no_ties:
        blocks.append(Block("p", words.text("art_method_network")))
    blocks.append(Block("p", words.text("art_method_analysis")))
    for key in ("sample", "reliability"):
        if key in picked:
            blocks.append(picked[key])
    return blocks


def stages(ctx: Context) -> list[Block]:
    """The program's stages from the study's ``report.stages`` (name, date, description, in the
    article's language) as a list under one sentence; without them, the marked place for the team."""
    listed = ctx.study.stages_in(ctx.lang)
    if not listed:
        return [_todo(ctx, "art_todo_stages")]
    items = [name + (f" ({date})" if date else "") + (f": {text}" if text else "") for name, date, text in listed]
    return [Block("p", ctx.words.text("art_stages_intro")), Block("list", items=items)]


def _results(ctx: Context, sections: list[Section], picked: dict[str, Block]) -> list[Block]:
    words = ctx.words
    found = _findings(ctx)
    blocks: list[Block] = []
    tops = set(ctx.shape.top_dims())
    scales = [f for f in found if f.attrs.get("kind") == "scale" and f.attrs.get("dimension") in tops
              and not f.attrs.get("why")]
    if ctx.shape.one_wave:  # the baseline levels
        scales = [f for f in found if f.attrs.get("kind") not in ("ei", "change", "no-ties", "gap")]
    nets = [f for f in found if f.attrs.get("kind") in ("change", "no-ties")]
    if scales:
        blocks += [Block("h3", words.text("art_results_scales")), Block("list", items=scales)]
    blocks += [picked[k] for k in ("paired_statistics", "paired_test", "effect_sizes") if k in picked]
    blocks += [picked[k] for k in ("fig:change_forest", "fig:dumbbell", "fig:distributions") if k in picked]
    if nets:
        blocks += [Block("h3", words.text("art_results_network")), Block("list", items=nets)]
    blocks += [picked[k] for k in ("network_whole", "network_change") if k in picked]
    blocks += [picked[k] for k in ("fig:cross_share", "fig:group_ties") if k in picked]
    blocks.append(Block("note", words.text("summary_howto", alpha=words.number(ctx.shape.alpha, 2),
                                           min=words.number(ctx.shape.min_effect, 2))))
    blocks.append(_todo(ctx, "art_todo_discussion"))
    return blocks


def _conclusion(ctx: Context) -> list[Block]:
    """How many of the main findings are confirmed, uncertain or untestable, in words; the
    design's limit; and the team's place for recommendations."""
    words, shape = ctx.words, ctx.shape
    scales = [f for f in main_findings(ctx) if f.attrs.get("kind") == "scale"]
    blocks = []
    if scales and not shape.one_wave:
        sig = [words.dimension(f.attrs["dimension"]) for f in scales if f.attrs.get("verdict") == "sig"
               and f.attrs.get("size") != "negligible"]
        rest = [words.dimension(f.attrs["dimension"]) for f in scales if f.attrs.get("verdict") != "sig"
                or f.attrs.get("size") == "negligible"]
        if sig:
            blocks.append(Block("p", words.text("art_concl_sig", dims=words.join(sig))))
        if rest:
            blocks.append(Block("p", words.text("art_concl_unsure", dims=words.join(rest))))
    elif shape.one_wave:
        blocks.append(Block("p", words.text("art_concl_one_wave")))
    if not shape.one_wave:
        blocks.append(Block("p", words.text("art_concl_caveat" if shape.umkm else "art_concl_caveat_gen")))
    blocks.append(_todo(ctx, "art_todo_recommend"))
    return blocks
