"""Per-village detail of a district study: ``reports/<id>/villages/``.

A study of many villages keeps a bounded main report: the tables with one row per village × wave
× tie type (network measures, groups, change, brokerage, roster coverage) are moved out of it
(:func:`move_out`, above :data:`INLINE_MAX` villages) into one page per village,
``villages/<site>.html`` (the village's change per dimension against the pooled change, its
networks, groups, change between waves, brokerage and coverage), listed in ``villages/index.html``;
the complete tables are also ``villages/<table>.csv`` (one row per village × …, UTF-8 with BOM as
``tables/``). Pages are rendered from the processed tables with the report's template, no figures:
200 villages take a few seconds.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..io import write_bytes, write_text
from .context import Context, Inputs
from .model import Block, Section
from .text import STRINGS

__all__ = ["INLINE_MAX", "PER_VILLAGE", "move_out", "write_villages", "n_sites", "network_files"]

#: with more villages than this, the per-village tables leave the main report for villages/
INLINE_MAX = 6
#: the report's tables that have one row per village × …
PER_VILLAGE = ("network_whole", "network_ei", "network_groups", "network_change", "brokerage", "coverage")
#: the processed tables a village page shows, filtered to the village
_SOURCES = ("district_sites.csv", "network_whole.csv", "network_groups.csv", "network_change.csv",
            "brokerage.csv", "network_coverage.csv")


def n_sites(ctx: Context) -> int:
    resp = ctx.inp("respondents.parquet")
    return int(resp["site"].dropna().nunique()) if resp is not None and "site" in resp else 1


def network_files(ctx: Context) -> bool:
    """Whether the report writes exports/network/: the study's ``report.network_files``, by default
    yes up to :data:`INLINE_MAX` villages (a district of 200 villages: 1,600 graphs, 1.3 GB, most of
    the report stage's time)."""
    chosen = getattr(ctx.study.report, "network_files", None)
    return bool(chosen) if chosen is not None else n_sites(ctx) <= INLINE_MAX


def move_out(ctx: Context, sections: list[Section]) -> list[str]:
    """Replace the per-village tables of ``sections`` by a note naming villages/ (in place) when the
    study has more than :data:`INLINE_MAX` villages; renumber the remaining tables. Returns the
    keys moved."""
    if not network_files(ctx):  # say so where the report names the files
        written = ctx.t("exports_written")
        for sec in sections:
            sec.blocks = [Block("note", ctx.t("network_files_skipped", k=n_sites(ctx)))
                          if b.kind == "p" and b.text == written else b for b in sec.blocks]
    if n_sites(ctx) <= INLINE_MAX:
        return []
    moved = []
    for sec in sections:
        blocks = []
        for b in sec.blocks:
            if b.kind == "table" and b.table is not None and b.table.key in PER_VILLAGE:
                moved.append(b.table.key)
                ctx.tables.remove(b.table)
                blocks.append(Block("note", ctx.t("village_table_moved", title=b.table.title,
                                                  rows=f"{len(b.table.display):,}".replace(",", "." if ctx.lang == "id"
                                                                                          else ","))))
            else:
                blocks.append(b)
        sec.blocks = blocks
    for i, t in enumerate(ctx.tables, start=1):
        t.number = i
    return moved


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("._") or "site"


def write_villages(ctx: Context, out: Path) -> list[Path]:
    """Write ``villages/index.html``, one page per village and the per-village CSVs into ``out``
    (nothing for a one-village study)."""
    if n_sites(ctx) < 2:
        return []
    import jinja2

    from .html import TEMPLATES

    folder = out / "villages"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    template = env.get_template("report.html.j2")
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    study, lang = ctx.study, ctx.lang
    waves = ", ".join(ctx.wl(w) for w in ctx.waves)
    frames = {name: ctx.inp(name) for name in _SOURCES}
    frames = {k: v for k, v in frames.items() if v is not None and len(v) and "site" in v}
    by_site = {k: dict(tuple(v.groupby(v["site"].astype(str), sort=False))) for k, v in frames.items()}
    resp = ctx.inp("respondents.parquet")
    sites = sorted(resp["site"].dropna().astype(str).unique())
    written, used = [], {}
    rows = []
    for site in sites:
        name = _safe(site)
        if name in used:  # "Desa A" and "Desa_A"
            name = f"{name}-{len(used)}"
        used[name] = site
        part = {k: v.get(site) for k, v in by_site.items()}
        vctx = Context(study, lang, Inputs({k: v for k, v in part.items() if v is not None}),
                       instrument=ctx.instrument(), provenance=ctx.provenance)
        blocks = _village_blocks(vctx)
        sec = Section(key="village", number=1, title=f"{ctx.t('site')}: {site}", blocks=blocks)
        back = Section(key="villages", number=2, title=ctx.t("villages_index"),
                       blocks=[Block("p", ctx.t("village_back"))])
        page = template.render(lang=lang, title=f"{study.title} — {site}", study=study, sections=[sec, back],
                               css=css, waves=waves, T=STRINGS[lang], source_kind=str(study.source.kind),
                               kicker=ctx.t(ctx.message_id("report")))
        path = folder / f"{name}.html"
        write_text(path, page)
        written.append(path)
        n = resp[(resp["site"].astype(str) == site)]
        rows.append((site, name, int(n["respondent_id"].nunique())))
    items = "\n".join(f'<li><a href="{name}.html">{_esc(site)}</a> (n = {n})</li>' for site, name, n in rows)
    index = (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
             f"<title>{_esc(study.title)} — {_esc(ctx.t('villages_index'))}</title>\n<style>\n{css}\n</style>\n"
             f"</head>\n<body>\n<main>\n<h1>{_esc(study.title)}</h1>\n<h2>{_esc(ctx.t('villages_index'))}</h2>\n"
             f"<p>{_esc(ctx.t('villages_index_intro', k=len(rows)))}</p>\n<ul>\n{items}\n</ul>\n</main>\n</body>\n</html>\n")
    write_text(folder / "index.html", index)
    for name, df in frames.items():  # the complete per-village tables
        write_bytes(folder / name, df.to_csv(index=False, lineterminator="\n").encode("utf-8-sig"))
    return written


def _esc(s) -> str:
    import html

    return html.escape(str(s))


def _village_blocks(ctx: Context) -> list[Block]:
    """The tables of one village (``ctx`` holds only that village's rows)."""
    blocks: list[Block] = []
    tl = ctx.tl
    ds = ctx.inp("district_sites.csv")
    if ds is not None and len(ds):
        ds = ds.assign(_d=ds["dimension"].map({d: i for i, d in enumerate(ctx.scale_dims() or
                                                                           list(pd.unique(ds["dimension"])))}))
        ds = ds.sort_values(["wave_post", "_d"], kind="stable")
        blocks.append(ctx.table("village_change", ctx.t("t_district_villages"), ds, [
            (lambda d: d["dimension"].map(ctx.dl), ctx.t("dimension"), "text"),
            (lambda d: d["wave_post"].map(ctx.wl), ctx.t("wave"), "text"),
            ("n_pairs", ctx.t("c_n_pairs"), "int"), ("mean_pre", ctx.t("c_mean") + " – " + ctx.wl(ctx.waves[0]), "n2"),
            ("mean_post", ctx.t("c_mean") + " – " + ctx.wl(ctx.waves[-1]), "n2"),
            ("diff", ctx.t("c_village_change"), "n2"), (("ci_low", "ci_high"), ctx.t("ci95"), "ci2"),
            ("pooled", ctx.t("c_pooled_change"), "n2"), ("p_dev", ctx.t("c_p_dev"), "p"),
            ("p_dev_holm", ctx.t("c_p_holm"), "p")], note=ctx.t("village_change_note")))
    sort = ctx.study_order

    w = ctx.inp("network_whole.csv")
    if w is not None and len(w):
        blocks.append(ctx.table("village_network", ctx.t("t_whole"), sort(w, "tie_type", "wave"), [
            (lambda d: d["tie_type"].map(tl), ctx.t("tie_type"), "text"),
            (lambda d: d["wave"].map(ctx.wl), ctx.t("wave"), "text"),
            ("n_nodes", ctx.t("c_nodes"), "int"), ("n_ties", ctx.t("c_ties"), "int"),
            ("density", ctx.t("c_density"), "n3"), ("reciprocity", ctx.t("c_reciprocity_edge"), "n2"),
            ("transitivity", ctx.t("c_transitivity"), "n2"), ("ei", ctx.t("c_ei"), "n2"),
            ("ei_expected", ctx.t("c_ei_exp"), "n2"), ("ei_p", ctx.t("c_ei_p"), "p"),
            (("assortativity", "assortativity_se"), ctx.t("c_assort"), "pm2"),
            ("modularity_group", ctx.t("c_modularity"), "n2")]))
    g = ctx.inp("network_groups.csv")
    if g is not None and len(g):
        g = g[g["tie_type"] == "any"] if (g["tie_type"] == "any").any() else g
        blocks.append(ctx.table("village_groups", ctx.t("t_groups"), sort(g, "tie_type", "wave", "group"), [
            (lambda d: d["tie_type"].map(tl), ctx.t("tie_type"), "text"),
            (lambda d: d["wave"].map(ctx.wl), ctx.t("wave"), "text"),
            (lambda d: d["group"].map(ctx.gl), ctx.t("group"), "text"), ("n", "n", "int"),
            ("ties_internal", ctx.t("c_ties_internal"), "int"), ("ties_external", ctx.t("c_ties_external"), "int"),
            ("ei", ctx.t("c_ei_both"), "n2")]))
    ch = ctx.inp("network_change.csv")
    if ch is not None and len(ch):
        blocks.append(ctx.table("village_network_change", ctx.t("t_change"), sort(ch, "tie_type", "wave_post"), [
            (lambda d: d["tie_type"].map(tl), ctx.t("tie_type"), "text"),
            (lambda d: [f"{ctx.wl(a)} → {ctx.wl(b)}" for a, b in zip(d["wave_pre"], d["wave_post"])],
             ctx.t("wave"), "text"),
            ("kept", ctx.t("c_kept"), "int"), ("new_within", ctx.t("c_new_within"), "int"),
            ("new_between", ctx.t("c_new_between"), "int"), ("dropped_within", ctx.t("c_dropped_within"), "int"),
            ("dropped_between", ctx.t("c_dropped_between"), "int"), ("jaccard", ctx.t("c_jaccard"), "n2"),
            ("delta_ei", ctx.t("c_delta_ei"), "n2"), ("delta_ei_p", ctx.t("c_delta_ei_p"), "p")]))
    br = ctx.inp("brokerage.csv")
    if br is not None and len(br):
        br = br[br["tie_type"] == "any"] if (br["tie_type"] == "any").any() else br
        blocks.append(ctx.table("village_brokerage", ctx.t("t_brokerage"), sort(br, "wave"), [
            (lambda d: d["wave"].map(ctx.wl), ctx.t("wave"), "text"),
            (lambda d: d["role"].map(lambda v: ctx.t(f"role_{v}") if f"role_{v}" in STRINGS[ctx.lang] else v),
             ctx.t("c_role"), "text"),
            ("observed", ctx.t("c_observed"), "int"), ("expected", ctx.t("c_expected_n"), "n1"),
            ("z", ctx.t("c_z"), "n2")]))
    cov = ctx.inp("network_coverage.csv")
    if cov is not None and len(cov):
        cov = cov[cov["tie_type"] == "any"] if "tie_type" in cov and (cov["tie_type"] == "any").any() else cov
        blocks.append(ctx.table("village_coverage", ctx.t("t_coverage"), sort(cov, "wave"), [
            (lambda d: d["wave"].map(ctx.wl), ctx.t("wave"), "text"),
            ("coverage", ctx.t("cov_c_cov"), "share"), ("n_nonrespondents", ctx.t("cov_c_non"), "int")]))
    return blocks
