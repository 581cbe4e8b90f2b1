"""Per-village detail of a district study: ``reports/<id>/villages/``.

A study of many villages keeps a bounded main report: the tables with one row per village × wave
× tie type (network measures, groups, change, brokerage, roster coverage) are moved out of it
(:func:`move_out`, above :data:`INLINE_MAX` villages) into one page per village,
``villages/<site>.html`` (the village's change per dimension against the pooled change, its
networks, groups, change between waves, brokerage and coverage), listed in ``villages/index.html``;
the complete tables are also ``villages/<table>.csv`` (one row per village × …, UTF-8 with BOM as
``tables/``). Pages are rendered from the processed tables with the report's template, no figures.

The pages are per-village jobs (:func:`start_villages`): batches of villages, each job given only its
villages' rows of the tables a page shows, run through :func:`pipeline.parallel.map_sites` (the local
process pool, serially, or on a Dask cluster) and started beside the report's own work, so the pages
of 200 villages (≈ 10 s of CPU, 45 ms a page) do not lengthen the stage on two cores. Each page is
the same whichever worker rendered it: it depends only on the village's rows and the study.
"""

from __future__ import annotations

import functools
import html
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from ..io import write_bytes, write_text
from ..parallel import map_sites_beside, scheduler_from
from ..partitions import batches
from .columns import Column, Fmt
from .context import Context, Inputs
from .html import TEMPLATES
from .model import Block, Section
from .text import STRINGS

__all__ = ["INLINE_MAX", "PER_VILLAGE", "move_out", "write_villages", "start_villages", "render_pages",
           "network_files"]

#: with more villages than this, the per-village tables leave the main report for villages/
INLINE_MAX = 6
#: the report's tables that have one row per village × …
PER_VILLAGE = ("network_whole", "network_ei", "network_groups", "network_change", "brokerage", "coverage")
#: the processed tables a village page shows, filtered to the village
_SOURCES = ("district_sites.csv", "network_whole.csv", "network_groups.csv", "network_change.csv",
            "brokerage.csv", "network_coverage.csv")

TIE_WAVE = [Column("tie_type", "tie_type", Fmt.TIE), Column("wave", "wave", Fmt.WAVE)]
CHANGE_COLUMNS = [
    Column("dimension", "dimension", Fmt.DIMENSION), Column("wave_post", "wave", Fmt.WAVE),
    Column("n_pairs", "c_n_pairs", Fmt.INT)]
CHANGE_TAIL = [
    Column("diff", "c_village_change", Fmt.N2), Column(("ci_low", "ci_high"), "ci95", Fmt.CI2),
    Column("pooled", "c_pooled_change", Fmt.N2), Column("p_dev", "c_p_dev", Fmt.P),
    Column("p_dev_holm", "c_p_holm", Fmt.P)]
NETWORK_COLUMNS = [
    *TIE_WAVE, Column("n_nodes", "c_nodes", Fmt.INT), Column("n_ties", "c_ties", Fmt.INT),
    Column("density", "c_density", Fmt.N3), Column("reciprocity", "c_reciprocity_edge", Fmt.N2),
    Column("transitivity", "c_transitivity", Fmt.N2), Column("ei", "c_ei", Fmt.N2),
    Column("ei_expected", "c_ei_exp", Fmt.N2), Column("ei_p", "c_ei_p", Fmt.P),
    Column(("assortativity", "assortativity_se"), "c_assort", Fmt.PM2),
    Column("modularity_group", "c_modularity", Fmt.N2)]
GROUP_COLUMNS = [
    *TIE_WAVE, Column("group", "group", Fmt.GROUP), Column("n", "c_n", Fmt.INT),
    Column("ties_internal", "c_ties_internal", Fmt.INT), Column("ties_external", "c_ties_external", Fmt.INT),
    Column("ei", "c_ei_both", Fmt.N2)]
NETWORK_CHANGE_COLUMNS = [
    Column("tie_type", "tie_type", Fmt.TIE), Column(("wave_pre", "wave_post"), "wave", Fmt.WAVES),
    Column("kept", "c_kept", Fmt.INT), Column("new_within", "c_new_within", Fmt.INT),
    Column("new_between", "c_new_between", Fmt.INT), Column("dropped_within", "c_dropped_within", Fmt.INT),
    Column("dropped_between", "c_dropped_between", Fmt.INT), Column("jaccard", "c_jaccard", Fmt.N2),
    Column("delta_ei", "c_delta_ei", Fmt.N2), Column("delta_ei_p", "c_delta_ei_p", Fmt.P)]
BROKERAGE_COLUMNS = [
    Column("wave", "wave", Fmt.WAVE), Column("role", "c_role", Fmt.CODE, code="role"),
    Column("observed", "c_observed", Fmt.INT), Column("expected", "c_expected_n", Fmt.N1), Column("z", "c_z", Fmt.N2)]
COVERAGE_COLUMNS = [
    Column("wave", "wave", Fmt.WAVE), Column("coverage", "cov_c_cov", Fmt.SHARE),
    Column("n_nonrespondents", "cov_c_non", Fmt.INT)]

#: (file, table key, title, columns, order) of a village's network tables
VILLAGE_TABLES = (
    ("network_whole.csv", "village_network", "t_whole", NETWORK_COLUMNS, ("tie_type", "wave")),
    ("network_groups.csv", "village_groups", "t_groups", GROUP_COLUMNS, ("tie_type", "wave", "group")),
    ("network_change.csv", "village_network_change", "t_change", NETWORK_CHANGE_COLUMNS, ("tie_type", "wave_post")),
    ("brokerage.csv", "village_brokerage", "t_brokerage", BROKERAGE_COLUMNS, ("wave",)),
    ("network_coverage.csv", "village_coverage", "t_coverage", COVERAGE_COLUMNS, ("wave",)))
#: each village table's sort order: the whole table is put in the study's order once (a stable sort:
#: each village's rows are then in the order sorting them alone gives), not 200 small sorts
ORDERS = {name: order for name, _, _, _, order in VILLAGE_TABLES}
#: the files whose rows a village page shows for the union of the tie types only (when they have it)
ANY_TIES_ONLY = ("network_groups.csv", "brokerage.csv", "network_coverage.csv")


def network_files(ctx: Context) -> bool:
    """Whether the report writes exports/network/: the study's ``report.network_files``, by default
    yes up to :data:`INLINE_MAX` villages (a district of 200 villages: 1,600 graphs, 1.3 GB, most of
    the report stage's time)."""
    chosen = getattr(ctx.study.report, "network_files", None)
    return bool(chosen) if chosen is not None else ctx.shape.n_sites <= INLINE_MAX


def move_out(ctx: Context, sections: list[Section]) -> list[str]:
    """Replace the per-village tables of ``sections`` by a note naming villages/ (in place) when the
    study has more than :data:`INLINE_MAX` villages; renumber the remaining tables. Returns the
    keys moved."""
    words, k = ctx.words, ctx.shape.n_sites
    if not network_files(ctx):  # say so where the report names the files
        written = words.text("exports_written")
        for sec in sections:
            sec.blocks = [Block("note", words.text("network_files_skipped", k=k))
                          if b.kind == "p" and b.text == written else b for b in sec.blocks]
    if k <= INLINE_MAX:
        return []
    moved = []
    for sec in sections:
        blocks = []
        for b in sec.blocks:
            if b.kind == "table" and b.table is not None and b.table.key in PER_VILLAGE:
                moved.append(b.table.key)
                ctx.numbering.drop(b.table)
                rows = f"{len(b.table.display):,}".replace(",", "." if ctx.lang == "id" else ",")
                blocks.append(Block("note", words.text("village_table_moved", title=b.table.title, rows=rows)))
            else:
                blocks.append(b)
        sec.blocks = blocks
    return moved


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("._") or "site"


def write_villages(ctx: Context, out: Path, scheduler: str | None = None) -> list[Path]:
    """Write ``villages/index.html``, one page per village and the per-village CSVs into ``out``
    (nothing for a one-village study); the pages are rendered by per-village jobs
    (:func:`start_villages`)."""
    return start_villages(ctx, scheduler).write(out)


class Villages:
    """The village pages under way (:func:`start_villages`): :meth:`write` waits for them and writes
    ``villages/``."""

    def __init__(self, ctx: Context, frames: dict[str, pd.DataFrame], rows: list[tuple[str, str, int]],
                 pending: Any):
        self.ctx, self.frames, self.rows, self.pending = ctx, frames, rows, pending

    def write(self, out: Path) -> list[Path]:
        """Write the pages, ``villages/index.html`` and the complete per-village CSVs into ``out``;
        returns the pages' paths (in the order of the villages)."""
        if self.pending is None:
            return []
        folder = out / "villages"
        written = []
        for batch in self.pending.result():
            for name, page in batch:
                path = folder / f"{name}.html"
                write_bytes(path, zlib.decompress(page))
                written.append(path)
        write_text(folder / "index.html", _index(self.ctx, self.rows))
        for name, df in self.frames.items():  # the complete per-village tables
            write_bytes(folder / name, df.to_csv(index=False, lineterminator="\n").encode("utf-8-sig"))
        return written


def start_villages(ctx: Context, scheduler: str | None = None) -> Villages:
    """Start rendering the village pages, beside this process's own work; :meth:`Villages.write`
    writes them.

    The pages are rendered by jobs of a batch of villages each (:func:`pipeline.partitions.batches`),
    run where ``scheduler`` says (default: the study's, :func:`pipeline.parallel.scheduler_from`;
    :func:`pipeline.parallel.map_sites_beside`: the pool or the cluster works while this process
    assembles the report). Each job receives only its villages' rows of the tables a page shows
    (:data:`_SOURCES`, each filtered and put in the study's order once here, :func:`_page_rows`) and
    returns its pages, compressed; this process keeps the index (each village's page name and
    number of respondents) and the complete tables.
    """
    if ctx.shape.n_sites < 2:
        return Villages(ctx, {}, [], None)
    frames = {name: ctx.inputs(name) for name in _SOURCES}
    frames = {k: v for k, v in frames.items() if v is not None and len(v) and "site" in v}
    shown = {k: _page_rows(ctx, k, v) for k, v in frames.items()}
    resp = ctx.inputs("respondents.parquet")  # respondents per village, counted once (not a scan per village)
    people = resp.drop_duplicates(["site", "respondent_id"])["site"].astype(str).value_counts()
    used, rows = {}, []
    for site in ctx.shape.sites:
        name = _safe(site)
        if name in used:  # "Desa A" and "Desa_A"
            name = f"{name}-{len(used)}"
        used[name] = site
        rows.append((site, name, int(people.get(site, 0))))
    site_rows = {k: _rows_by_site(v) for k, v in shown.items()}
    jobs = []
    for batch in batches([r[:2] for r in rows]):
        wanted = [site for site, _ in batch]
        parts = {k: v.iloc[np.concatenate([at.get(s, _NONE) for s in wanted])] for k, (v, at) in site_rows.items()}
        jobs.append(PageJob(ctx.study, ctx.lang, ctx.instrument, ctx.provenance, batch, parts))
    chosen = scheduler_from(ctx.study.analysis.scheduler) if scheduler is None else scheduler
    return Villages(ctx, frames, rows, map_sites_beside(render_pages, jobs, chosen))


_NONE = np.array([], dtype=np.int64)


def _rows_by_site(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """``df`` and the positions of each village's rows (by its name as text), in the order of ``df``."""
    codes, names = pd.factorize(df["site"].astype(str))
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(names)))])
    return df, {str(s): order[bounds[i]:bounds[i + 1]] for i, s in enumerate(names)}


@dataclass
class PageJob:
    """One job of village pages: the study and its language, and a batch of villages with their rows.

    ``villages`` are (village, page name) pairs; ``rows`` the rows of each of :data:`_SOURCES` of
    these villages that their pages show (:func:`_page_rows`: filtered, in the study's order)."""

    study: Any
    lang: str
    instrument: Any
    provenance: dict
    villages: list[tuple[str, str]]
    rows: dict[str, pd.DataFrame]


def render_pages(job: PageJob) -> list[tuple[str, bytes]]:
    """The pages of a batch of villages: (page name, the page as zlib-compressed UTF-8) per village,
    in the batch's order."""
    page = None
    by_site = {k: _by_site(v) for k, v in job.rows.items()}
    out = []
    for site, name in job.villages:
        part = {k: v.get(site) for k, v in by_site.items()}
        vctx = Context(job.study, job.lang, Inputs({k: v for k, v in part.items() if v is not None}),
                       instrument=job.instrument, provenance=job.provenance)
        if page is None:
            page = _page_renderer(vctx)
        out.append((name, zlib.compress(page(site, _village_blocks(vctx)).encode("utf-8"), 1)))
    return out


def _page_rows(ctx: Context, name: str, df: pd.DataFrame) -> pd.DataFrame:
    """The rows of the processed table ``name`` the village pages show, in the order they show
    them: for :data:`ANY_TIES_ONLY`, each village's rows of the union of the tie types (every row
    of a village without them); :data:`VILLAGE_TABLES` in the study's order (:data:`ORDERS`)."""
    if name in ANY_TIES_ONLY and "tie_type" in df:
        is_any = df["tie_type"] == "any"
        has_any = is_any.groupby(df["site"].astype(str)).transform("any")
        df = df[is_any | ~has_any]
    return ctx.shape.study_order(df, *ORDERS[name]) if name in ORDERS else df


def _by_site(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The rows of each village (by its name as text), in the order of ``df``."""
    return dict(tuple(df.groupby(df["site"].astype(str), sort=False)))


@functools.lru_cache(maxsize=1)
def _template() -> tuple[jinja2.Template, str]:
    """The report's template, compiled once per process (≈ 30 ms; a worker renders many batches), and its CSS."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    return env.get_template("report.html.j2"), (TEMPLATES / "report.css").read_text(encoding="utf-8")


def _page_renderer(ctx: Context):
    """A function (village, blocks) → the village's page, with the report's template and CSS."""
    template, css = _template()
    study, words = ctx.study, ctx.words
    waves = ", ".join(words.wave(w) for w in ctx.shape.waves)

    def page(site: str, blocks: list[Block]) -> str:
        sec = Section(key="village", number=1, title=f"{words.text('site')}: {site}", blocks=blocks)
        back = Section(key="villages", number=2, title=words.text("villages_index"),
                       blocks=[Block("p", words.text("village_back"))])
        return template.render(lang=ctx.lang, title=f"{study.title} — {site}", study=study, sections=[sec, back],
                               css=css, waves=waves, T=STRINGS[ctx.lang], source_kind=str(study.source.kind),
                               kicker=words.study_text("report"))
    return page


def _index(ctx: Context, rows: list[tuple[str, str, int]]) -> str:
    """``villages/index.html``: a link to each village's page, with its number of respondents."""
    title, heading = html.escape(str(ctx.study.title)), html.escape(str(ctx.words.text("villages_index")))
    items = "\n".join(f'<li><a href="{name}.html">{html.escape(str(site))}</a> (n = {n})</li>'
                      for site, name, n in rows)
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    intro = html.escape(str(ctx.words.text("villages_index_intro", k=len(rows))))
    return (f'<!DOCTYPE html>\n<html lang="{ctx.lang}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{title} — {heading}</title>\n<style>\n{css}\n</style>\n"
            f"</head>\n<body>\n<main>\n<h1>{title}</h1>\n<h2>{heading}</h2>\n"
            f"<p>{intro}</p>\n<ul>\n{items}\n</ul>\n</main>\n</body>\n</html>\n")


def _village_blocks(ctx: Context) -> list[Block]:
    """The tables of one village (``ctx`` holds only that village's rows, as :func:`_page_rows`
    chose and ordered them)."""
    words, shape, numbering = ctx.words, ctx.shape, ctx.numbering
    blocks: list[Block] = []
    ds = ctx.inputs("district_sites.csv")
    if ds is not None and len(ds):
        ds = shape.study_order(ds, "wave_post", "dimension",
                               dimension=shape.scale_dims() or list(pd.unique(ds["dimension"])))
        mean = words.text("c_mean")
        cols = CHANGE_COLUMNS + [
            Column("mean_pre", f"{mean} – {words.wave(shape.waves[0])}", Fmt.N2, verbatim=True),
            Column("mean_post", f"{mean} – {words.wave(shape.waves[-1])}", Fmt.N2, verbatim=True), *CHANGE_TAIL]
        blocks.append(numbering.table("village_change", words.text("t_district_villages"), ds, cols,
                                      note=words.text("village_change_note")))
    for name, key, title, cols, _ in VILLAGE_TABLES:
        df = ctx.inputs(name)
        if df is not None and len(df):
            blocks.append(numbering.table(key, words.text(title), df, cols))
    return blocks
