"""The report stage: processed tables → ``reports/<study>/report.html`` (+ figures, tables, exports, docx).

:func:`build` reads what the earlier stages wrote to ``data/processed/<study>/`` and writes, under
``reports/<study>/``:

=========================  ==================================================================
``report.html``            one self-contained page (CSS inline, figures as base64 PNG, no
                           scripts, fonts or links to fetch), Bahasa Indonesia or English
``report.docx``            the same sections, tables and figures as a Word document
``artikel.docx``           the journal article draft in Indonesian, and ``article.docx`` in
``article.docx``           English, whatever the report's language: the report's tables, figures
                           and findings in a PKM journal's structure
``figures/*.png, *.svg``   every figure (PNG 150 dpi and SVG), deterministic across reruns
``tables/*.csv``           every table of the report; ``tables/tables.xlsx`` one sheet each
``exports/scores.sav/dta`` one row per respondent × wave, scores + covariates, with variable
                           and value labels (SPSS / Stata)
``exports/network/``       GraphML, GEXF and RSiena files (from :mod:`pipeline.analysis.network`)
=========================  ==================================================================

The whole set is written into a temporary folder beside ``reports/<study>/`` and swapped in at
the end: a failed build leaves the previous complete set (or none), and files of what the study no
longer has (a removed tie type) do not survive a rebuild. Texts with control characters (pasted
from Word) are refused before anything is written. A study with one wave that has answers gets a
baseline report saying so; a study without scale items, a report on its sample and networks.

A section whose input file is missing is left out with a note ("bagian ini belum tersedia: …"),
never filled with invented numbers. The report is assembled as a list of :class:`Section` objects
made of :class:`Block` s (paragraph, note, list of findings, table, figure); the HTML template and
the Word writer render the same list.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from ..analysis.network import analysed_tie_types, build_graphs
from ..errors import SinergiError
from ..io import umask, write_bytes, write_text
from . import figures, spread
from . import text as rt
from .article import ARTICLE_LANGUAGES, article_name, assemble_article, figure_keys
from .article_docx import write_article
from .context import Context, read_context
from .docx import Cover, write_docx
from .exports import (by_wave, data_time, measures_and_formats, safe_name, wide_scores, with_items,
                      write_spss_stata, write_tables)
from .handout import write_handouts
from .html import render_html
from .model import Section
from .numbering import Numbering
from .network_export import readme_text, write_exports
from .pdf import print_pdf
from .sections import assemble_sections
from .villages import Villages, move_out, network_files, start_villages

__all__ = ["build", "assemble", "write_outputs", "articles"]


def assemble(study: Any, language: str | None = None) -> tuple[Context, list[Section]]:
    """Read the processed files (the edge) and build the report model; no file is written."""
    ctx = _read(study, language)
    return ctx, _sections(ctx)


def _read(study: Any, language: str | None) -> Context:
    """The report's context in ``language`` (default: the study's): every processed file read."""
    lang = language or study.language
    if lang not in rt.LANGUAGES:
        raise SinergiError(f"report language {lang!r}: allowed {', '.join(rt.LANGUAGES)}")
    figures.setup(lang)
    return read_context(study, lang)


def _sections(ctx: Context) -> list[Section]:
    """The report's sections; a district's per-village tables moved out to villages/."""
    sections = assemble_sections(ctx)
    move_out(ctx, sections)
    return sections


def build(study: Any, language: str | None = None) -> Path:
    """Write every report output for ``study``; returns the path of report.html.

    The whole output set is built fresh in a temporary folder beside ``reports/<study>/`` and
    then swapped in for the previous set, so a failure leaves the previous complete set (and no
    mixture), and outputs of what the study no longer has (a removed tie type, a dropped table)
    do not linger.

    Parameters
    ----------
    study : pipeline.config.Study
    language : "id" | "en", optional
        Overrides ``study.language``.

    Raises
    ------
    SinergiError
        A text of the study file, or a value shown in the report, holds a control character
        (often pasted from Word) that XLSX, DOCX and HTML cannot carry; nothing is written.
    """
    ctx = _read(study, language)
    villages = start_villages(ctx)  # the village pages render in the pool (or cluster) beside the sections
    sections = _sections(ctx)
    check_texts(study, ctx, sections)
    out = Path(study.report_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        os.chmod(tmp, 0o777 & ~umask())
        write_outputs(ctx, sections, tmp, villages)
        _swap(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out / "report.html"


def write_outputs(ctx: Context, sections: list[Section], out: Path, villages: Villages | None = None) -> None:
    """Write report.html, report.docx, figures/, tables/, exports/ and villages/ into the folder
    ``out``; ``villages``: the village pages already started (:func:`start_villages`), else they
    are started here."""
    villages = villages if villages is not None else start_villages(ctx)
    study, words = ctx.study, ctx.words
    when = data_time(ctx.manifest)  # documents dated by the raw data, not the clock
    for f in ctx.numbering.figures:
        write_bytes(out / "figures" / f"{f.number:02d}_{f.key}.png", f.png)
        write_text(out / "figures" / f"{f.number:02d}_{f.key}.svg", f.svg)
    if ctx.numbering.tables:
        write_tables(ctx.numbering.tables, out / "tables", ctx.lang, when)
    _score_exports(ctx, out / "exports", when)
    if network_files(ctx):  # a district of more than 6 villages: only with report.network_files
        _network_exports(ctx, out / "exports" / "network", when.strftime("%Y-%m-%d"))
    write_docx(out / "report.docx", title=study.title, sections=sections, lang=ctx.lang, when=when,
               cover=_cover(ctx, when), paginate=bool(study.report.pdf))
    for art in articles(ctx, sections):
        write_article(out / article_name(art.lang), art, when=when)
    handouts = write_handouts(ctx, out)
    write_text(out / "report.html", render_html(ctx, sections))
    villages.write(out)  # last: the pages had the rest of the stage to render
    if study.report.pdf:  # printed copies (headless Chromium; skipped with a note without it)
        for page in [out / "report.html", *handouts]:
            print_pdf(page, page.with_suffix(".pdf"), when)


def articles(ctx: Context, sections: list[Section]) -> list:
    """The article draft in every language of :data:`ARTICLE_LANGUAGES`: the report's language
    from its own sections; each other language from the same processed tables assembled again in
    that language, drawing only the figures the article prints (with that language's words and
    decimal separator), then the figures set back to the report's language."""
    others = {}
    for lang in (x for x in ARTICLE_LANGUAGES if x != ctx.lang):
        others[lang] = _article_context(ctx, lang, figure_keys(sections))
    out = []
    for lang in ARTICLE_LANGUAGES:
        here, secs = (ctx, sections) if lang == ctx.lang else others[lang]
        other = ctx if lang != ctx.lang else next((c for c, _ in others.values()), None)
        out.append(assemble_article(here, secs, other=other))
    return out


def _article_context(ctx: Context, lang: str, figures_wanted: list[str]) -> tuple[Context, list[Section]]:
    """``ctx``'s study in ``lang`` (the same inputs, nothing read again) and its sections, with only
    ``figures_wanted`` drawn (PNG only)."""
    other = Context(ctx.study, lang, ctx.inputs, manifest=ctx.manifest, key_fingerprint=ctx.key_fingerprint,
                    instrument=ctx.instrument, provenance=ctx.provenance)
    other.numbering = Numbering(other.words, only=figures_wanted, svg=False)
    figures.setup(lang)
    try:
        sections = assemble_sections(other)
        move_out(other, sections)
    finally:
        figures.setup(ctx.lang)
    return other, sections


def _cover(ctx: Context, when: Any) -> Cover:
    """The Word report's cover: the kind of report, then program, team, institution, village,
    waves and year (``report.year``, else the year of the raw data), each only when known."""
    study, words = ctx.study, ctx.words
    lines = [(words.text("docx_program"), study.program_name(ctx.lang)), (words.text("docx_team"), study.report.team),
             (words.text("docx_institution"), study.institution_name(ctx.lang)), (words.text("site"), study.site),
             (words.text("waves"), ", ".join(words.wave(w) for w in ctx.shape.waves)),
             (words.text("docx_year"), str(study.report.year or when.year))]
    return Cover(kicker=words.study_text("report"), lines=[(k, v) for k, v in lines if v])


def _score_exports(ctx: Context, outdir: Path, when) -> None:
    """The SPSS and Stata files: ``scores`` (one row per respondent × wave) and ``scores_wide``
    (one row per respondent); nothing without respondents and scores."""
    study, inputs = ctx.study, ctx.inputs
    resp = inputs("respondents.parquet")
    if resp is None and not inputs.has("scores.csv"):
        return
    # the large tables a batch at a time (scores and network positions as codes, the answers a few villages each)
    if resp is not None and len(resp):
        scores = inputs.csv_batches("scores.csv", ["respondent_id", "wave", "dimension", "score"])
    else:  # no respondents: the rows come from the scores (whole, as codes)
        scores = inputs.compact("scores.csv", ["respondent_id", "wave", "group", "site", "dimension", "score"])
    df, labels, values = wide_scores(resp, scores, inputs.csv_batches("network_nodes.csv", NODE_COLUMNS), study,
                                     ctx.lang, inst=ctx.instrument, labels=ctx.labels)
    order = df.attrs.pop("dimensions", [])
    answers = inputs.batches("responses.parquet", ["respondent_id", "wave", "item", "value"]) \
        if inputs.has("responses.parquet") else None
    df, items = with_items(df, labels, answers, inputs("scale_map.parquet"), study, ctx.lang, ctx.labels, values)
    if "submitted_at" in df:
        df["submitted_at"] = pd.to_datetime(df["submitted_at"].replace("", None), errors="coerce")
    dims = [c for c in dict.fromkeys(safe_name(d) for d in order) if c in df.columns]
    measure, fmt = measures_and_formats(df, values, items, dims)
    small = spread.listed(ctx)  # a district of many villages: the .sav files compressed, as SPSS saves them
    write_spss_stata(df, labels, values, outdir, when, measures=measure, formats=fmt, compress=not small)
    keep = dims + items + [c for c in df.columns if c.startswith("net_")]
    wide, wlabels, wvalues = by_wave(df, labels, values, study, ctx.lang, keep)
    src = wide.attrs["source"]
    measure, fmt = measures_and_formats(wide, wvalues, [c for c, o in src.items() if o in items],
                                        [c for c, o in src.items() if o in dims])
    write_spss_stata(wide, wlabels, wvalues, outdir, when, stem="scores_wide", measures=measure, formats=fmt,
                     compress=not small)


#: the columns of network_nodes.csv the score exports use
NODE_COLUMNS = ["respondent_id", "wave", "tie_type", "degree", "bridging", "ei"]


def _swap(new: Path, out: Path) -> None:
    """Put the folder ``new`` in place of ``out`` (two renames); the old set is removed after."""
    old = out.with_name(f".{out.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        os.replace(out, old)
    try:
        os.replace(new, out)
    except OSError:
        if old.exists() and not out.exists():
            os.replace(old, out)  # put the previous set back
        raise
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def _remove_leftovers(out: Path) -> None:
    """Remove the temporary folders a killed build left beside ``out``."""
    for p in out.parent.glob(f".{out.name}.*"):
        if p.is_dir() and (p.name.endswith(".tmp") or p.name.endswith(".old")):
            if p.name.endswith(".old") and not out.exists():
                os.replace(p, out)  # killed between the two renames: the previous set is still whole
                continue
            shutil.rmtree(p, ignore_errors=True)


#: characters that XML 1.0 (XLSX, DOCX) cannot hold; openpyxl refuses them in cells
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _control(text: Any) -> str | None:
    """``"U+000B at position 6"`` for the first control character in ``text``, else None."""
    if not isinstance(text, str):
        return None
    m = CONTROL_CHARS.search(text)
    return f"U+{ord(m.group()):04X} at position {m.start() + 1}" if m else None


def check_texts(study: Any, ctx: Context, sections: list[Section]) -> None:
    """Refuse, before anything is written, a text with a control character (pasted from Word?).

    The study file's texts (title, site, wave and group labels) are named by their key; any
    other text of the report (a value from the data, shown in a table) by its table or section.

    Raises
    ------
    SinergiError
        Naming the first such text: its study key, its column of ``respondents.parquet``, or
        its table or section.
    """
    for key, text in _study_texts(study):
        where = _control(text)
        if where:
            raise SinergiError(f"study file: {key} = {text!r} has a control character ({where}), often pasted "
                               "from Word; retype that text in the study file. Nothing was written")
    resp = ctx.inputs("respondents.parquet")  # its texts go into the SPSS, Stata and network files
    for col in resp.columns if resp is not None else []:
        if resp[col].dtype == object or pd.api.types.is_string_dtype(resp[col]):
            for value in resp[col].dropna().unique():
                where = _control(value)
                if where:
                    raise SinergiError(f"{ctx.inputs.path('respondents.parquet')}: column {col} value {value!r} has "
                                       f"a control character ({where}); fix it in the source data, then run `make "
                                       "pull` and `make report` again. Nothing was written")
    for sec in sections:
        for block in sec.blocks:
            for text in _block_texts(block):
                where = _control(text)
                if where:
                    what = f"table '{block.table.key}'" if block.table is not None else f"section '{sec.key}'"
                    raise SinergiError(f"report {what}: the value {text!r} has a control character ({where}); "
                                       "fix it in the data (or the study file) and rerun. Nothing was written")


def _study_texts(study: Any) -> list[tuple[str, Any]]:
    """(study key, text) of every text of the study file the report shows, in both languages."""
    keys: list[tuple[str, Any]] = [("title", study.title), ("site", study.site), ("report.team", study.report.team)]
    for lang in ("id", "en"):
        keys += [("report.program", study.program_name(lang)), ("report.institution", study.institution_name(lang))]
    for lang in ("id", "en"):
        for i, stage in enumerate(study.stages_in(lang)):
            keys += [(f"report.stages[{i}].{k}", v) for k, v in zip(("name", "date", "description"), stage)]
    for i, w in enumerate(study.waves):
        for lang in ("id", "en"):
            keys.append((f"waves[{i}].label", study.wave_label(w.id, lang)))
    for i, lvl in enumerate(study.group.levels):
        for lang in ("id", "en"):
            keys.append((f"group.levels[{i}].label", study.group_label(lvl.value, lang)))
    return keys


def _block_texts(block: Any) -> list[Any]:
    """Every text of a block: its text, items, caption, and a table's title, note, headers and cells."""
    texts = [block.text] + [getattr(i, "text", i) for i in block.items]
    if block.figure is not None:
        texts.append(block.figure.caption)
    if block.table is not None:
        tab = block.table
        texts += [tab.title, tab.note, *map(str, tab.display.columns)]
        texts += [v for col in tab.display.columns for v in tab.display[col]]
    return texts


def _network_exports(ctx: Context, outdir: Path, date: str | None = None) -> bool:
    """GraphML/GEXF/RSiena files via pipeline.analysis.network; False (and nothing written) without
    inputs or without networks (no tie types, or no ties at all: no empty graph files)."""
    resp, ties, nodes = ctx.inputs("respondents.parquet"), ctx.inputs("ties.parquet"), ctx.inputs("network_nodes.csv")
    if resp is None or ties is None or nodes is None or not len(nodes):
        return False
    graphs = build_graphs(resp, ties, analysed_tie_types(ctx.study.tie_types, ties))
    shape = ctx.shape
    positions = figures.site_positions(graphs, list(shape.waves), list(shape.levels), int(ctx.study.analysis.seed))
    write_exports(graphs, nodes, outdir, waves=ctx.study.wave_ids, date=date, ties=ties,
                  readme=_readme(ctx, resp, ties), positions=positions, colors=figures.group_palette(list(shape.levels)))
    return True


def _readme(ctx: Context, resp: pd.DataFrame, ties: pd.DataFrame) -> str:
    """``exports/network/README.md`` in the report language, naming this study's sites, waves, tie
    types and groups."""
    words, shape = ctx.words, ctx.shape
    sites = sorted(resp["site"].dropna().astype(str).unique()) if "site" in resp else [str(ctx.study.site)]
    weights = "weight" in ties and pd.to_numeric(ties["weight"], errors="coerce").notna().any()
    return readme_text(ctx.lang, title=ctx.study.title, sites=sites,
                       waves=[(w, words.wave(w)) for w in shape.data_waves],
                       tie_types=[(t, words.tie(t)) for t in shape.tie_types],
                       groups=[(g, words.group(g)) for g in shape.present_levels], weights=bool(weights),
                       villages=shape.umkm)
