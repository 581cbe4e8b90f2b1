"""The village handout: one A4 page in plain words for the meeting at the balai desa.

:func:`findings` picks the findings from the results the other stages wrote (no new statistics)
and words them without statistical jargon; :func:`render` lays them out with one picture each,
the program's and the team's name (study keys ``report.program``, ``report.team``), and a small
table of every number the page quotes — who it is about, the two surveys compared, how the
verdict was decided and the verdict — as a self-contained HTML page sized for one A4 sheet
(``handout.css`` under ``@page``). The handout is its own document: every number in its sentences
is a cell of that table, formatted the same way.

Each card answers one question with one verdict from one named test, the report's own rule:

* a mean (ties to another group per person, a scale score): the paired t test over the people
  with a value in both surveys, Holm-adjusted (``prepost.csv``): "up"/"down" only when the 95 % CI
  of the change excludes 0 and the Holm p is below the study's alpha; "small" when that change is
  below the study's smallest meaningful change (``analysis.min_effect``, |d_z|); else "flat";
* the share of ties between the groups (openness): the permutation test of the change in the E-I
  index among the people in both surveys (``network_change.csv``).

The surveys compared are the first and the last (a study of three waves or more says so).

Cards, in order, each when its inputs exist and the study has a follow-up wave:

1. ties to another group per person (``prepost.csv`` ``network_bridging``; picture: the two means);
2. the demo's trust in UMKM owners of the other group (``trust_outgroup``) and shared norms
   (``norms``); a ``tables`` study: one card per dimension of its scale map (at most four);
3. the share of ties between the groups (``network_whole.csv``: everyone who answered; and
   ``network_change.csv``: ties formed and ended among the people in both surveys; picture: the
   group diagram).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import jinja2
import numpy as np
import pandas as pd

from ..io import write_text
from . import figures as F
from .context import Context
from .labels import Labels
from .shape import StudyShape
from .text import LANGUAGES, STRINGS, capfirst, num, verdict

__all__ = ["HandoutFinding", "findings", "render", "TEXT", "write_handouts"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: at most this many scale cards for a study's own dimensions (the page holds six cards)
MAX_SCALE_CARDS = 4


#: the processed tables the handout reads
INPUTS = ("prepost.csv", "network_whole.csv", "mixing.csv", "network_groups.csv", "network_change.csv",
          "sample.csv")


def _texts() -> dict[str, dict[str, str]]:
    return {lang: {k[len("handout_"):]: v for k, v in STRINGS[lang].items() if k.startswith("handout_")}
            for lang in LANGUAGES}


#: every word of the handout, per language: the catalogue's ``handout_<key>`` messages
TEXT: dict[str, dict[str, str]] = _texts()


@dataclass
class HandoutFinding:
    """One card: ``key`` (bridge, trust, norms, a dimension, ties), ``verdict`` (up, down, small,
    flat), the headline and body in plain words, the picture as PNG bytes, and the rows of the
    handout's number table it quotes (what, who, first survey, last survey, test, verdict)."""

    key: str
    verdict: str
    headline: str
    body: str
    png: bytes
    rows: list[list[str]] = field(default_factory=list)

    @property
    def data_uri(self) -> str:
        """The picture as a ``data:`` URI (the page fetches nothing)."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass
class _Page:
    """What every card needs: the words, the language, the surveys compared, the rule."""

    T: dict[str, str]
    lang: str
    pre: str
    post: str
    words: dict[str, str]
    alpha: float
    min_effect: float
    generic: bool


def _words(shape: StudyShape, lang: str) -> dict[str, str]:
    """The handout's words for the study: the instrument's (UMKM owners of a village, business
    ties) for a study collected with it; for any other (a tables study) the ``*_gen`` texts."""
    T = dict(TEXT[lang])
    if not shape.umkm:
        T.update({k[:-4]: v for k, v in TEXT[lang].items() if k.endswith("_gen")})
    return T


def _direction(row: pd.Series, alpha: float, min_effect: float) -> str:
    """up / down when the change is clear (the report's "significant"), small when it is clear but
    below the smallest meaningful change, else flat."""
    v = verdict(row["diff"], row["diff_ci_low"], row["diff_ci_high"], row["p_holm"], alpha)
    if v != "sig":
        return "flat"
    if abs(float(row["d_z"])) < min_effect:
        return "small"
    return "up" if float(row["diff"]) > 0 else "down"


def _row(pp: pd.DataFrame | None, dim: str, pre: str, post: str) -> pd.Series | None:
    """The prepost row of ``dim`` for everyone, first survey against the last."""
    if pp is None or not len(pp):
        return None
    r = pp[(pp["dimension"].astype(str) == dim) & (pp["group"].astype(str) == "all")
           & (pp["wave_pre"].astype(str) == pre) & (pp["wave_post"].astype(str) == post)]
    if not len(r) or not np.isfinite(float(r["mean_pre"].iloc[0])):
        return None
    return r.iloc[0]


def _mean_card(page: _Page, key: str, row: pd.Series, what: str, headline: Callable[[str], str], body: str,
               scale: tuple[float, float], color: str = "#0072B2", **extra: str) -> HandoutFinding:
    """A card on one mean, first survey against the last, among the people with a value in both;
    ``headline(verdict)`` words the verdict, ``body`` is formatted with the numbers and ``extra``."""
    T, lang = page.T, page.lang
    d = _direction(row, page.alpha, page.min_effect)
    pre, post, n = num(row["mean_pre"], lang, 1), num(row["mean_post"], lang, 1), num(row["n_pairs"], lang, 0)
    fig = F.mean_bars_figure([(T["before"], float(row["mean_pre"])), (T["after"], float(row["mean_post"]))],
                             scale=scale, color=color)
    table_row = [what, T["who_pairs"].format(n=n), pre, post, T["test_paired"].format(alpha=num(page.alpha, lang)),
                 T[f"result_{d}"]]
    return HandoutFinding(key, d, capfirst(headline(d)), body.format(n=n, pre=pre, post=post, **page.words, **extra),
                          F.render(fig)[0], [table_row])


def _scale_cards(page: _Page, pp: pd.DataFrame | None,
                 dims: list[tuple[str, str, tuple[float, float]]]) -> list[HandoutFinding]:
    """One card per (dimension, label, range): the demo's two, or a study's own dimensions."""
    T, lang = page.T, page.lang
    out = []
    for dim, label, (lo, hi) in dims:
        row = _row(pp, dim, page.pre, page.post)
        if row is None:
            continue
        rng = {"lo": num(lo, lang, 0), "hi": num(hi, lang, 0)}
        if page.generic:
            out.append(_mean_card(page, dim, row, T["what_dim"].format(dim=label, **rng),
                                  lambda d, label=label: T[f"dim_{d}"].format(dim=label, **page.words),
                                  T["dim_body"], (lo, hi), dim=label, **rng))
        else:
            key = "trust" if dim == "trust_outgroup" else "norms"
            out.append(_mean_card(page, key, row, T[f"what_{key}"].format(**rng),
                                  lambda d, key=key: T[f"{key}_{d}"], T[f"{key}_body"], (lo, hi), **rng))
    return out


def _bridge_card(page: _Page, pp: pd.DataFrame | None) -> HandoutFinding | None:
    row = _row(pp, "network_bridging", page.pre, page.post)
    if row is None:
        return None
    top = max(0.5, float(row["mean_pre"]), float(row["mean_post"])) * 1.15
    return _mean_card(page, "bridge", row, page.T["what_bridge"], lambda d: page.T[f"bridge_{d}"].format(**page.words),
                      page.T["bridge_body"], (0.0, top), color=F.BRIDGE)


def _ties_card(page: _Page, whole: pd.DataFrame, ch: pd.DataFrame, mix: pd.DataFrame, grp: pd.DataFrame,
               study: Any) -> HandoutFinding | None:
    """The share of ties between the groups: everyone's ties per survey, and the ties formed and
    ended among the people in both; one verdict, the permutation test of the change in E-I."""
    T, lang = page.T, page.lang
    r = ch[(ch["tie_type"].astype(str) == "any") & (ch["wave_pre"].astype(str) == page.pre)
           & (ch["wave_post"].astype(str) == page.post)]
    w = whole[whole["tie_type"].astype(str) == "any"].groupby(whole["wave"].astype(str))[["ties_between", "n_ties"]].sum()
    if len(r) != 1 or page.pre not in w.index or page.post not in w.index:
        return None  # several villages: their changes are on the village pages, not summed here
    r = r.iloc[0]
    p = r.get("delta_ei_p")
    clear = p is not None and np.isfinite(float(p)) and float(p) < page.alpha and float(r["delta_ei"]) != 0
    d = ("up" if float(r["delta_ei"]) > 0 else "down") if clear else "flat"
    n = num(r["n_common"], lang, 0)
    b0, t0, b1, t1 = (num(w.loc[x, c], lang, 0) for x in (page.pre, page.post) for c in ("ties_between", "n_ties"))
    new, dropped = num(r["new_between"], lang, 0), num(r["dropped_between"], lang, 0)
    levels = [g for g in study.group_values if g in set(grp["group"].astype(str))]
    fig = F.group_ties_figure(mix, grp, [page.pre, page.post], ["any"], levels,
                              wave_label=lambda x: page.words["w0"] if x == page.pre else page.words["w1"],
                              tie_label=lambda t: "", group_label=lambda g: study.group_label(g, lang),
                              within_label=T["within"])
    fig.set_size_inches(4.2, 1.9)
    rows = [[T["what_ties_share"], T["who_everyone"], T["of"].format(a=b0, b=t0), T["of"].format(a=b1, b=t1), "–", "–"],
            [T["what_ties_change"], T["who_pairs"].format(n=n), T["ended"].format(n=dropped),
             T["formed"].format(n=new), T["test_ei"].format(alpha=num(page.alpha, lang)), T[f"result_ties_{d}"]]]
    body = T["ties_body"].format(b0=b0, t0=t0, b1=b1, t1=t1, n=n, new=new, dropped=dropped, **page.words)
    return HandoutFinding("ties", d, capfirst(T[f"ties_{d}"].format(**page.words)), body, F.render(fig)[0], rows)


def findings(tables: dict[str, pd.DataFrame | None], shape: StudyShape, lang: str,
             dims: list[tuple[str, str, tuple[float, float]]] | None = None) -> list[HandoutFinding]:
    """The handout's cards from the processed tables (:data:`INPUTS`; a missing one is ``None``).

    Parameters
    ----------
    tables : dict
        Processed tables by file name.
    shape : StudyShape
        The study and what its data hold: the waves with answers (fewer than two gives no
        findings; the first and the last are compared), the groups present, the demo's Likert
        range (its trust and norms cards).
    lang : "id" | "en"
    dims : list of (dimension, label, (low, high)), optional
        A ``tables`` study's dimensions with their labels and answer ranges (one card each, at
        most :data:`MAX_SCALE_CARDS`).

    Returns
    -------
    list of HandoutFinding
        In the order of the module docstring.
    """
    if len(shape.data_waves) < 2:
        return []
    page = _page(shape, lang)
    F.setup(lang)
    pp = tables.get("prepost.csv")
    mix, whole = tables.get("mixing.csv"), tables.get("network_whole.csv")
    ch, grp = tables.get("network_change.csv"), tables.get("network_groups.csv")
    ties = (mix is not None and len(shape.present_levels) > 1
            and pd.to_numeric(mix["ties"], errors="coerce").fillna(0).any())
    out: list[HandoutFinding] = []
    if ties and whole is not None and len(whole):
        out.append(_bridge_card(page, pp))
    if page.generic:
        out += _scale_cards(page, pp, (dims or [])[:MAX_SCALE_CARDS])
    else:
        out += _scale_cards(page, pp, [("trust_outgroup", "", shape.scale), ("norms", "", shape.scale)])
    if ties and all(x is not None and len(x) for x in (whole, ch, grp)):
        out.append(_ties_card(page, whole, ch, mix, grp, shape.study))
    return [f for f in out if f is not None]


def _page(shape: StudyShape, lang: str) -> _Page:
    """The words every card uses (the groups, the two surveys) and the rule's numbers."""
    study, waves = shape.study, shape.data_waves
    T = _words(shape, lang)
    generic = not shape.umkm
    present = shape.present_levels if generic else list(study.group_values)
    labels = [study.group_label(g, lang) if generic else study.group_label(g, lang).lower() for g in present]
    pair = (", ".join(labels[:-1]) + f" {T['and']} " + labels[-1]) if len(labels) > 1 else "".join(labels)
    if len(labels) > 2:  # "ties link A, B, C and D" would not say that a tie links two of them
        pair = T["pair_many"]
    pre, post = waves[0], waves[-1]
    words = {"pair": pair, "pair_dash": "\u2013".join(labels) if len(labels) == 2 else pair,
             "w0": study.wave_label(pre, lang), "w1": study.wave_label(post, lang)}
    return _Page(T, lang, pre, post, words, shape.alpha, shape.min_effect, generic)


def _who(tables: dict, shape: StudyShape, lang: str, T: dict) -> tuple[str, list[list[str]]]:
    """The line on who answered (the sample table: a questionnaire with at least one answer) and
    its rows of the number table."""
    study, waves = shape.study, shape.data_waves
    sample = tables.get("sample.csv")
    if sample is None or not len(sample) or not waves:
        return "", []
    alls = sample[sample["group"].astype(str) == "all"]
    alls = alls.set_index(alls["wave"].astype(str))
    low = str.lower if shape.umkm else (lambda x: x)  # a study's own labels as written
    first = num(alls.loc[waves[0], "n"], lang, 0) if waves[0] in alls.index else None
    if len(waves) < 2:
        if first is None:
            return "", []
        return (T["who_one"].format(n=first, pre=low(study.wave_label(waves[0], lang))),
                [[T["what_people"], T["who_everyone"], first, "–", "–", "–"]])
    last = waves[-1]
    both = alls.loc[last, "in_first"] if "in_first" in alls and last in alls.index else alls.loc[last, "retained"]
    both, n1 = num(both, lang, 0), num(alls.loc[last, "n"], lang, 0)
    key = "who" if len(waves) == 2 else "who_many"
    who = T[key].format(n=both, pre=low(study.wave_label(waves[0], lang)), post=low(study.wave_label(last, lang)),
                        k=num(len(study.wave_ids), lang, 0))
    return who, [[T["what_people"], T["who_everyone"], first or "–", n1, "–", "–"],
                 [T["what_both"], T["who_both"], both, both, "–", "–"]]


def render(tables: dict[str, pd.DataFrame | None], shape: StudyShape, lang: str,
           dims: list[tuple[str, str, tuple[float, float]]] | None = None) -> str:
    """The handout as one self-contained HTML page (one A4 sheet when printed): the cards and the
    table of every number they quote (:func:`findings` tells the parameters)."""
    study, waves = shape.study, shape.data_waves
    T = _words(shape, lang)
    items = findings(tables, shape, lang, dims)
    if len(waves) >= 2 and not shape.umkm:  # two waves: "no follow-up yet" would be false
        T["none"] = T["none_later"]
    who, rows = _who(tables, shape, lang, T)
    rows += [r for it in items for r in it.rows]
    k = len(study.wave_ids)

    def survey(i: int) -> str:  # the wave's label; with three surveys or more, which of them
        if not waves or (i != 0 and len(waves) < 2):
            return "–"
        w = study.wave_label(waves[i], lang)
        return T["c_survey"].format(w=w, i=num(1 if i == 0 else k, lang, 0)) if k > 2 else w
    head = [T["c_what"], T["c_who"], survey(0), survey(-1), T["c_test"], T["c_result"]]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    program = study.program_name(lang)
    return env.get_template("handout.html.j2").render(
        lang=lang, T=T, title=T["title"].format(site=study.site), items=items, who=who, head=head, rows=rows,
        many=len(items) > 4, program=T["program"].format(program=program) if program else "",
        team=T["by"].format(team=study.report.team) if study.report.team else "",
        css=(TEMPLATES / "handout.css").read_text(encoding="utf-8"))


def _dims(shape: StudyShape, labels: Callable[[str], str]) -> list[tuple[str, str, tuple[float, float]]]:
    """A tables study's dimensions: (dimension, label, answer range), in the scale map's order."""
    if shape.umkm or shape.no_scales:
        return []
    return [(d, labels(d), shape.dim_range(d)) for d in shape.top_dims()]


def write_handouts(ctx: Context, out: Path) -> list[Path]:
    """Write ``handout.html`` (the report language) and ``handout-<other>.html`` (the other
    language) into the report folder ``out``, from the report's inputs.

    Parameters
    ----------
    ctx : pipeline.report.context.Context
        Gives the processed tables (:data:`INPUTS`), the study's shape, its instrument and the
        report language.
    out : Path
        The report folder being built.

    Returns
    -------
    list of Path
        The handouts written, the report language's first.
    """
    tables = {name: ctx.inputs(name) for name in INPUTS}
    written = []
    for lang in [ctx.lang, *[x for x in LANGUAGES if x != ctx.lang]]:
        path = out / ("handout.html" if lang == ctx.lang else f"handout-{lang}.html")
        labels = Labels(ctx.instrument, lang, ctx.inputs("scale_map.parquet"))
        write_text(path, render(tables, ctx.shape, lang, _dims(ctx.shape, labels.dim)))
        written.append(path)
    F.setup(ctx.lang)
    return written
