"""The village handout: one A4 page in plain words for the meeting at the balai desa.

:func:`findings` picks three or four findings from the results the other stages wrote (no new
statistics) and words them without statistical jargon; :func:`render` lays them out with one
picture each, the program's and the team's name (study keys ``report.program``, ``report.team``),
as a self-contained HTML page sized for one A4 sheet (``handout.css`` under ``@page``).

A change is said only when the evidence is clear — the report's own rule for "significant": the
95 % confidence interval of the change excludes zero and the Holm-adjusted p is below the study's
alpha (for the network, the permutation test of the change in openness); otherwise the finding
says there is no clear change yet. The numbers shown are the ones in the report's tables, rounded.

Findings, in order, each when its inputs exist and the study has a follow-up wave:

1. ties across the groups (mean number of cross-group ties per person, ``prepost.csv``
   ``network_bridging``; picture: share of ties that cross groups, ``network_whole.csv``);
2. trust in UMKM owners of the other group (``trust_outgroup``);
3. shared norms (``norms``);
4. new and dropped ties between the groups (``network_change.csv``; picture: the group diagram).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import figures as F
from .text import capfirst, num, verdict

__all__ = ["HandoutFinding", "findings", "render", "TEXT"]

TEMPLATES = Path(__file__).resolve().parent / "templates"

def _texts() -> dict[str, dict[str, str]]:
    from .text import LANGUAGES, STRINGS

    return {lang: {k[len("handout_"):]: v for k, v in STRINGS[lang].items() if k.startswith("handout_")}
            for lang in LANGUAGES}


#: every word of the handout, per language: the catalogue's ``handout_<key>`` messages
TEXT: dict[str, dict[str, str]] = _texts()


@dataclass
class HandoutFinding:
    """One finding: ``key`` (bridge, trust, norms, ties), ``verdict`` (up, down, flat), the
    headline and body in plain words, and the picture as PNG bytes."""

    key: str
    verdict: str
    headline: str
    body: str
    png: bytes

    @property
    def data_uri(self) -> str:
        """The picture as a ``data:`` URI (the page fetches nothing)."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def _words(study: Any, lang: str) -> dict[str, str]:
    """The handout's words for ``study``: the instrument's (UMKM owners of a village, business
    ties) for a study collected with it; for any other (a tables study) the ``*_gen`` texts."""
    T = dict(TEXT[lang])
    if study.source.kind == "tables":
        T.update({k[:-4]: v for k, v in TEXT[lang].items() if k.endswith("_gen")})
    return T


def _present(tables: dict[str, pd.DataFrame | None], study: Any) -> list[str]:
    """The study's group levels that have respondents (``sample.csv``), in the study's order."""
    sample = tables.get("sample.csv")
    if sample is None or not len(sample):
        return list(study.group_values)
    n = pd.to_numeric(sample["n"], errors="coerce")
    have = set(sample.loc[(sample["group"].astype(str) != "all") & (n > 0), "group"].astype(str))
    return [g for g in study.group_values if g in have]


def _direction(row: pd.Series, alpha: float) -> str:
    """up / down when the change is clear (the report's "significant"), else flat."""
    v = verdict(row["diff"], row["diff_ci_low"], row["diff_ci_high"], row["p_holm"], alpha)
    if v != "sig":
        return "flat"
    return "up" if float(row["diff"]) > 0 else "down"


def _row(pp: pd.DataFrame | None, dim: str) -> pd.Series | None:
    if pp is None or not len(pp):
        return None
    r = pp[(pp["dimension"].astype(str) == dim) & (pp["group"].astype(str) == "all")]
    if not len(r):
        return None
    last = r["wave_post"].iloc[-1]
    return r[r["wave_post"] == last].iloc[0]


def findings(tables: dict[str, pd.DataFrame | None], study: Any, lang: str, *, waves: list[str],
             scale: tuple[float, float]) -> list[HandoutFinding]:
    """The handout's findings from the processed tables (``prepost.csv``, ``network_whole.csv``,
    ``mixing.csv``, ``network_groups.csv``, ``network_change.csv``; a missing one is ``None``).

    Parameters
    ----------
    tables : dict
        Processed tables by file name.
    study : pipeline.config.Study
    lang : "id" | "en"
    waves : list of str
        The waves that have answers, in order; fewer than two gives no findings.
    scale : (float, float)
        The Likert scale's minimum and maximum.

    Returns
    -------
    list of HandoutFinding
        At most four, in the order of the module docstring.
    """
    T = _words(study, lang)
    generic = study.source.kind == "tables"
    alpha = float(study.analysis.alpha)
    if len(waves) < 2:
        return []
    pre, post = waves[0], waves[-1]
    wl = {w: study.wave_label(w, lang) for w in waves}
    before, after = T["before"], T["after"]
    F.setup(lang)
    present = _present(tables, study) if generic else list(study.group_values)
    labels = [study.group_label(g, lang) if generic else study.group_label(g, lang).lower() for g in present]
    pair = (", ".join(labels[:-1]) + f" {T['and']} " + labels[-1]) if len(labels) > 1 else "".join(labels)
    words = {"pair": pair, "pair_dash": "\u2013".join(labels) if len(labels) == 2 else pair}
    out: list[HandoutFinding] = []
    words.update(w0=wl[pre], w1=wl[post])
    pp = tables.get("prepost.csv")
    mix, whole = tables.get("mixing.csv"), tables.get("network_whole.csv")
    if generic and (len(present) < 2 or mix is None or not pd.to_numeric(mix["ties"], errors="coerce").fillna(0).any()):
        mix = whole = None  # one group or no ties: nothing crosses groups, so no tie findings
    row = _row(pp, "network_bridging")
    if row is not None and whole is not None and len(whole):
        d = _direction(row, alpha)
        sh = F.cross_shares(whole[whole["tie_type"].astype(str) == "any"])
        vals = [(before, _share(sh, pre)), (after, _share(sh, post))]
        fig = F.mean_bars_figure(vals, scale=(0.0, max(0.5, max(v for _, v in vals) + 0.1)), color=F.BRIDGE,
                                 percent=True)
        out.append(HandoutFinding("bridge", d, T[f"bridge_{d}"],
                                  T["bridge_body"].format(pre=num(row["mean_pre"], lang, 1),
                                                          post=num(row["mean_post"], lang, 1), **words),
                                  F.render(fig)[0]))
    for key, dim in (("trust", "trust_outgroup"), ("norms", "norms")):
        row = _row(pp, dim)
        if row is None or not np.isfinite(float(row["mean_pre"])):
            continue
        d = _direction(row, alpha)
        fig = F.mean_bars_figure([(before, float(row["mean_pre"])), (after, float(row["mean_post"]))],
                                 scale=scale)
        out.append(HandoutFinding(key, d, T[f"{key}_{d}"],
                                  T[f"{key}_body"].format(pre=num(row["mean_pre"], lang, 1),
                                                          post=num(row["mean_post"], lang, 1)), F.render(fig)[0]))
    ch, grp = tables.get("network_change.csv"), tables.get("network_groups.csv")
    if ch is not None and len(ch) and mix is not None and grp is not None and len(grp):
        r = ch[ch["tie_type"].astype(str) == "any"]
        if len(r):
            r = r.iloc[-1]
            p = r.get("delta_ei_p")
            clear = p is not None and np.isfinite(float(p)) and float(p) < alpha and float(r["delta_ei"]) != 0
            d = ("up" if float(r["delta_ei"]) > 0 else "down") if clear else "flat"
            fig = F.group_ties_figure(mix, grp, [pre, post], ["any"], list(study.group_values),
                                      wave_label=lambda w: wl.get(w, w), tie_label=lambda t: "",
                                      group_label=lambda g: study.group_label(g, lang), within_label=T["within"])
            fig.set_size_inches(4.2, 1.9)
            out.append(HandoutFinding("ties", d, capfirst(T[f"ties_{d}"].format(**words)),
                                      T["ties_body"].format(new=num(r["new_between"], lang, 0),
                                                            dropped=num(r["dropped_between"], lang, 0), **words),
                                      F.render(fig)[0]))
    return out


def _share(shares: pd.DataFrame, wave: str) -> float:
    r = shares[shares["wave"].astype(str) == wave]
    return float(r["share"].iloc[0]) if len(r) else float("nan")


def render(tables: dict[str, pd.DataFrame | None], study: Any, lang: str, *, waves: list[str],
           scale: tuple[float, float], n_pairs: int | None, n_first: int | None) -> str:
    """The handout as one self-contained HTML page (one A4 sheet when printed).

    ``n_pairs``: respondents who answered in both waves; ``n_first``: respondents of the first
    wave (shown when there is no follow-up yet).
    """
    import jinja2

    T = _words(study, lang)
    items = findings(tables, study, lang, waves=waves, scale=scale)
    generic = study.source.kind == "tables"
    low = (lambda x: x) if generic else str.lower  # a study's own labels as written
    if len(waves) >= 2 and generic:  # two waves: "no follow-up yet" would be false
        T["none"] = T["none_later"]
    if len(waves) >= 2 and n_pairs is not None:
        who = T["who"].format(n=num(n_pairs, lang, 0), pre=low(study.wave_label(waves[0], lang)),
                              post=low(study.wave_label(waves[-1], lang)))
    elif n_first is not None and waves:
        who = T["who_one"].format(n=num(n_first, lang, 0), pre=low(study.wave_label(waves[0], lang)))
    else:
        who = ""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    program = study.program_name(lang)
    return env.get_template("handout.html.j2").render(
        lang=lang, T=T, title=T["title"].format(site=study.site), items=items, who=who,
        program=T["program"].format(program=program) if program else "",
        team=T["by"].format(team=study.report.team) if study.report.team else "",
        css=(TEMPLATES / "handout.css").read_text(encoding="utf-8"))


def write_handouts(rep: Any, out: Path) -> list[Path]:
    """Write ``handout.html`` (the report language) and ``handout-<other>.html`` (the other
    language) into the report folder ``out``, from the report's inputs ``rep.inp``.

    Parameters
    ----------
    rep : pipeline.report.context.Context
        Gives ``inp`` (the processed tables), ``study``, ``lang``, ``data_waves`` and ``scale``.
    out : Path
        The report folder being built.

    Returns
    -------
    list of Path
        The handouts written, the report language's first.
    """
    from ..io import write_text
    from .text import LANGUAGES

    names = ("prepost.csv", "network_whole.csv", "mixing.csv", "network_groups.csv", "network_change.csv",
             "sample.csv")
    tables = {nm: rep.inp(nm) for nm in names}
    waves = list(rep.data_waves)
    pp, sample = tables["prepost.csv"], tables["sample.csv"]
    n_pairs = None
    if pp is not None and len(pp) and (pp["group"].astype(str) == "all").any():
        n_pairs = int(pd.to_numeric(pp.loc[pp["group"].astype(str) == "all", "n_pairs"]).max())
    n_first = None
    if sample is not None and len(sample) and waves:
        first = sample[(sample["group"].astype(str) == "all") & (sample["wave"].astype(str) == waves[0])]
        n_first = int(first["n"].iloc[0]) if len(first) else None
    written = []
    for lang in [rep.lang, *[x for x in LANGUAGES if x != rep.lang]]:
        path = out / ("handout.html" if lang == rep.lang else f"handout-{lang}.html")
        write_text(path, render(tables, rep.study, lang, waves=waves, scale=rep.scale, n_pairs=n_pairs,
                                n_first=n_first))
        written.append(path)
    F.setup(rep.lang)
    return written
