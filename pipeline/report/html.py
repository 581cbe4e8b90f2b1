"""Render the report model to one self-contained HTML page (Jinja2 template, CSS and scripts inline).

The page fetches nothing: styles, the figures (PNG as ``data:`` URIs) and its one script are in the
file, so it opens offline from an e-mail or a USB stick. The script (``templates/report.js``, no
library) adds what a reader needs on a screen and is not needed on paper:

* wide tables: a cue when a table is wider than the screen, its label columns held while the
  numbers scroll (on a phone one narrow row-label column, :func:`table_view`);
* figures: a tap opens the picture at full size (without the script, the link opens the SVG in
  ``figures/``);
* networks: an interactive view of the sociogram (:func:`network_view`) — pan and zoom, a wave and
  tie type to show, a person's pseudonym, group and degree on hover, ties between groups marked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from ..analysis.network import analysed_tie_types, build_graphs
from . import text as rt
from .context import Context
from .figures import SITE_WIDTH, group_palette, site_positions
from .model import Section, Table

__all__ = ["render_html", "TEMPLATES", "table_view", "network_view", "script_json", "page_css"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: villages drawn in the interactive view: those of the sociogram (sections/network.py)
NETVIEW_MAX_SITES = 6


def render_html(rep: Context, sections: list[Section]) -> str:
    """The report page: ``sections`` rendered by ``templates/report.html.j2`` in ``rep.lang``."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    script = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    study = rep.study
    words = rep.words
    waves = ", ".join(words.wave(w) for w in rep.shape.waves)
    drawn = any(b.kind == "figure" and b.figure.key == "sociogram_any" for sec in sections for b in sec.blocks)
    view = network_view(rep) if drawn else None
    return env.get_template("report.html.j2").render(
        lang=rep.lang, title=study.title, study=study, sections=sections, css=css, waves=waves,
        kicker=words.study_text("report"), script=script, table_view=table_view,
        page_css=page_css(words.text("print_page", page="{page}", pages="{pages}"), words.text("footer")),
        netview=script_json(view) if view else "", T=rt.STRINGS[rep.lang], source_kind=str(study.source.kind))


def css_string(text: str) -> str:
    r"""``text`` as a quoted CSS string.

    >>> print(css_string('Say "hi" \\ bye'))
    "Say \"hi\" \\ bye"
    """
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def page_css(page: str, footer: str) -> str:
    """The printed page's footer (Chromium's print, ``report.pdf``): ``footer`` at the left and the
    page number at the right, ``page`` holding ``{page}`` and ``{pages}`` ("Halaman {page} dari
    {pages}"), on every page, portrait or landscape (the page's own footer then hidden on paper).
    A page rendered without it (a village's page) prints its footer once, as before.

    >>> page_css("Page {page} of {pages}", "Made by sinergi.").splitlines()[1]
    '  @bottom-right { content: "Page " counter(page) " of " counter(pages); }'
    """
    number = css_string(page).replace("{page}", '" counter(page) "').replace("{pages}", '" counter(pages) "')
    number = number.replace('"" ', "").replace(' ""', "")
    return ("@page {\n"
            f"  @bottom-right {{ content: {number}; }}\n"
            f"  @bottom-left {{ content: {css_string(footer)}; }}\n"
            "}\n"
            "footer { display: none; }  /* on paper the footer is on every page, beside the number */")


def script_json(data: Any) -> str:
    """``data`` as JSON safe inside ``<script type="application/json">`` (no ``</``, no ``<!--``).

    >>> script_json({"a": "</script>"})
    '{"a":"\\\\u003c/script>"}'
    """
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False).replace("<", "\\u003c")


def table_view(t: Table) -> dict[str, Any]:
    """How a table reads on a narrow screen: its label columns (the text columns before the first
    number) and, when there are two or more, each row's labels joined in one narrow cell.

    On a phone the separate label columns are hidden and that one cell ("Pasangan 1 · Kepercayaan
    · Lokal") is held at the left while the numbers scroll beside it, so every table shows numbers
    on the first screen; on a wider screen the separate columns are shown.

    Returns
    -------
    dict
        ``labels`` (how many leading label columns), ``head`` (their headers joined) and ``rows``
        (each row's non-empty labels joined; empty when ``labels`` < 2).

    Examples
    --------
    >>> import pandas as pd
    >>> from pipeline.report.model import Table
    >>> d = pd.DataFrame({"Pair": ["Pair 1", ""], "Group": ["All", "Local"], "n": ["12", "7"]})
    >>> v = table_view(Table("k", "t", d, d, ["l", "l", "r"]))
    >>> v["labels"], v["head"], v["rows"]
    (2, 'Pair · Group', ['Pair 1 · All', 'Local'])
    """
    k = 0
    while k < len(t.align) and t.align[k] != "r":
        k += 1
    if k == len(t.align):  # no number at all: a text table reads as it is
        k = 0
    if k < 2:
        return {"labels": k, "head": "", "rows": []}
    head = " · ".join(str(c) for c in t.display.columns[:k])
    rows = [" · ".join(str(v) for v in row[:k] if str(v).strip()) for row in t.display.itertuples(index=False)]
    return {"labels": k, "head": head, "rows": rows}


def network_view(rep: Context) -> dict[str, Any] | None:
    """The data of the interactive network view: the sociogram's people, positions and ties.

    Everyone drawn in the sociogram (the first :data:`NETVIEW_MAX_SITES` villages) at the
    sociogram's positions (:func:`pipeline.report.figures.site_positions`, villages side by side),
    with their group; per wave and tie type (and ``any``) the ties as pairs of node indexes, who
    answered, and each person's degree from ``network_nodes.csv`` (the report does not recompute
    it). Only pseudonyms, never names.

    Returns
    -------
    dict or None
        ``nodes`` (``id``, ``group`` index, ``site``, ``x``, ``y``), ``groups`` (``label``,
        ``color``), ``waves`` and ``ties`` (``id``, ``label``), ``edges``, ``present`` and
        ``degree`` keyed ``"<wave>|<tie type>"`` (``present`` by wave), ``text`` (the controls'
        words); None without respondents or ties.
    """
    resp, n_ties = rep.inputs("respondents.parquet"), rep.inputs.n_rows("ties.parquet")
    if resp is None or not n_ties:
        return None
    types = analysed_tie_types(rep.study.tie_types, n_ties)
    if "site" in resp and "site" in rep.inputs.columns("ties.parquet"):  # the villages shown only (not all 200: 20 s)
        shown = sorted(set(pd.unique(resp["site"].astype(str))))[:NETVIEW_MAX_SITES]
        resp, ties = resp[resp["site"].astype(str).isin(shown)], rep.inputs.site_rows("ties.parquet", shown)
    else:
        ties = rep.inputs("ties.parquet")
    graphs = build_graphs(resp, ties, types)
    sites = sorted({k[0] for k in graphs})[:NETVIEW_MAX_SITES]
    shape, words = rep.shape, rep.words
    pos = site_positions(graphs, list(shape.waves), list(shape.levels), int(rep.study.analysis.seed), sites)
    seen = {str(v) for key, g in graphs.items() if key[0] in sites for v in g.vs["group"]}
    levels = list(shape.levels) + sorted(seen - set(shape.levels))
    palette = group_palette(levels)
    group: dict[str, str] = {}
    nodes, index = [], {}
    for k, site in enumerate(sorted(pos)):
        for key in sorted((key for key in graphs if key[0] == site and key[2] == "any"),
                          key=lambda key: shape.waves.index(key[1]) if key[1] in shape.waves else 99):
            for v, g in zip(graphs[key].vs["name"], graphs[key].vs["group"]):
                group.setdefault(v, str(g))
        for v, (x, y) in sorted(pos[site].items()):
            index[v] = len(nodes)
            nodes.append({"id": v, "group": levels.index(group[v]), "site": site,
                          "x": round(x + SITE_WIDTH * k, 5), "y": round(y, 5)})
    waves = [w for w in shape.waves if any(key[1] == w for key in graphs)]
    tie_types = [*types, "any"]
    edges, present, degree = _view_edges(rep, graphs, sites, index, waves, tie_types)
    return {"nodes": nodes, "groups": [{"label": words.group(g), "color": palette[g]} for g in levels],
            "waves": [{"id": w, "label": words.wave(w)} for w in waves],
            "ties": [{"id": t, "label": words.tie(t)} for t in tie_types],
            "edges": edges, "present": present, "degree": degree, "sites": len(sites) > 1,
            "text": {**{k: words.text(f"nv_{k}") for k in ("wave", "tie", "cross", "zoom_in", "zoom_out", "reset",
                                                            "degree", "absent", "label")},
                     "bridge": words.text("soc_bridge")}}


def _view_edges(rep: Context, graphs: dict, sites: list[str], index: dict[str, int], waves: list[str],
                tie_types: list[str]) -> tuple[dict, dict, dict]:
    """(ties as flat index pairs, who answered, degrees) keyed by wave (× tie type) for
    :func:`network_view`."""
    nodes_table = rep.inputs.memo(("network_nodes.csv", "degree", tuple(sites)), lambda: _site_degrees(rep, sites))
    deg: dict[tuple[str, str, str], float] = {}
    if nodes_table is not None and len(nodes_table) and "degree" in nodes_table:
        part = nodes_table
        deg = {(str(r), str(w), str(t)): float(d) for r, w, t, d in
               zip(part["respondent_id"], part["wave"], part["tie_type"], part["degree"]) if d == d}
    ids = sorted(index, key=index.get)
    edges, present, degree = {}, {}, {}
    for w in waves:
        present[w] = sorted(index[v] for key, g in graphs.items() if key[0] in sites and key[1] == w
                            and key[2] == "any" for v in g.vs["name"] if v in index)
        for t in tie_types:
            pairs = []
            for key, g in graphs.items():
                if key[0] in sites and key[1] == w and key[2] == t:
                    names = g.vs["name"]
                    pairs += [(index[names[a]], index[names[b]]) for a, b in g.get_edgelist()]
            edges[f"{w}|{t}"] = [i for pair in sorted(pairs) for i in pair]
            degree[f"{w}|{t}"] = [_whole(deg.get((v, w, t))) for v in ids]
    return edges, present, degree


def _site_degrees(rep: Context, sites: list[str]) -> pd.DataFrame | None:
    """The rows of ``network_nodes.csv`` of the villages ``sites`` (``respondent_id``, ``wave``,
    ``tie_type``, ``degree``), read a batch at a time (:meth:`Inputs.csv_batches`), the others'
    rows left; None without the file."""
    if not rep.inputs.has("network_nodes.csv"):
        return None
    wanted = list(map(str, sites))
    parts = [p[p["site"].isin(wanted)] if "site" in p else p for p in
             rep.inputs.csv_batches("network_nodes.csv", ["respondent_id", "site", "wave", "tie_type", "degree"])]
    return pd.concat(parts, ignore_index=True) if parts else None


def _whole(x: float | None) -> float | int | None:
    """A degree as JSON writes it shortest: 7, not 7.0 (None stays None)."""
    return None if x is None else int(x) if float(x).is_integer() else x
