"""The report stage: processed tables → ``reports/<study>/report.html`` (+ figures, tables, exports, docx).

:func:`build` reads what the earlier stages wrote to ``data/processed/<study>/`` and writes, under
``reports/<study>/``:

=========================  ==================================================================
``report.html``            one self-contained page (CSS inline, figures as base64 PNG, no
                           scripts, fonts or links to fetch), Bahasa Indonesia or English
``report.docx``            the same sections, tables and figures as a Word document
``figures/*.png, *.svg``   every figure (PNG 150 dpi and SVG), deterministic across reruns
``tables/*.csv``           every table of the report; ``tables/tables.xlsx`` one sheet each
``exports/scores.sav/dta`` one row per respondent × wave, scores + covariates, with variable
                           and value labels (SPSS / Stata)
``exports/network/``       GraphML, GEXF and RSiena files (from :mod:`pipeline.network`)
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

import base64
import hashlib
import importlib.metadata
import importlib.util
import math
import os
import platform
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from . import report_text as rt
from .errors import SinergiError
from .io import read_json, write_bytes, write_text
from .report_text import dim_label, integer, num, pct, pval, s, tie_label

__all__ = ["build", "Section", "Block", "Table", "Figure", "Finding", "assemble"]

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "templates"
PACKAGES = ["pandas", "numpy", "scipy", "networkx", "igraph", "statsmodels", "pingouin", "seaborn",
            "matplotlib", "pyxform", "pyreadstat", "python-docx", "openpyxl", "jinja2"]
SECTION_KEYS = ["summary", "data", "trust", "network", "collective", "designs", "methods", "colophon"]
STAGE_OF = {
    "respondents.parquet": "make tidy", "responses.parquet": "make tidy", "ties.parquet": "make tidy",
    "scale_map.parquet": "make tidy", "quality.csv": "make tidy", "sample.csv": "make tidy",
    "scores.csv": "make scales", "reliability.csv": "make scales", "items.csv": "make scales",
    "network_whole.csv": "make network", "network_groups.csv": "make network", "mixing.csv": "make network",
    "network_nodes.csv": "make network", "brokerage.csv": "make network", "network_change.csv": "make network",
    "prepost.csv": "make prepost", "mixed_models.csv": "make prepost", "dose_response.csv": "make prepost",
    "collective.csv": "make prepost", "did.csv": "make did", "balance.csv": "make did",
    "invariance.csv": "make invariance", "network_coverage.csv": "make coverage", "plan.csv": "make plan",
}
ROLES = ["coordinator", "itinerant", "representative", "gatekeeper", "liaison"]
SOCIOGRAM_MAX_SITES = 6  # villages drawn side by side; more: the first six, and a note where the rest is


# ---------------------------------------------------------------------------------------------
# the report model
# ---------------------------------------------------------------------------------------------

@dataclass
class Table:
    key: str
    title: str
    display: pd.DataFrame           # formatted strings, headers in the report language
    raw: pd.DataFrame               # the same rows, numbers unformatted (CSV / XLSX)
    align: list[str]                # "l" or "r" per column
    note: str = ""
    number: int = 0
    #: the format of each ``raw`` column (int, n1, n2, n3, p, share, pct, text): CSV/XLSX number formats
    formats: list[str] = field(default_factory=list)


@dataclass
class Figure:
    key: str
    caption: str
    png: bytes
    svg: str
    number: int = 0

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    @property
    def size(self) -> tuple[int, int]:
        import struct

        w, h = struct.unpack(">II", self.png[16:24])
        return int(w), int(h)


@dataclass
class Finding:
    text: str
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class Block:
    kind: str                       # p | note | h3 | list | table | figure | formula
    text: str = ""
    items: list[Any] = field(default_factory=list)
    table: Table | None = None
    figure: Figure | None = None


@dataclass
class Section:
    key: str
    number: int
    title: str
    blocks: list[Block] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"sec-{self.key}"


# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------

class Inputs:
    """Lazy, cached reads of the processed files; ``None`` when a file does not exist."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._cache: dict[str, pd.DataFrame | None] = {}

    def path(self, name: str) -> Path:
        return self.folder / name

    def __call__(self, name: str) -> pd.DataFrame | None:
        if name not in self._cache:
            p = self.path(name)
            if not p.exists():
                self._cache[name] = None
            elif name.endswith(".parquet"):
                self._cache[name] = _strings(pd.read_parquet(p))
            else:
                self._cache[name] = _strings(pd.read_csv(
                    p, dtype={c: str for c in ("respondent_id", "wave", "group", "site", "wave_pre", "wave_post",
                                               "tie_type", "from_group", "to_group", "ego", "alter", "item",
                                               "dimension", "submission_id")},
                    keep_default_na=True))
        df = self._cache[name]
        return None if df is None else df.copy()


def _strings(df: pd.DataFrame) -> pd.DataFrame:
    for c in ("respondent_id", "wave", "group", "site", "wave_pre", "wave_post", "tie_type", "ego", "alter"):
        if c in df.columns:
            df[c] = df[c].astype(object).where(df[c].notna(), None)
            df[c] = df[c].map(lambda v: None if v is None else str(v))
    return df


# ---------------------------------------------------------------------------------------------
# the builder
# ---------------------------------------------------------------------------------------------

class Report:
    """Holds the study, the language and the running numbers of tables and figures."""

    def __init__(self, study: Any, lang: str, inputs: Inputs):
        self.study = study
        self.lang = lang
        self.inp = inputs
        self.tables: list[Table] = []
        self.figures: list[Figure] = []
        self.alpha = float(study.analysis.alpha)
        self.levels = list(study.group_values)
        self.waves = list(study.wave_ids)
        self._scale: tuple[float, float] | None = None
        self._manifest: dict | None = None

    def manifest(self) -> dict | None:
        """The raw data's manifest (read once); None when missing or unreadable."""
        if self._manifest is None:
            try:
                self._manifest = read_json(self.study.raw_dir / "manifest.json")
            except SinergiError:
                self._manifest = {}
        return self._manifest or None

    def key_fingerprint(self) -> str | None:
        """The pseudonym key's fingerprint the processed tables were made with (None if unrecorded)."""
        from .tidy import processed_fingerprint

        path = self.inp.path("respondents.parquet")
        return processed_fingerprint(path) if path.exists() else None

    # -- small helpers ------------------------------------------------------------------------
    def t(self, key: str, **kw: Any) -> str:
        return s(self.lang, key, **kw)

    def n(self, x: Any, d: int = 2, **kw: Any) -> str:
        return num(x, self.lang, d, **kw)

    def wl(self, w: Any) -> str:
        try:
            return self.study.wave_label(str(w), self.lang)
        except StopIteration:
            return str(w)

    def gl(self, g: Any) -> str:
        if str(g) == "all":
            return self.t("all")
        return self.study.group_label(str(g), self.lang)

    def gphrase(self, g: str) -> str:
        if g == "all":
            return self.t("group_all_phrase")
        return self.t("group_phrase", label=self.gl(g).lower())

    def dl(self, d: str) -> str:
        return dim_label(str(d), self.lang)

    @property
    def data_waves(self) -> list[str]:
        """The study's waves that have respondents (a declared follow-up may have none yet)."""
        sample = self.inp("sample.csv")
        if sample is not None and len(sample):
            alls = sample[(sample["group"] == "all") & (pd.to_numeric(sample["n"], errors="coerce") > 0)]
            have = set(alls["wave"].astype(str))
        else:
            resp = self.inp("respondents.parquet")
            have = set(resp["wave"].astype(str)) if resp is not None else set(self.waves)
        return [w for w in self.waves if w in have] or self.waves[:1]

    @property
    def one_wave(self) -> bool:
        """True while the study has a baseline only (no follow-up wave with answers to compare with)."""
        return len(self.data_waves) < 2

    @property
    def no_scales(self) -> bool:
        """True when the study has no scale items (an empty scale map)."""
        sm = self.inp("scale_map.parquet")
        return sm is not None and not len(sm)

    def one_wave_note(self, what: str) -> Block:
        return Block("note", self.t("one_wave_note", wave=self.wl(self.data_waves[0]), what=self.t(what)))

    def one_wave_scope(self) -> Block:
        """The report's scope while there is no follow-up wave (naming declared waves still empty)."""
        text = self.t("one_wave_scope", wave=self.wl(self.data_waves[0]))
        empty = [self.wl(w) for w in self.waves if w not in self.data_waves]
        if empty:
            text += " " + self.t("empty_waves", waves=", ".join(empty))
        return Block("note", text)

    def missing(self, *names: str) -> Block | None:
        """A note block when any of ``names`` is missing, else None."""
        gone = [nm for nm in names if not self.inp.path(nm).exists()]
        if not gone:
            return None
        what = "; ".join(self.t("missing_file", file=nm, cmd=STAGE_OF.get(nm, "make report")) for nm in gone)
        return Block("unavailable", self.t("not_available", what=what))

    @property
    def scale(self) -> tuple[float, float]:
        if self._scale is None:
            sm = self.inp("scale_map.parquet")
            if sm is not None and len(sm):
                self._scale = (float(sm["min"].min()), float(sm["max"].max()))
            else:
                self._scale = (1.0, 5.0)
        return self._scale

    def scale_dims(self) -> list[str]:
        """Overall dimensions then their subscales, in instrument order."""
        sm = self.inp("scale_map.parquet")
        if sm is not None and len(sm):
            out = []
            for d in pd.unique(sm["dimension"]):
                out.append(str(d))
                for sub in pd.unique(sm.loc[sm["dimension"] == d, "subscale"]):
                    out.append(f"{d}_{sub}")
            return out
        sc = self.inp("scores.csv")
        return [str(d) for d in pd.unique(sc["dimension"])] if sc is not None else []

    def order_dims(self, dims: list[str]) -> list[str]:
        known = self.scale_dims()
        return [d for d in known if d in dims] + sorted(d for d in dims if d not in known)

    def groups_order(self, values: list[str]) -> list[str]:
        vals = [str(v) for v in values]
        return [g for g in ["all", *self.levels] if g in vals] + sorted(v for v in set(vals)
                                                                          if v not in ["all", *self.levels])

    # -- tables and figures ---------------------------------------------------------------------
    def table(self, key: str, title: str, df: pd.DataFrame, cols: list[tuple], note: str = "") -> Block:
        """``cols``: (source column, header, format) with format one of
        text | int | n1 | n2 | n3 | p | share | pct | callable(value) -> str; or a pair of source
        columns with ``ci2`` / ``ci3`` (a confidence interval shown "[lo; hi]") or ``pm2`` (an
        estimate "± SE"), which the CSV and XLSX files get as two numeric columns."""
        disp, raw, align, formats = {}, {}, [], []
        for col, header, fmt in cols:
            base, k = header, 2
            while header in disp:  # headers must be unique (CSV, XLSX)
                header, k = f"{base} ({k})", k + 1
            if isinstance(col, tuple):  # two numbers in one displayed cell
                a, b = (pd.Series(list(df[c]), index=df.index) for c in col)
                digits = int(fmt[-1])
                if fmt.startswith("ci"):
                    disp[header] = [f"[{self.n(x, digits)}; {self.n(y, digits)}]" if not _isna(x) else "–"
                                    for x, y in zip(a, b)]
                    names = (f"{header} {self.t('c_lower')}", f"{header} {self.t('c_upper')}")
                else:
                    disp[header] = [f"{self.n(x, digits)} ± {self.n(y, digits)}" if not _isna(x) else "–"
                                    for x, y in zip(a, b)]
                    names = (header.replace(" ± SE", ""), f"SE ({header.replace(' ± SE', '')})")
                raw[names[0]], raw[names[1]] = a, b
                formats += [f"n{digits}", f"n{digits}"]
                align.append("r")
                continue
            values = df[col] if isinstance(col, str) else col(df)
            values = pd.Series(list(values), index=df.index)
            raw[header] = values
            formats.append("text" if callable(fmt) else fmt)
            if callable(fmt):
                disp[header] = [fmt(v) for v in values]
                align.append("r")
            elif fmt == "text":
                disp[header] = ["" if _isna(v) else str(v) for v in values]
                align.append("l")
            else:
                f = {"int": lambda v: integer(v, self.lang), "n1": lambda v: self.n(v, 1),
                     "n2": lambda v: self.n(v, 2), "n3": lambda v: self.n(v, 3),
                     "p": lambda v: pval(v, self.lang), "share": lambda v: pct(v, self.lang),
                     "pct": lambda v: "–" if _isna(v) else self.n(v, 1) + "%"}[fmt]
                disp[header] = [f(v) for v in values]
                align.append("r")
        display = pd.DataFrame(disp, columns=list(disp))
        align = [("lw" if a == "l" and len(display) and display.iloc[:, j].str.len().mean() > 30 else a)
                 for j, a in enumerate(align)]
        rawdf = pd.DataFrame(raw)
        t = Table(key=key, title=title, display=display.reset_index(drop=True),
                  raw=rawdf.reset_index(drop=True), align=align, note=note, number=len(self.tables) + 1,
                  formats=formats)
        self.tables.append(t)
        return Block("table", table=t)

    def figure(self, key: str, caption: str, fig) -> Block:
        from .figures import render

        png, svg = render(fig)
        f = Figure(key=key, caption=caption, png=png, svg=svg, number=len(self.figures) + 1)
        self.figures.append(f)
        return Block("figure", figure=f)

    # -- sections -------------------------------------------------------------------------------
    def sections(self) -> list[Section]:
        out = []
        for i, key in enumerate(SECTION_KEYS, start=1):
            sec = Section(key=key, number=i, title=self.t(f"sec_{key}"))
            try:
                sec.blocks = getattr(self, f"sec_{key}")()
            except _Unavailable as exc:
                sec.blocks = [exc.block]
            out.append(sec)
        return out

    # 1 ----------------------------------------------------------------------------------------
    def sec_summary(self) -> list[Block]:
        blocks: list[Block] = []
        sample = self.inp("sample.csv")
        if sample is not None:
            alls = sample[sample["group"] == "all"]
            parts = [self.t("summary_wave_n", wave=self.wl(r["wave"]), n=integer(r["n"], self.lang))
                     for _, r in alls.iterrows()]
            blocks.append(Block("p", self.t("summary_intro", site=self.study.site, waves="; ".join(parts))))
        if self.one_wave:
            blocks.append(self.one_wave_scope())
        pp = self.inp("prepost.csv")
        if pp is None and sample is None:
            raise _Unavailable(self.missing("prepost.csv", "sample.csv"))
        if self.one_wave:
            pass  # the scope note above says why there are no before/after findings
        elif pp is not None and len(pp):
            last = pp["wave_post"].dropna().iloc[-1] if pp["wave_post"].notna().any() else None
            pp = pp[pp["wave_post"] == last]
            allrow = pp[(pp["group"] == "all")]
            if len(allrow):
                blocks.append(Block("p", self.t("summary_pairs", n=integer(allrow["n_pairs"].max(), self.lang),
                                                pre=self.wl(allrow["wave_pre"].iloc[0]),
                                                post=self.wl(last))))
            blocks.append(Block("h3", self.t("summary_trust_head")))
            findings = []
            plan = []
            for d in ("trust", "norms"):
                plan += [(d, g) for g in ["all", *self.levels]]
                if d == "trust":
                    plan += [("trust_outgroup", g) for g in self.levels]
            for d, g in plan:
                r = pp[(pp["dimension"] == d) & (pp["group"] == g)]
                if not len(r):
                    continue
                row = r.iloc[0].to_dict()
                v, text = rt.sentence_scale(row, self.lang, self.dl(d), self.gphrase(g), self.scale, self.alpha)
                findings.append(Finding(text, {"kind": "scale", "dimension": d, "group": g,
                                               "wave-pre": str(row["wave_pre"]), "wave-post": str(row["wave_post"]),
                                               "verdict": v}))
            if self.no_scales:
                blocks.append(Block("note", self.t("no_scales")))
            else:
                blocks.append(Block("list", items=findings))
                blocks.append(Block("note", self.t("summary_howto", alpha=self.n(self.alpha, 2))))
        else:
            blocks.append(self.missing("prepost.csv"))
        gap = self._gap_findings()
        if gap:
            blocks.append(Block("h3", self.t("summary_gap_head")))
            blocks.append(Block("list", items=gap))
        net = self._network_findings()
        blocks.append(Block("h3", self.t("summary_network_head")))
        if net:
            blocks.append(Block("list", items=net))
        else:
            blocks.append(self.missing("network_whole.csv", "network_change.csv")
                          or Block("unavailable", self.t("not_available", what="network_whole.csv")))
        if not self.one_wave:
            blocks.append(Block("p", self.t("summary_caveat")))
        return [b for b in blocks if b is not None]

    def _gap_findings(self) -> list[Finding]:
        mm = self.inp("mixed_models.csv")
        if mm is None or not len(mm) or len(self.levels) < 2:
            return []
        out = []
        waves = self.waves
        g1 = sorted(self.levels)[0]
        for d in ("trust_outgroup", "trust", "norms"):
            part = mm[mm["dimension"] == d]
            for g2 in sorted(self.levels)[1:]:
                for w in waves[1:][-1:]:
                    gi = part[part["term"] == f"group[{g2}]"]
                    ii = part[part["term"] == f"wave[{w}]:group[{g2}]"]
                    if not len(gi) or not len(ii):
                        continue
                    b0 = float(gi["estimate"].iloc[0])
                    r = ii.iloc[0]
                    bi = float(r["estimate"])
                    v = rt.verdict(bi, r["ci_low"], r["ci_high"], r["p_val"], self.alpha)
                    closing = (b0 < 0 < bi) or (b0 > 0 > bi)
                    if v in ("sig",):
                        vt = self.t("gap_closed_sig" if closing else "gap_widened_sig")
                    elif v == "flat":
                        vt = self.t("gap_flat")
                    else:
                        vt = self.t("gap_closed_unsure" if closing else "gap_widened_unsure")
                    text = self.t("gap_sentence", dim=self.dl(d), pre=self.wl(waves[0]), g1=self.gl(g1).lower(),
                                  g2=self.gl(g2).lower(), dir0=self.t("gap_higher" if b0 >= 0 else "gap_lower"),
                                  abs0=self.n(abs(b0)), cmp=self.t("gap_more" if bi >= 0 else "gap_less"),
                                  absint=self.n(abs(bi)), ci=self.t("ci95"), lo=self.n(r["ci_low"]),
                                  to=self.t("to"), hi=self.n(r["ci_high"]), p=rt.peq(r["p_val"], self.lang),
                                  method=rt.method_label(r["method"], self.lang), verdict=vt)
                    out.append(Finding(text, {"kind": "gap", "dimension": d, "group": g2, "wave-post": w,
                                              "verdict": v}))
        return out

    def _network_findings(self) -> list[Finding]:
        out = []
        whole = self.inp("network_whole.csv")
        if whole is not None and len(whole):
            part = whole[whole["tie_type"] == "any"]
            if not len(part):
                part = whole[whole["tie_type"] == whole["tie_type"].iloc[0]]
            part = part.assign(_w=part["wave"].map({w: i for i, w in enumerate(self.waves)})).sort_values("_w")
            for _, r in part.iterrows():
                total = float(r["n_ties"])
                ext = round(total * (1 + float(r["ei"])) / 2) if np.isfinite(r["ei"]) else np.nan
                if _isna(r["ei_p"]) or _isna(r["ei"]):
                    vt, v = self.t("ei_unsure"), "untestable"
                elif float(r["ei_p"]) < self.alpha:
                    v = "sig"
                    vt = self.t("ei_more_within_sig" if r["ei"] < r["ei_expected"] else "ei_more_between_sig")
                else:
                    vt, v = self.t("ei_unsure"), "unsure"
                share = ext / total if total else np.nan
                text = self.t("sentence_ei", wave=self.wl(r["wave"]), tie=tie_label(r["tie_type"], self.lang),
                              ext=integer(ext, self.lang), total=integer(total, self.lang),
                              share=pct(share, self.lang), ei=self.n(r["ei"]), exp=self.n(r["ei_expected"]),
                              resc=self.n(r["ei_rescaled"]), p=rt.peq(r["ei_p"], self.lang), verdict=vt)
                out.append(Finding(rt.capfirst(text), {"kind": "ei", "wave": str(r["wave"]),
                                                       "tie-type": str(r["tie_type"]), "verdict": v}))
        ch = self.inp("network_change.csv")
        if ch is not None and len(ch):
            part = ch[ch["tie_type"] == "any"]
            if not len(part):
                part = ch.head(1)
            for _, r in part.iterrows():
                d = r["delta_ei"]
                if _isna(d) or float(d) == 0:
                    v, vt, direction = "flat", self.t("change_flat"), "up"
                else:
                    direction = "up" if d > 0 else "down"
                    v = "sig" if (not _isna(r["delta_ei_p"]) and r["delta_ei_p"] < self.alpha) else "unsure"
                    vt = self.t(f"change_{v}_{direction}")
                text = self.t("sentence_change", pre=self.wl(r["wave_pre"]), post=self.wl(r["wave_post"]),
                              tie=tie_label(r["tie_type"], self.lang), new_b=integer(r["new_between"], self.lang),
                              drop_b=integer(r["dropped_between"], self.lang),
                              new_w=integer(r["new_within"], self.lang), drop_w=integer(r["dropped_within"], self.lang),
                              dir=self.t(direction), absd=self.n(abs(d) if not _isna(d) else d),
                              ei0=self.n(r["ei_pre"]), ei1=self.n(r["ei_post"]), common=integer(r.get("n_common"), self.lang), p=rt.peq(r["delta_ei_p"], self.lang),
                              verdict=vt)
                out.append(Finding(text, {"kind": "change", "tie-type": str(r["tie_type"]), "verdict": v}))
        return out

    # 2 ----------------------------------------------------------------------------------------
    def sec_data(self) -> list[Block]:
        sample = self.inp("sample.csv")
        if sample is None:
            raise _Unavailable(self.missing("sample.csv"))
        blocks = [Block("p", self.t("data_intro"))]
        sample = sample.copy()
        sample["_w"] = sample["wave"].map({w: i for i, w in enumerate(self.waves)})
        order = {g: i for i, g in enumerate([*self.levels, "all"])}
        sample["_g"] = sample["group"].map(order).fillna(99)
        sample = sample.sort_values(["_w", "_g"])
        blocks.append(self.table("sample", self.t("t_sample"), sample, [
            (lambda d: d["wave"].map(self.wl), self.t("wave"), "text"),
            (lambda d: d["group"].map(self.gl), self.t("group"), "text"),
            ("n", self.t("c_n"), "int"), ("retained", self.t("c_retained"), "int"),
            ("attrition", self.t("c_attrition"), "int"), ("newcomers", self.t("c_newcomers"), "int"),
            ("in_all_waves", self.t("c_in_all"), "int")]))
        alls = sample[sample["group"] == "all"].reset_index(drop=True)
        for i in range(1, len(alls)):
            prev, cur = alls.iloc[i - 1], alls.iloc[i]
            if str(cur["wave"]) not in self.data_waves:
                blocks.append(Block("note", self.t("empty_waves", waves=self.wl(cur["wave"]))))
                continue  # not collected yet: nobody "left"
            blocks.append(Block("p", self.t(
                "data_attrition", prev=self.wl(prev["wave"]), cur=self.wl(cur["wave"]),
                ret=integer(cur["retained"], self.lang), att=integer(cur["attrition"], self.lang),
                attp=pct(cur["attrition"] / prev["n"] if prev["n"] else np.nan, self.lang),
                nprev=integer(prev["n"], self.lang), new=integer(cur["newcomers"], self.lang))))
        q = self.inp("quality.csv")
        if self.study.source.kind != "tables":
            blocks.append(Block("p", self.t(f"validation_{self.study.validation}")))
        if q is None:
            blocks.append(self.missing("quality.csv"))
        elif not len(q):
            blocks.append(Block("p", self.t("quality_none")))
        else:
            blocks.append(Block("p", self.t("quality_intro")))
            q = q.assign(action=q["action"].fillna(""), wave=q["wave"].fillna(""))  # "": not of one wave
            counts = q.groupby(["wave", "issue", "action"], sort=False).size().rename("count").reset_index()
            counts["_w"] = counts["wave"].map({w: i for i, w in enumerate(self.waves)})
            counts = counts.sort_values(["_w", "count"], ascending=[True, False])
            blocks.append(self.table("quality", self.t("t_quality"), counts, [
                (lambda d: d["wave"].map(self.wl), self.t("wave"), "text"),
                (lambda d: d["issue"].map(lambda v: rt.issue_label(v, self.lang)), self.t("c_issue"), "text"),
                (lambda d: d["action"].map(lambda v: rt.action_label(v, self.lang)), self.t("c_action"), "text"),
                ("count", self.t("c_count"), "int")]))
        resp = self.inp("responses.parquet")
        sm = self.inp("scale_map.parquet")
        if resp is None or sm is None:
            blocks.append(self.missing("responses.parquet", "scale_map.parquet"))
        else:
            m = resp.merge(sm[["item", "dimension"]], on="item", how="inner")
            if len(m):
                g = m.groupby(["wave", "dimension"], sort=False)["value"]
                tab = pd.DataFrame({"expected": g.size(), "missing": g.apply(lambda x: int(x.isna().sum()))})
                tab = tab.reset_index()
                tab["share"] = tab["missing"] / tab["expected"]
                tab["_w"] = tab["wave"].map({w: i for i, w in enumerate(self.waves)})
                tab = tab.sort_values(["_w"], kind="stable")
                blocks.append(Block("p", self.t("missing_sentence", pct=pct(m["value"].isna().mean(), self.lang),
                                                n=integer(m["value"].isna().sum(), self.lang),
                                                total=integer(len(m), self.lang))))
                blocks.append(self.table("missing", self.t("t_missing"), tab, [
                    (lambda d: d["wave"].map(self.wl), self.t("wave"), "text"),
                    (lambda d: d["dimension"].map(self.dl), self.t("dimension"), "text"),
                    ("expected", self.t("c_expected"), "int"), ("missing", self.t("c_missing"), "int"),
                    ("share", self.t("c_missing_pct"), "share")]))
        return blocks

    # 3 ----------------------------------------------------------------------------------------
    def sec_trust(self) -> list[Block]:
        pp = self.inp("prepost.csv")
        scores = self.inp("scores.csv")
        if pp is None and scores is None:
            raise _Unavailable(self.missing("scores.csv", "prepost.csv"))
        from . import figures as F

        if self.no_scales:
            return [Block("note", self.t("no_scales"))]
        blocks = [Block("p", self.t("trust_intro"))]
        dims = self.scale_dims()
        if pp is not None:
            pp = pp[~pp["dimension"].astype(str).str.startswith("network_")]
            dims = self.order_dims([str(d) for d in pd.unique(pp["dimension"])])
            last = pp["wave_post"].iloc[-1] if len(pp) else None
            one = pp[pp["wave_post"] == last]
            if len(one) and not self.one_wave:
                fig = F.dumbbell_figure(one, dims, self.levels, dim_label=self.dl, group_label=self.gl,
                                        wave_labels=(self.wl(one["wave_pre"].iloc[0]), self.wl(last)),
                                        scale=self.scale)
                blocks.append(self.figure("dumbbell", self.t("fig_dumbbell"), fig))
        if scores is not None and len(scores):
            top = [d for d in ("trust", "trust_outgroup", "norms") if d in set(scores["dimension"])]
            if top:
                fig = F.distribution_figure(scores, top, self.waves, self.levels, dim_label=self.dl,
                                            group_label=self.gl, wave_label=self.wl, scale=self.scale,
                                            seed=int(self.study.analysis.seed))
                blocks.append(self.figure("distributions", self.t("fig_dist"), fig))
        if pp is None:
            blocks.append(self.missing("prepost.csv"))
        elif self.one_wave or not len(pp):
            blocks.append(self.one_wave_note("ow_paired") if self.one_wave else Block("note", self.t("no_pairs")))
        else:
            blocks += self._paired_tables(pp, dims)
        blocks += self._reliability_blocks()
        blocks += self._mixed_blocks(dims)
        blocks += self._dose_blocks(dims)
        return blocks

    def _pp_sorted(self, pp: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
        pp = pp.copy()
        pp["_d"] = pp["dimension"].map({d: i for i, d in enumerate(dims)}).fillna(999)
        pp["_g"] = pp["group"].map({g: i for i, g in enumerate(["all", *self.levels])}).fillna(99)
        pp["_w"] = pp["wave_post"].map({w: i for i, w in enumerate(self.waves)}).fillna(99)
        return pp.sort_values(["_w", "_d", "_g"]).reset_index(drop=True)

    def _paired_tables(self, pp: pd.DataFrame, dims: list[str]) -> list[Block]:
        from scipy import stats

        pp = self._pp_sorted(pp, dims)
        multi = pp["wave_post"].nunique() > 1
        pp["pair"] = np.arange(1, len(pp) + 1)
        pp["pair_label"] = [f"{self.t('c_pair')} {k}" for k in pp["pair"]]
        # Paired Samples Statistics: two rows per pair
        rows = []
        for _, r in pp.iterrows():
            for which in ("pre", "post"):
                n = r["n_pairs"]
                sd = r[f"sd_{which}"]
                rows.append({"pair_label": r["pair_label"], "dimension": r["dimension"], "group": r["group"],
                             "wave": r[f"wave_{which}"], "mean": r[f"mean_{which}"], "n": n, "sd": sd,
                             "se": sd / math.sqrt(n) if n and not _isna(sd) else np.nan})
        st = pd.DataFrame(rows)
        blocks = [Block("h3", self.t("t_paired_stats"))]
        blocks.append(self._spss_pairs(self.table("paired_statistics", self.t("t_paired_stats"), st, [
            ("pair_label", self.t("c_pair"), "text"),
            (lambda d: d["dimension"].map(self.dl), self.t("dimension"), "text"),
            (lambda d: d["group"].map(self.gl), self.t("group"), "text"),
            (lambda d: d["wave"].map(self.wl), self.t("wave"), "text"),
            ("mean", self.t("c_mean"), "n2"), ("n", "N", "int"), ("sd", self.t("c_sd"), "n2"),
            ("se", self.t("c_se"), "n3")])))
        # Paired Samples Test
        def sd_diff(r):
            n = r["n_pairs"]
            if not _isna(r["d_z"]) and r["d_z"] != 0:
                return abs(r["diff"] / r["d_z"])
            if n and n > 1 and not _isna(r["diff_ci_high"]):
                q = stats.t.ppf(1 - self.alpha / 2, n - 1)
                return (r["diff_ci_high"] - r["diff"]) / q * math.sqrt(n)
            return np.nan
        pp["sd_diff"] = [sd_diff(r) for _, r in pp.iterrows()]
        pp["se_diff"] = pp["sd_diff"] / np.sqrt(pp["n_pairs"].where(pp["n_pairs"] > 0))
        cols = [("pair_label", self.t("c_pair"), "text"),
                (lambda d: d["dimension"].map(self.dl), self.t("dimension"), "text"),
                (lambda d: d["group"].map(self.gl), self.t("group"), "text")]
        if multi:
            cols.append((lambda d: d["wave_post"].map(self.wl), self.t("wave"), "text"))
        cols += [("diff", self.t("c_mean_diff"), "n2"), ("sd_diff", self.t("c_sd"), "n2"),
                 ("se_diff", self.t("c_se"), "n3"), ("diff_ci_low", self.t("c_ci_low"), "n2"),
                 ("diff_ci_high", self.t("c_ci_high"), "n2"), ("t", self.t("c_t"), "n2"),
                 ("dof", self.t("c_df"), "int"), ("p_val", self.t("c_sig"), "p")]
        unmatched = int(pp.loc[pp["group"] == "all", "n_unmatched"].sum())
        blocks.append(Block("h3", self.t("t_paired_test")))
        blocks.append(self.table("paired_test", self.t("t_paired_test"), pp, cols,
                                 note=self.t("paired_note", unmatched=integer(unmatched, self.lang))))
        cols = [("pair_label", self.t("c_pair"), "text"),
                (lambda d: d["dimension"].map(self.dl), self.t("dimension"), "text"),
                (lambda d: d["group"].map(self.gl), self.t("group"), "text"),
                ("n_pairs", self.t("c_n_pairs"), "int"), ("n_unmatched", self.t("c_n_unmatched"), "int"),
                ("d_z", self.t("c_dz"), "n2"), (("d_z_ci_low", "d_z_ci_high"), self.t("c_dz_ci"), "ci2"),
                ("W", self.t("c_W"), "n1"), ("p_wilcoxon", self.t("c_p_w"), "p"),
                ("rank_biserial", self.t("c_rb"), "n2"), ("p_holm", self.t("c_p_holm"), "p"),
                ("shapiro_p", self.t("c_shapiro"), "p"), ("n_gain", self.t("c_n_gain"), "n2"),
                ("pct_change", self.t("c_pct_change"), "pct")]
        blocks.append(Block("h3", self.t("t_effects")))
        blocks.append(self.table("effect_sizes", self.t("t_effects"), pp, cols))
        blocks.append(Block("h3", self.t("formulas_head")))
        blocks.append(Block("list", items=[self.t("f_dz"), self.t("f_wilcoxon"), self.t("f_holm"),
                                           self.t("f_ngain", max=self.n(self.scale[1], 0)), self.t("f_pct")]))
        return blocks

    @staticmethod
    def _spss_pairs(block: Block) -> Block:
        """SPSS layout: the pair, dimension and group are shown once per pair (on its first row)."""
        d = block.table.display
        d.iloc[1::2, :3] = ""
        return block

    def _reliability_blocks(self) -> list[Block]:
        rel = self.inp("reliability.csv")
        if rel is None:
            return [Block("h3", self.t("t_reliability")), self.missing("reliability.csv")]
        dims = self.order_dims([str(d) for d in pd.unique(rel["dimension"])])
        rel["_d"] = rel["dimension"].map({d: i for i, d in enumerate(dims)})
        rel["_w"] = rel["wave"].map({w: i for i, w in enumerate(self.waves)})
        rel = rel.sort_values(["_w", "_d"])

        def flag(r):
            low = any((not _isna(r[c])) and float(r[c]) < 0.70 for c in ("alpha", "omega"))
            text = self.t("rel_low") if low or str(r.get("flag", "")) == "low" else self.t("rel_ok")
            return text + "; " + self.t("rel_heywood") if str(r.get("heywood", "")) == "True" else text
        rel["flag_text"] = [flag(r) for _, r in rel.iterrows()]
        return [Block("h3", self.t("t_reliability")),
                self.table("reliability", self.t("t_reliability"), rel, [
                    (lambda d: d["wave"].map(self.wl), self.t("wave"), "text"),
                    (lambda d: d["dimension"].map(self.dl), self.t("dimension"), "text"),
                    ("n", "n", "int"), ("k", self.t("c_k"), "int"), ("alpha", self.t("c_alpha"), "n2"),
                    (("alpha_ci_low", "alpha_ci_high"), self.t("c_alpha_ci"), "ci2"), ("omega", self.t("c_omega"), "n2"),
                    ("flag_text", self.t("c_flag"), "text")], note=self.t("rel_note"))] + self._item_blocks()

    def instrument(self):
        """The study's instrument, or None when it cannot be read (a tables study may have none
        for its items); read once."""
        if not hasattr(self, "_inst"):
            try:
                from .config import instrument_path
                from .instrument import load_instrument

                self._inst = load_instrument(instrument_path(self.study))
            except Exception:  # a tables study may have no instrument for its items
                self._inst = None
        return self._inst

    def _item_text(self) -> dict[str, str]:
        inst = self.instrument()
        if inst is None:
            return {}
        other = {"id": ("kelompok sendiri", "kelompok lain"), "en": ("in my own group", "in the other group")}
        out = {}
        for q in inst.questions:
            if "scale" in q.row:
                lab = q.get("label") or {}
                text = lab.get(self.lang) if isinstance(lab, dict) else str(lab)
                text = str(text or "")
                own, oth = other[self.lang]
                text = (text.replace("${kelompok_sendiri_id}", own).replace("${kelompok_lain_id}", oth)
                        .replace("${kelompok_sendiri_en}", own).replace("${kelompok_lain_en}", oth))
                out[q.name] = text
        return out

    def _item_blocks(self) -> list[Block]:
        items = self.inp("items.csv")
        if items is None:
            return [Block("h3", self.t("t_items")), self.missing("items.csv")]
        sm = self.inp("scale_map.parquet")
        rev = dict(zip(sm["item"], sm["reverse"])) if sm is not None else {}
        sub = ({r["item"]: f"{r['dimension']}_{r['subscale']}" for _, r in sm.iterrows()} if sm is not None else {})
        texts = self._item_text()
        items = items[items["dimension"].isin(["trust", "norms"]) | ~items["dimension"].str.contains("_")]
        wide = items.pivot_table(index="item", columns="wave", values=["mean", "pct_agree"], aggfunc="first")
        order = list(pd.unique(items["item"]))
        wide = wide.reindex(order).reset_index()
        cols = [("item", self.t("item"), "text"),
                (lambda d: d["item"].map(lambda i: self.dl(sub.get(i, ""))), self.t("dimension"), "text"),
                (lambda d: d["item"].map(lambda i: texts.get(i, "")), self.t("c_item_text"), "text"),
                (lambda d: d["item"].map(lambda i: self.t("yes") if bool(rev.get(i, False)) else ""),
                 self.t("c_reverse"), "text")]
        flat = pd.DataFrame({"item": wide["item"]})
        for w in self.waves:
            if ("mean", w) in wide.columns:
                flat[f"mean_{w}"] = wide[("mean", w)].to_numpy()
                flat[f"agree_{w}"] = wide[("pct_agree", w)].to_numpy()
                cols.append((f"mean_{w}", f"{self.t('c_mean')} – {self.wl(w)}", "n2"))
                cols.append((f"agree_{w}", f"{self.t('c_pct_agree')} – {self.wl(w)}", "share"))
        if not texts:
            cols.pop(2)
        return [Block("h3", self.t("t_items")),
                self.table("items_agree", self.t("t_items"), flat, cols, note=self.t("items_note"))]

    def _term_label(self, term: str) -> str:
        g1 = self.gl(sorted(self.levels)[0]).lower() if self.levels else ""
        if term == "intercept":
            return self.t("term_intercept", g1=g1, w1=self.wl(self.waves[0]))
        if term.startswith("var_"):
            key = f"term_{term}"
            return self.t(key) if key in rt.STRINGS[self.lang] else term
        import re

        m = re.fullmatch(r"wave\[(.+)\]:group\[(.+)\]", term)
        if m:
            return self.t("term_inter", w=self.wl(m.group(1)), g=self.gl(m.group(2)).lower())
        m = re.fullmatch(r"wave\[(.+)\]", term)
        if m:
            return self.t("term_wave", w=self.wl(m.group(1)), g1=g1)
        m = re.fullmatch(r"group\[(.+)\]", term)
        if m:
            return self.t("term_group", g=self.gl(m.group(1)).lower(), g1=g1)
        return term

    def _mixed_blocks(self, dims: list[str]) -> list[Block]:
        mm = self.inp("mixed_models.csv")
        head = Block("h3", self.t("t_mixed"))
        if mm is None:
            return [head, self.missing("mixed_models.csv")]
        if self.one_wave:
            return [head, self.one_wave_note("ow_mixed")]
        mm = mm[~mm["dimension"].astype(str).str.startswith("network_")].copy()
        order = self.order_dims([str(d) for d in pd.unique(mm["dimension"])])
        mm["_d"] = mm["dimension"].map({d: i for i, d in enumerate(order)})
        mm = mm.sort_values("_d", kind="stable")
        lv = sorted(self.levels)
        blocks = [head, Block("p", self.t("mixed_intro", g1=self.gl(lv[0]).lower() if lv else "",
                                          g2=self.gl(lv[-1]).lower() if lv else ""))]
        fallback = [d for d, part in mm.groupby("dimension", sort=False)
                    if part["method"].astype(str).str.startswith("ols").any()]
        if fallback:
            blocks.append(Block("note", self.t("mixed_fallback", dims=", ".join(self.dl(d) for d in fallback))))
        blocks.append(self._blank_repeats(self.table("mixed_models", self.t("t_mixed"), mm, [
            (lambda d: d["dimension"].map(self.dl), self.t("dimension"), "text"),
            (lambda d: d["term"].map(lambda v: "" if _isna(v) else self._term_label(str(v))), self.t("c_term"), "text"),
            ("estimate", self.t("c_estimate"), "n3"), ("se", self.t("c_se_short"), "n3"),
            (("ci_low", "ci_high"), self.t("ci95"), "ci2"), ("p_val", self.t("c_p"), "p"),
            (lambda d: d["method"].map(lambda v: rt.method_label(v, self.lang)), self.t("c_method"), "text")])))
        return blocks

    @staticmethod
    def _blank_repeats(block: Block, col: int = 0) -> Block:
        """Show a repeated label (e.g. the dimension) only on the first row of its run."""
        d = block.table.display
        rep = d.iloc[:, col].eq(d.iloc[:, col].shift())
        d.iloc[rep.to_numpy(), col] = ""
        return block

    def _dose_blocks(self, dims: list[str]) -> list[Block]:
        dose = self.inp("dose_response.csv")
        head = Block("h3", self.t("t_dose"))
        if dose is None:
            return [head, self.missing("dose_response.csv")]
        if not len(dose) or self.one_wave:
            return []
        dose = dose[dose["dimension"].isin([d for d in dims if "_" not in d] + ["trust_outgroup"])].copy()
        order = self.order_dims([str(d) for d in pd.unique(dose["dimension"])])
        dose["_d"] = dose["dimension"].map({d: i for i, d in enumerate(order)})
        dose = dose.sort_values(["exposure", "_d"], kind="stable")
        return [head, self.table("dose_response", self.t("t_dose"), dose, [
            (lambda d: d["exposure"].map(lambda e: self.t(f"exp_{e}") if f"exp_{e}" in rt.STRINGS[self.lang] else e),
             self.t("c_exposure"), "text"),
            (lambda d: d["dimension"].map(self.dl), self.t("dimension"), "text"),
            ("n", "n", "int"), ("slope", self.t("c_slope"), "n3"), (("ci_low", "ci_high"), self.t("ci95"), "ci3"),
            ("p_val", self.t("c_p"), "p"), ("r", self.t("c_r"), "n2")], note=self.t("dose_note"))]

    # 4 ----------------------------------------------------------------------------------------
    def sec_network(self) -> list[Block]:
        whole = self.inp("network_whole.csv")
        if whole is None:
            raise _Unavailable(self.missing("network_whole.csv"))
        from . import figures as F

        seed = int(self.study.analysis.seed)
        perms = int(self.study.analysis.permutations)
        blocks = [Block("p", self.t("net_intro"))]
        blocks += self._sociogram_blocks(seed)
        blocks += self._glance_blocks()
        ttypes = [*self.study.tie_types, "any"]
        whole = whole.copy()
        whole["_t"] = whole["tie_type"].map({t: i for i, t in enumerate(ttypes)}).fillna(99)
        whole["_w"] = whole["wave"].map({w: i for i, w in enumerate(self.waves)}).fillna(99)
        whole = whole.sort_values(["_t", "_w"])
        multi_site = whole["site"].nunique() > 1 if "site" in whole else False
        cols = ([("site", self.t("site"), "text")] if multi_site else []) + [
            (lambda d: d["tie_type"].map(lambda v: tie_label(v, self.lang)), self.t("tie_type"), "text"),
            (lambda d: d["wave"].map(self.wl), self.t("wave"), "text"),
            ("n_nodes", self.t("c_nodes"), "int"), ("n_ties", self.t("c_ties"), "int"),
            ("density", self.t("c_density"), "n3"), ("reciprocity", self.t("c_reciprocity"), "n2"),
            ("transitivity", self.t("c_transitivity"), "n2"), ("n_components", self.t("c_components"), "int"),
            ("largest_component", self.t("c_largest"), "int"),
            ("ei", self.t("c_ei"), "n2"), ("ei_expected", self.t("c_ei_exp"), "n2"),
            ("ei_rescaled", self.t("c_ei_resc"), "n2"), ("ei_p", self.t("c_ei_p"), "p"),
            (("assortativity", "assortativity_se"), self.t("c_assort"), "pm2"), ("yules_q", self.t("c_yules_q"), "n2"),
            ("modularity_group", self.t("c_modularity"), "n2"), ("leiden_nmi", self.t("c_leiden_nmi"), "n2")]
        blocks.append(Block("h3", self.t("t_whole")))
        blocks.append(Block("p", self.t("ei_explain", perms=integer(perms, self.lang), seed=seed)))
        blocks.append(self.table("network_whole", self.t("t_whole"), whole, cols, note=self.t("assort_explain")))
        grp = self.inp("network_groups.csv")
        if grp is not None and len(grp):
            grp = grp.copy()
            grp["_t"] = grp["tie_type"].map({t: i for i, t in enumerate(ttypes)}).fillna(99)
            grp["_w"] = grp["wave"].map({w: i for i, w in enumerate(self.waves)}).fillna(99)
            grp = grp[grp["tie_type"] == "any"] if (grp["tie_type"] == "any").any() else grp
            grp = grp.sort_values(["_t", "_w"])
            blocks.append(Block("h3", self.t("t_groups")))
            blocks.append(self.table("network_groups", self.t("t_groups"), grp, [
                (lambda d: d["tie_type"].map(lambda v: tie_label(v, self.lang)), self.t("tie_type"), "text"),
                (lambda d: d["wave"].map(self.wl), self.t("wave"), "text"),
                (lambda d: d["group"].map(self.gl), self.t("group"), "text"), ("n", "n", "int"),
                ("ties_internal", self.t("c_ties_internal"), "int"), ("ties_external", self.t("c_ties_external"), "int"),
                ("ei", self.t("c_ei"), "n2"), ("density_internal", self.t("c_density_internal"), "n3"),
                ("coleman", self.t("c_coleman"), "n2")]))
        mix = self.inp("mixing.csv")
        if mix is None:
            blocks.append(self.missing("mixing.csv"))
        elif len(mix):
            part = mix[mix["tie_type"] == "any"] if (mix["tie_type"] == "any").any() else mix
            part = part.groupby(["wave", "from_group", "to_group"], as_index=False)["ties"].sum()
            panels = []
            for w in self.waves:
                pw = part[part["wave"] == w]
                if len(pw):
                    m = pw.pivot_table(index="from_group", columns="to_group", values="ties", aggfunc="sum")
                    panels.append({"title": self.wl(w), "matrix": m})
            if panels:
                fig = F.mixing_figure(panels, self.levels, group_label=self.gl, from_label=self.t("c_from"),
                                      to_label=self.t("c_to"))
                blocks.append(self.figure("mixing", self.t("fig_mixing"), fig))
            part["_w"] = part["wave"].map({w: i for i, w in enumerate(self.waves)})
            part = part.sort_values(["_w"], kind="stable")
            blocks.append(self.table("mixing", self.t("t_mixing") + f" ({tie_label('any', self.lang)})", part, [
                (lambda d: d["wave"].map(self.wl), self.t("wave"), "text"),
                (lambda d: d["from_group"].map(self.gl), self.t("c_from"), "text"),
                (lambda d: d["to_group"].map(self.gl), self.t("c_to"), "text"), ("ties", self.t("c_ties"), "int")]))
        ch = self.inp("network_change.csv")
        blocks.append(Block("h3", self.t("t_change")))
        if ch is None:
            blocks.append(self.missing("network_change.csv"))
        elif self.one_wave:
            blocks.append(self.one_wave_note("ow_change"))
        elif len(ch):
            ch = ch.copy()
            ch["_t"] = ch["tie_type"].map({t: i for i, t in enumerate(ttypes)}).fillna(99)
            ch = ch.sort_values("_t")
            cols = [(lambda d: d["tie_type"].map(lambda v: tie_label(v, self.lang)), self.t("tie_type"), "text"),
                    (lambda d: [f"{self.wl(a)} → {self.wl(b)}" for a, b in zip(d["wave_pre"], d["wave_post"])],
                     self.t("wave"), "text"),
                    ("kept", self.t("c_kept"), "int"), ("new_within", self.t("c_new_within"), "int"),
                    ("new_between", self.t("c_new_between"), "int"),
                    ("dropped_within", self.t("c_dropped_within"), "int"),
                    ("dropped_between", self.t("c_dropped_between"), "int"), ("jaccard", self.t("c_jaccard"), "n2"),
                    ("hamming", self.t("c_hamming"), "int"), ("delta_ei", self.t("c_delta_ei"), "n2"),
                    ("delta_ei_p", self.t("c_delta_ei_p"), "p"), ("qap_r", self.t("c_qap_r"), "n2"),
                    ("qap_p", self.t("c_qap_p"), "p"),
                    (lambda d: d["rsiena_ok"].map(lambda v: "" if _isna(v) else
                                                  (self.t("yes") if str(v).lower() in ("true", "1", "1.0")
                                                   else self.t("no"))), self.t("c_rsiena"), "text")]
            blocks.append(self.table("network_change", self.t("t_change"), ch, cols, note=self.t("jaccard_note")))
        br = self.inp("brokerage.csv")
        blocks.append(Block("h3", self.t("t_brokerage")))
        if br is None:
            blocks.append(self.missing("brokerage.csv"))
        elif len(br):
            part = br[br["tie_type"] == "any"] if (br["tie_type"] == "any").any() else br
            part = part.copy()
            part["_r"] = part["role"].map({r: i for i, r in enumerate(ROLES + ["total"])}).fillna(99)
            part["_w"] = part["wave"].map({w: i for i, w in enumerate(self.waves)}).fillna(99)
            part = part.sort_values(["_w", "_r"])
            blocks.append(self.table("brokerage", self.t("t_brokerage"), part, [
                (lambda d: d["wave"].map(self.wl), self.t("wave"), "text"),
                (lambda d: d["role"].map(lambda v: self.t(f"role_{v}") if f"role_{v}" in rt.STRINGS[self.lang] else v),
                 self.t("c_role"), "text"),
                ("observed", self.t("c_observed"), "int"), ("expected", self.t("c_expected_n"), "n1"),
                ("z", self.t("c_z"), "n2")], note=self.t("brokerage_note")))
        has_exports = importlib.util.find_spec("pipeline.network") is not None
        blocks.append(Block("p" if has_exports else "note",
                            self.t("exports_written" if has_exports else "exports_missing")))
        pp = self.inp("prepost.csv")
        if pp is not None:
            net = pp[pp["dimension"].astype(str).str.startswith("network_")]
            if len(net) and not self.one_wave:
                net = self._pp_sorted(net, list(rt.DIMENSIONS))
                blocks.append(Block("h3", self.t("t_net_prepost")))
                blocks.append(self.table("network_prepost", self.t("t_net_prepost"), net, [
                    (lambda d: d["dimension"].map(self.dl), self.t("dimension"), "text"),
                    (lambda d: d["group"].map(self.gl), self.t("group"), "text"),
                    ("n_pairs", self.t("c_n_pairs"), "int"), ("mean_pre", f"{self.t('c_mean')} – {self.wl(self.waves[0])}", "n2"),
                    ("mean_post", f"{self.t('c_mean')} – {self.wl(self.waves[-1])}", "n2"),
                    ("diff", self.t("c_mean_diff"), "n2"), (("diff_ci_low", "diff_ci_high"), self.t("ci95"), "ci2"),
                    ("d_z", self.t("c_dz"), "n2"), ("p_holm", self.t("c_p_holm"), "p")]))
        return blocks

    def _glance_blocks(self) -> list[Block]:
        """Figures a village facilitator reads at a glance: the share of ties that cross groups per
        wave and tie type, and a diagram of the ties within and between groups."""
        from . import figures as F

        mix, grp = self.inp("mixing.csv"), self.inp("network_groups.csv")
        if mix is None or not len(mix):
            return []
        ttypes = [t for t in [*self.study.tie_types, "any"] if t in set(mix["tie_type"])]
        waves = [w for w in self.waves if w in set(mix["wave"])]
        tl = lambda t: tie_label(t, self.lang)  # noqa: E731
        fig = F.cross_share_figure(F.cross_shares(mix), waves, ttypes, wave_label=self.wl, tie_label=tl,
                                   title=self.t("fig_cross_title"))
        blocks = [self.figure("cross_share", self.t("fig_cross_share"), fig)]
        if grp is not None and len(grp):
            fig = F.group_ties_figure(mix, grp, waves, ttypes, self.levels, wave_label=self.wl, tie_label=tl,
                                      group_label=self.gl, within_label=self.t("fig_within_word"))
            blocks.append(self.figure("group_ties", self.t("fig_group_ties"), fig))
        return blocks

    def _graph_edges(self) -> tuple[dict, dict, dict]:
        """(edges per wave, present ids per wave, group per id) for the union ("any") graph."""
        resp = self.inp("respondents.parquet")
        ties = self.inp("ties.parquet")
        if resp is None or ties is None:
            return {}, {}, {}
        group: dict[str, str] = {}
        for _, r in resp.sort_values("wave", key=lambda s_: s_.map({w: i for i, w in enumerate(self.waves)})
                                     ).iterrows():
            group.setdefault(str(r["respondent_id"]), str(r["group"]))
        edges, present = {}, {}
        try:
            from .network import build_graphs

            graphs = build_graphs(resp, ties, list(self.study.tie_types))
            for (site, wave, tt), g in graphs.items():
                if tt != "any":
                    continue
                names = g.vs["name"]
                edges.setdefault(wave, []).extend((names[a], names[b]) for a, b in g.get_edgelist())
                present.setdefault(wave, set()).update(names)
        except ImportError:
            for w in self.waves:
                present[w] = set(resp.loc[resp["wave"] == w, "respondent_id"].astype(str))
                tw = ties[ties["wave"] == w]
                edges[w] = sorted({(str(a), str(b)) for a, b in zip(tw["ego"], tw["alter"])
                                   if a != b and str(a) in present[w] and str(b) in present[w]})
        return edges, present, group

    def _sociogram_blocks(self, seed: int) -> list[Block]:
        from . import figures as F

        edges, present, group = self._graph_edges()
        if not edges and not present:
            return [self.missing("respondents.parquet", "ties.parquet")]
        nodes = sorted(set().union(*present.values()) if present else set())
        union = sorted({e for es in edges.values() for e in es})
        resp = self.inp("respondents.parquet")
        site_of = dict(zip(resp["respondent_id"].astype(str), resp["site"].astype(str))) \
            if resp is not None and "site" in resp else {}
        sites = sorted({site_of.get(v, "") for v in nodes})
        subset_note = []
        if len(sites) > SOCIOGRAM_MAX_SITES:  # a district: a readable figure, not 200 villages in a row
            n_all, sites = len(sites), sites[:SOCIOGRAM_MAX_SITES]
            keep = set(sites)
            nodes = [v for v in nodes if site_of.get(v, "") in keep]
            union = [e for e in union if site_of.get(e[0], "") in keep]
            edges = {w: [e for e in es if site_of.get(e[0], "") in keep] for w, es in edges.items()}
            present = {w: {v for v in ps if site_of.get(v, "") in keep} for w, ps in present.items()}
            subset_note = [Block("note", self.t("sociogram_subset", n=integer(n_all, self.lang), k=len(sites),
                                                names=", ".join(sites)))]
        if len(sites) > 1:  # one village beside the other, each laid out on its own
            pos, site_labels = {}, []
            for k, site in enumerate(sites):
                members = [v for v in nodes if site_of.get(v, "") == site]
                inner = F.union_layout(members, [e for e in union if site_of.get(e[0], "") == site], seed)
                pos.update({v: (x + F.SITE_WIDTH * k, y) for v, (x, y) in inner.items()})
                site_labels.append((site, F.SITE_WIDTH * k))
        else:
            pos, site_labels = F.union_layout(nodes, union, seed), []
        panels = [{"title": self.wl(w), "edges": edges.get(w, []), "present": present.get(w, set())}
                  for w in self.waves if w in present]
        bridge = "lintas kelompok" if self.lang == "id" else "cross-group tie"
        absent = "tidak mengisi" if self.lang == "id" else "did not answer"
        fig = F.sociogram_figure(panels, pos, group, self.levels, group_label=self.gl, bridge_label=bridge,
                                 absent_label=absent, show_labels=bool(self.study.privacy.show_names),
                                 site_labels=site_labels)
        caption = (self.t("fig_sociogram_one", tie=tie_label("any", self.lang), wave=self.wl(self.data_waves[0]),
                          seed=seed)
                   if self.one_wave else self.t("fig_sociogram", tie=tie_label("any", self.lang), seed=seed))
        return [self.figure("sociogram_any", caption, fig)] + subset_note

    # 5 ----------------------------------------------------------------------------------------
    def sec_collective(self) -> list[Block]:
        coll = self.inp("collective.csv")
        if coll is None:
            raise _Unavailable(self.missing("collective.csv"))
        blocks = [Block("p", self.t("coll_intro"))]
        findings = []
        ok = coll[coll["wave"].notna()]
        for _, r in ok.iterrows():
            key = f"claim_{r['claim']}"
            claim = self.t(key) if key in rt.STRINGS[self.lang] else str(r["claim"])
            v = rt.verdict(r["estimate"], r["ci_low"], r["ci_high"], r["p_val"], self.alpha)
            vt = self.t("coll_sig") if v == "sig" else self.t("coll_unsure")
            findings.append(Finding(self.t("coll_sentence", claim=claim, wave=self.wl(r["wave"]),
                                           est=self.n(r["estimate"], 3), ci=self.t("ci95"), lo=self.n(r["ci_low"], 3),
                                           to=self.t("to"), hi=self.n(r["ci_high"], 3),
                                           p=rt.peq(r["p_val"], self.lang), n=integer(r["n"], self.lang),
                                           verdict=vt),
                                    {"kind": "collective", "claim": str(r["claim"]), "wave": str(r["wave"]),
                                     "verdict": v}))
        if findings:
            blocks.append(Block("list", items=findings))
        for _, r in coll[coll["wave"].isna()].iterrows():
            blocks.append(Block("note", f"{r['claim']}: {r['note']}"))
        blocks.append(self.table("collective", self.t("t_collective"), ok, [
            (lambda d: d["claim"].map(lambda c: self.t(f"claim_{c}") if f"claim_{c}" in rt.STRINGS[self.lang] else c),
             self.t("c_claim"), "text"),
            (lambda d: d["wave"].map(self.wl), self.t("wave"), "text"), ("n", "n", "int"),
            ("estimate", self.t("c_estimate"), "n3"), (("ci_low", "ci_high"), self.t("ci95"), "ci3"),
            ("p_val", self.t("c_p"), "p"), ("note", self.t("c_note"), "text")]))
        resp = self.inp("respondents.parquet")
        cols_present = [c for c in ("joint_purchasing", "collective_brand", "shared_storage", "emergency_fund")
                        if resp is not None and c in resp.columns]
        if resp is not None and cols_present:
            rows = []
            for w in self.waves:
                for g in ["all", *self.levels]:
                    part = resp[(resp["wave"] == w) & ((resp["group"] == g) if g != "all" else True)]
                    if not len(part):
                        continue
                    row = {"wave": w, "group": g, "n": len(part)}
                    for c in cols_present:
                        row[c] = pd.to_numeric(part[c], errors="coerce").mean()
                    if "digital_channels_n" in part:
                        row["digital"] = (pd.to_numeric(part["digital_channels_n"], errors="coerce") > 0).mean()
                    for c in ("revenue", "input_costs"):
                        if c in part:
                            row[c] = pd.to_numeric(part[c], errors="coerce").median()
                    rows.append(row)
            tab = pd.DataFrame(rows)
            cols = [(lambda d: d["wave"].map(self.wl), self.t("wave"), "text"),
                    (lambda d: d["group"].map(self.gl), self.t("group"), "text"), ("n", "n", "int")]
            cols += [(c, self.t(f"practice_{c}"), "share") for c in cols_present]
            if "digital" in tab:
                cols.append(("digital", self.t("practice_digital"), "share"))
            for c in ("revenue", "input_costs"):
                if c in tab:
                    cols.append((c, self.t(f"c_{c}"), "int"))
            blocks.append(self.table("practices", self.t("t_practices"), tab, cols))
        return blocks

    # 6 ----------------------------------------------------------------------------------------
    # designs --------------------------------------------------------------------------------
    def sec_designs(self) -> list[Block]:
        return self._invariance_blocks() + self._coverage_blocks() + self._did_blocks() + self._plan_blocks()

    def _plan_blocks(self) -> list[Block]:
        head = Block("h3", self.t("plan_head"))
        pl = self.inp("plan.csv")
        if pl is None or not len(pl):
            return [head, Block("note", self.t("plan_none"))]
        s0 = self.study.plan
        r0 = pl.iloc[0]
        blocks = [head, Block("p", self.t(
            "plan_intro", vp=integer(r0["villages_program"], self.lang), vc=integer(r0["villages_comparison"], self.lang),
            es=self.n(r0["effect_scale"], 2), et=self.n(r0["effect_cross_ties"], 2), sims=integer(r0["sims"], self.lang),
            part=pct(s0.participation, self.lang), att=pct(s0.attrition, self.lang), rr=pct(s0.response_rate, self.lang),
            alpha=self.n(r0["alpha"], 2)))]
        for test in pd.unique(pl["test"]):
            part = pl[pl["test"] == test]
            ok = part[part["power"] >= 0.8]
            note = part["note"].dropna()
            if len(note) and str(note.iloc[0]):
                key, n = "plan_sent_never", ""
            elif len(ok):
                key, n = "plan_sent_ok", integer(ok["respondents_per_village"].min(), self.lang)
            else:
                key, n = "plan_sent_short", integer(part["respondents_per_village"].max(), self.lang)
            blocks.append(Block("p", self.t(key, test=self.t(f"plan_t_{test}"), n=n,
                                            pmax=pct(part["power"].max(), self.lang))))
        blocks.append(self.table("plan", self.t("t_plan"), pl, [
            (lambda d: d["test"].map(lambda v: self.t(f"plan_t_{v}")), self.t("plan_c_test"), "text"),
            ("respondents_per_village", self.t("plan_c_n"), "int"), ("power", self.t("plan_c_power"), "share"),
            ("mc_se", self.t("plan_c_se"), "share")]))
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6.0, 3.6))
        for test in pd.unique(pl["test"]):
            part = pl[pl["test"] == test]
            ax.plot(part["respondents_per_village"], part["power"], marker="o", label=self.t(f"plan_t_{test}"))
        ax.axhline(0.8, color="grey", lw=0.8, ls="--")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(self.t("plan_c_n"))
        ax.set_ylabel(self.t("plan_c_power"))
        ax.legend(fontsize=7, loc="lower right")
        blocks.append(self.figure("plan_power", self.t("plan_fig"), fig))
        return blocks

    def _coverage_blocks(self) -> list[Block]:
        head = Block("h3", self.t("cov_head"))
        cov = self.inp("network_coverage.csv")
        if cov is None:
            return [head, self.missing("network_coverage.csv")]
        if not len(cov):
            return [head, Block("note", self.t("cov_none"))]
        thr = float(cov["min_coverage"].iloc[0])
        blocks = [head, Block("p", self.t("cov_intro"))]
        any_rows = cov[cov["tie_type"] == "any"]
        for _, r in any_rows.iterrows():
            key = "cov_warn" if str(r["warning"]) == "True" else "cov_ok"
            blocks.append(Block("note" if key == "cov_warn" else "p", self.t(
                key, site=str(r["site"]), wave=self.wl(r["wave"]), cov=pct(r["coverage"], self.lang),
                thr=pct(thr, self.lang), n=integer(r["n_nonrespondents"], self.lang),
                ties=integer(r["ties_to_nonrespondents"], self.lang), ei=self.n(r["ei_observed"], 2),
                lo=self.n(r["ei_low"], 2), hi=self.n(r["ei_high"], 2), rec=self.n(r["ei_reconstructed"], 2))))
        blocks.append(self.table("coverage", self.t("t_coverage"), cov, [
            ("site", self.t("cov_c_site"), "text"), (lambda d: d["wave"].map(self.wl), self.t("wave"), "text"),
            (lambda d: d["tie_type"].map(lambda v: rt.tie_label(str(v), self.lang)), self.t("did_c_tie"), "text"),
            ("coverage", self.t("cov_c_cov"), "share"), ("n_nonrespondents", self.t("cov_c_non"), "int"),
            ("ties_to_nonrespondents", self.t("cov_c_to"), "int"),
            ("ei_observed", self.t("cov_c_ei"), "n3"), ("ei_low", self.t("cov_c_lo"), "n3"),
            ("ei_high", self.t("cov_c_hi"), "n3"), ("ei_reconstructed", self.t("cov_c_rec"), "n3"),
            ("assortativity_observed", self.t("cov_c_r"), "n3"),
            ("assortativity_reconstructed", self.t("cov_c_rrec"), "n3"),
            (lambda d: d["warning"].map(lambda v: "⚠" if str(v) == "True" else ""), self.t("cov_c_warn"), "text")],
            note=self.t("cov_table_note", thr=pct(thr, self.lang))))
        return blocks

    def _invariance_blocks(self) -> list[Block]:
        head = Block("h3", self.t("inv_head"))
        inv = self.inp("invariance.csv")
        if inv is None:
            return [head, self.missing("invariance.csv")]
        if not len(inv):
            return [head, Block("note", self.t("inv_none"))]
        blocks = [head, Block("p", self.t("inv_intro"))]
        findings = []
        for (dim, comp), part in inv.groupby(["dimension", "comparison"], sort=False):
            r = part.iloc[0]
            groups = str(r["groups"]).split("|")
            names = ([self.gl(g) for g in groups] if comp == "groups" else [self.wl(w) for w in groups])
            conf = part[part["level"] == "configural"].iloc[0]
            findings.append(Finding(self.t(f"inv_v_{r['verdict']}", dim=self.dl(str(dim)), a=names[0],
                                           b=names[-1], cfi=self.n(conf["cfi"], 4), n=integer(conf["n"], self.lang),
                                           note=str(r["note"]) if not _isna(r["note"]) else ""),
                                    {"kind": "invariance", "dimension": str(dim), "comparison": str(comp),
                                     "verdict": str(r["verdict"])}))
        blocks.append(Block("list", items=findings))
        if inv["note"].fillna("").str.contains("Heywood").any():
            blocks.append(Block("note", self.t("inv_heywood")))
        blocks.append(self._blank_repeats(self.table("invariance", self.t("t_invariance"), inv, [
            (lambda d: d["dimension"].map(self.dl), self.t("dimension"), "text"),
            (lambda d: [(" / ".join(self.gl(g) for g in str(x).split("|")) if c == "groups"
                         else " / ".join(self.wl(w) for w in str(x).split("|"))) for x, c in zip(d["groups"], d["comparison"])],
             self.t("inv_c_groups"), "text"),
            (lambda d: d["level"].map(lambda v: self.t(f"inv_l_{v}")), self.t("inv_c_level"), "text"),
            ("n", "n", "int"), ("chisq", "χ²", "n2"), ("df", "df", "int"), ("cfi", "CFI", "n3"),
            ("rmsea", "RMSEA", "n3"), ("delta_cfi", "ΔCFI", "n3"), ("delta_rmsea", "ΔRMSEA", "n3"),
            (lambda d: d["holds"].map(lambda v: self.t("yes") if str(v) == "True" else self.t("no")),
             self.t("inv_c_holds"), "text")], note=self.t("inv_table_note"))))
        return blocks

    def _did_blocks(self) -> list[Block]:
        head = Block("h3", self.t("did_head"))
        if not self.study.arms and not getattr(self.study.source, "comparison_villages", 0):
            return [head, Block("note", self.t("did_none"))]
        did = self.inp("did.csv")
        if did is None:
            return [head, self.missing("did.csv")]
        if not len(did):
            return [head, Block("note", self.t("did_none"))]
        ri = did[did["method"] == "did_ri"]
        any_row = did.iloc[0]
        g, gp = int(any_row["n_clusters"]), int(any_row["n_program_clusters"])
        k = int(ri["n_assignments"].max()) if len(ri) else 0
        blocks = [head, Block("p", self.t("did_intro", g=integer(g, self.lang), gp=integer(gp, self.lang),
                                          gc=integer(g - gp, self.lang), k=integer(k, self.lang),
                                          pmin=self.n(1 / k if k else float("nan"), 3),
                                          seed=str(self.study.analysis.seed)))]
        if k and 1 / k > self.alpha:
            blocks.append(Block("note", self.t("did_too_few", g=integer(g, self.lang), pmin=self.n(1 / k, 3),
                                               alpha=self.n(self.alpha, 2))))
        findings = []
        for _, r in ri[ri["kind"].isin(["scale", "node"])].iterrows():
            dim = str(r["dimension"])
            if r["kind"] == "scale" and "_" in dim:
                continue  # sentences for dimensions and the any-tie network indicators only
            if r["kind"] == "node" and str(r["tie_type"]) != "any":
                continue
            mixed = did[(did["method"] == "did_mixed") & (did["dimension"] == r["dimension"])
                        & (did["tie_type"].fillna("") == ("" if _isna(r["tie_type"]) else r["tie_type"]))]
            m = mixed.iloc[0] if len(mixed) else None
            what = self.dl(dim) if r["kind"] == "scale" else self.t(f"did_node_{dim}")
            if r["p_min"] > self.alpha:
                key = "did_sent_descr"
            elif r["p_val"] < self.alpha and (r["ci_low"] > 0 or r["ci_high"] < 0):
                key = "did_sent_sig_up" if r["estimate"] > 0 else "did_sent_sig_down"
            else:
                key = "did_sent_unsure"
            findings.append(Finding(self.t(key, what=what, est=self.n(r["estimate"], 2, sign=True),
                                           lo=self.n(r["ci_low"], 2), hi=self.n(r["ci_high"], 2),
                                           p=rt.peq(r["p_val"], self.lang),
                                           mest=self.n(m["estimate"], 2, sign=True) if m is not None else "–",
                                           mlo=self.n(m["ci_low"], 2) if m is not None else "–",
                                           mhi=self.n(m["ci_high"], 2) if m is not None else "–"),
                                    {"kind": "did", "dimension": dim, "verdict": key}))
        if findings:
            blocks.append(Block("list", items=findings))
        ci = lambda d: [f"[{self.n(a, 3)}; {self.n(b, 3)}]" if not _isna(a) else ""  # noqa: E731
                        for a, b in zip(d["ci_low"], d["ci_high"])]
        resp = did[did["kind"].isin(["scale", "node"])]
        blocks.append(self._blank_repeats(self.table("did", self.t("t_did"), resp, [
            (lambda d: [self.dl(x) if kd == "scale" else self.t(f"did_node_{x}") for x, kd in zip(d["dimension"], d["kind"])],
             self.t("dimension"), "text"),
            (lambda d: d["tie_type"].map(lambda v: "" if _isna(v) else rt.tie_label(str(v), self.lang)),
             self.t("did_c_tie"), "text"),
            (lambda d: d["method"].map(lambda v: self.t(f"did_m_{v}")), self.t("c_method"), "text"),
            ("estimate", self.t("c_estimate"), "n3"), ("se", self.t("c_se_short"), "n3"),
            (ci, self.t("ci95"), lambda v: v), ("p_val", self.t("c_p"), "p"),
            ("n_obs", "n", "int")], note=self.t("did_table_note"))))
        vil = did[did["kind"] == "village"]
        if len(vil):
            blocks.append(self.table("did_village", self.t("t_did_village"), vil, [
                (lambda d: d["dimension"].map(lambda v: self.t(f"did_v_{v}")), self.t("did_c_outcome"), "text"),
                (lambda d: d["tie_type"].map(lambda v: rt.tie_label(str(v), self.lang)), self.t("did_c_tie"), "text"),
                ("estimate", self.t("c_estimate"), "n3"), (ci, self.t("ci95"), lambda v: v),
                ("p_val", self.t("c_p"), "p"), ("n_clusters", self.t("did_c_villages"), "int")],
                note=self.t("did_village_note")))
        bal = self.inp("balance.csv")
        if bal is not None and len(bal):
            n_imb = int((bal["smd"].abs() > 0.25).sum())
            blocks.append(Block("p", self.t("bal_intro", wave=self.wl(self.waves[0]))
                                + " " + (self.t("bal_ok") if n_imb == 0 else self.t("bal_bad", n=integer(n_imb, self.lang)))))
            blocks.append(self.table("balance", self.t("t_balance"), bal, [
                (lambda d: d["variable"].map(self._bal_label), self.t("bal_c_var"), "text"),
                ("mean_program", self.t("bal_c_prog"), "n2"), ("mean_comparison", self.t("bal_c_comp"), "n2"),
                ("smd", "SMD", "n2"), ("p_ri", self.t("bal_c_p"), "p"),
                ("n_program", "n₁", "int"), ("n_comparison", "n₀", "int")]))
        return blocks

    def _bal_label(self, v: str) -> str:
        v = str(v)
        if v.startswith("share_"):
            return self.t("bal_share", g=self.gl(v[len("share_"):]))
        if v == "degree_any":
            return self.t("did_node_degree")
        key = f"bal_{v}"
        return self.t(key) if key in rt.STRINGS[self.lang] else self.dl(v)

    def sec_methods(self) -> list[Block]:
        a = self.study.analysis
        blocks = [Block("h3", self.t("m_instrument_head"))]
        sm = self.inp("scale_map.parquet")
        lo, hi = self.scale
        if sm is None:
            blocks.append(self.missing("scale_map.parquet"))
        elif not len(sm):
            blocks.append(Block("note", self.t("no_scales")))
        else:
            blocks.append(Block("p", self.t("m_instrument", lo=self.n(lo, 0), hi=self.n(hi, 0))))
            rows = []
            for (d, sub), part in sm.groupby(["dimension", "subscale"], sort=False):
                rows.append({"dimension": d, "sub": f"{d}_{sub}", "k": len(part),
                             "items": ", ".join(part["item"]),
                             "reverse": ", ".join(part.loc[part["reverse"].astype(bool), "item"]),
                             "range": f"{self.n(part['min'].min(), 0)}–{self.n(part['max'].max(), 0)}"})
            blocks.append(self.table("instrument", self.t("t_instrument"), pd.DataFrame(rows), [
                (lambda d: d["dimension"].map(self.dl), self.t("dimension"), "text"),
                (lambda d: d["sub"].map(self.dl), self.t("c_subscale"), "text"), ("k", self.t("c_k"), "int"),
                ("items", self.t("c_items"), "text"), ("reverse", self.t("c_reverse_items"), "text"),
                ("range", "Likert", "text")]))
        blocks.append(Block("h3", self.t("m_scoring_head")))
        blocks.append(Block("p", self.t("m_scoring", share=pct(a.min_share, self.lang, 0))))
        blocks.append(Block("h3", self.t("m_tests_head")))
        blocks.append(Block("p", self.t("m_tests", alpha=self.n(a.alpha, 2))))
        blocks.append(Block("h3", self.t("m_network_head")))
        blocks.append(Block("p", self.t("m_network", ties=", ".join(tie_label(t, self.lang)
                                                                    for t in self.study.tie_types),
                                        perms=integer(a.permutations, self.lang), seed=a.seed)))
        blocks.append(Block("h3", self.t("m_limits_head")))
        blocks.append(Block("list", items=list(rt.STRINGS[self.lang]["m_limits"])))
        blocks.append(Block("p", self.t("tables_files")))
        return blocks

    # 7 ----------------------------------------------------------------------------------------
    def sec_colophon(self) -> list[Block]:
        a = self.study.analysis
        blocks = [Block("p", self.t("colophon_intro"))]
        manifest = self.manifest()
        kv = [(self.t("k_study"), f"{self.study.id} — {self.study.title}"),
              (self.t("k_commit"), git_commit() or self.t("no_git")),
              (self.t("k_python"), platform.python_version()),
              (self.t("k_source"), str(self.study.source.kind)),
              (self.t("k_seed"), str(a.seed)), (self.t("k_perms"), integer(a.permutations, self.lang)),
              (self.t("k_alpha"), self.n(a.alpha, 2)), (self.t("k_min_share"), self.n(a.min_share, 3))]
        if manifest:
            kv.append((self.t("k_manifest_written"), rt.when(manifest.get("written_at", "–"), self.lang)))
        fingerprint = self.key_fingerprint()
        if fingerprint:
            kv.append((self.t("k_key_fingerprint"), fingerprint))
        blocks.append(self.table("colophon", self.t("sec_colophon"), pd.DataFrame(kv, columns=["k", "v"]), [
            ("k", self.t("c_key"), "text"), ("v", self.t("c_value"), "text")]))
        pk = [(p, package_version(p) or self.t("not_installed")) for p in PACKAGES]
        blocks.append(self.table("packages", self.t("t_packages"), pd.DataFrame(pk, columns=["p", "v"]), [
            ("p", self.t("c_package"), "text"), ("v", self.t("c_version"), "text")]))
        if not manifest:
            blocks.append(Block("unavailable", self.t("not_available", what=self.t("manifest_missing"))))
        else:
            rows = []
            for w, m in (manifest.get("waves") or {}).items():
                files = m.get("files") or {}
                rows.append({"wave": w, "pulled_at": rt.when(m.get("pulled_at", "–"), self.lang), "count": m.get("count", np.nan),
                             "files": len(files), "checksum": wave_checksum(files)})
            blocks.append(self.table("raw_data", self.t("t_raw"), pd.DataFrame(rows), [
                (lambda d: d["wave"].map(self.wl), self.t("wave"), "text"),
                ("pulled_at", self.t("c_pulled_at"), "text"), ("count", "n", "int"),
                ("files", self.t("c_files"), "int"), ("checksum", self.t("c_checksum"), "text")],
                note=self.t("checksum_note")))
        return blocks


class _Unavailable(Exception):
    def __init__(self, block: Block | None):
        super().__init__("unavailable")
        self.block = block or Block("unavailable", "")


def _isna(v: Any) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------------------------------------
# provenance
# ---------------------------------------------------------------------------------------------

def git_commit() -> str | None:
    """``git rev-parse HEAD`` of the repository (``+dirty`` when the tree has changes); None without git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return None
        commit = head.stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                                capture_output=True, text=True, timeout=10)
        return commit + ("+dirty" if status.returncode == 0 and status.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def package_version(name: str) -> str | None:
    for candidate in (name, name.replace("igraph", "python-igraph")):
        try:
            return importlib.metadata.version(candidate)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def wave_checksum(files: dict[str, str]) -> str:
    """SHA-256 of the sorted ``"path sha256"`` lines (newline-terminated) of a wave's files."""
    lines = "".join(f"{p} {h}\n" for p, h in sorted(files.items()))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------------------------

def assemble(study: Any, language: str | None = None) -> tuple[Report, list[Section]]:
    """Read the processed files and build the report model (no files written)."""
    from . import figures as F

    lang = language or study.language
    if lang not in rt.LANGUAGES:
        raise ValueError(f"language {lang!r}: allowed {', '.join(rt.LANGUAGES)}")
    F.setup(lang)
    rep = Report(study, lang, Inputs(study.processed_dir))
    return rep, rep.sections()


def render_html(rep: Report, sections: list[Section]) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    study = rep.study
    waves = ", ".join(rep.wl(w) for w in rep.waves)
    return env.get_template("report.html.j2").render(
        lang=rep.lang, title=study.title, study=study, sections=sections, css=css, waves=waves,
        T=rt.STRINGS[rep.lang], source_kind=str(study.source.kind))


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
    rep, sections = assemble(study, language)
    check_texts(study, rep, sections)
    out = Path(study.report_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        write_outputs(rep, sections, tmp)
        _swap(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out / "report.html"


def write_outputs(rep: Report, sections: list[Section], out: Path) -> None:
    """Write report.html, report.docx, figures/, tables/ and exports/ into the folder ``out``."""
    from .handout import write_handouts
    from .report_exports import (_safe_name, by_wave, data_time, measures_and_formats, wide_scores,
                                 with_items, write_docx, write_spss_stata, write_tables)

    study = rep.study
    when = data_time(rep.manifest())  # documents dated by the raw data, not the clock
    for f in rep.figures:
        write_bytes(out / "figures" / f"{f.number:02d}_{f.key}.png", f.png)
        write_text(out / "figures" / f"{f.number:02d}_{f.key}.svg", f.svg)
    if rep.tables:
        write_tables(rep.tables, out / "tables", rep.lang, when)
    resp, scores = rep.inp("respondents.parquet"), rep.inp("scores.csv")
    if resp is not None or scores is not None:
        df, labels, values = wide_scores(resp, scores, rep.inp("network_nodes.csv"), study, rep.lang,
                                         inst=rep.instrument())
        df, items = with_items(df, labels, rep.inp("responses.parquet"), rep.inp("scale_map.parquet"),
                               study, rep.lang)
        if "submitted_at" in df:
            df["submitted_at"] = pd.to_datetime(df["submitted_at"].replace("", None), errors="coerce")
        dims = [] if scores is None else [c for c in dict.fromkeys(
            _safe_name(d) for d in scores["dimension"]) if c in df.columns]
        measure, fmt = measures_and_formats(df, values, items, dims)
        write_spss_stata(df, labels, values, out / "exports", when, measures=measure, formats=fmt)
        keep = dims + items + [c for c in df.columns if c.startswith("net_")]
        wide, wlabels, wvalues = by_wave(df, labels, values, study, rep.lang, keep)
        src = wide.attrs["source"]
        measure, fmt = measures_and_formats(wide, wvalues, [c for c, o in src.items() if o in items],
                                            [c for c, o in src.items() if o in dims])
        write_spss_stata(wide, wlabels, wvalues, out / "exports", when, stem="scores_wide",
                         measures=measure, formats=fmt)
    _network_exports(rep, out / "exports" / "network", when.strftime("%Y-%m-%d"))
    write_docx(out / "report.docx", title=study.title, subtitle=f"{rep.t('site')}: {study.site} · "
               f"{rep.t('waves')}: {', '.join(rep.wl(w) for w in rep.waves)}", sections=sections, lang=rep.lang,
               when=when)
    handouts = write_handouts(rep, out)
    write_text(out / "report.html", render_html(rep, sections))
    if study.report.pdf:  # printed copies (headless Chromium; skipped with a note without it)
        from .pdf import print_pdf

        for page in [out / "report.html", *handouts]:
            print_pdf(page, page.with_suffix(".pdf"), when)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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


def check_texts(study: Any, rep: Report, sections: list[Section]) -> None:
    """Refuse, before anything is written, a text with a control character (pasted from Word?).

    The study file's texts (title, site, wave and group labels) are named by their key; any
    other text of the report (a value from the data, shown in a table) by its table or section.
    """
    keys: list[tuple[str, Any]] = [("title", study.title), ("site", study.site)]
    for i, w in enumerate(study.waves):
        for lang in ("id", "en"):
            keys.append((f"waves[{i}].label", study.wave_label(w.id, lang)))
    for i, lvl in enumerate(study.group.levels):
        for lang in ("id", "en"):
            keys.append((f"group.levels[{i}].label", study.group_label(lvl.value, lang)))
    for key, text in keys:
        where = _control(text)
        if where:
            raise SinergiError(f"study file: {key} = {text!r} has a control character ({where}), often pasted "
                               "from Word; retype that text in the study file. Nothing was written")
    resp = rep.inp("respondents.parquet")  # its texts go into the SPSS, Stata and network files
    for col in resp.columns if resp is not None else []:
        if resp[col].dtype == object or pd.api.types.is_string_dtype(resp[col]):
            for value in resp[col].dropna().unique():
                where = _control(value)
                if where:
                    raise SinergiError(f"{rep.inp.path('respondents.parquet')}: column {col} value {value!r} has a "
                                       f"control character ({where}); fix it in the source data, then run `make "
                                       "pull` and `make report` again. Nothing was written")
    for sec in sections:
        for block in sec.blocks:
            texts = [block.text] + [getattr(i, "text", i) for i in block.items]
            if block.figure is not None:
                texts.append(block.figure.caption)
            if block.table is not None:
                tab = block.table
                texts += [tab.title, tab.note, *map(str, tab.display.columns)]
                texts += [v for col in tab.display.columns for v in tab.display[col]]
            for text in texts:
                where = _control(text)
                if where:
                    what = f"table '{block.table.key}'" if block.table is not None else f"section '{sec.key}'"
                    raise SinergiError(f"report {what}: the value {text!r} has a control character ({where}); "
                                       "fix it in the data (or the study file) and rerun. Nothing was written")


def _network_exports(rep: Report, outdir: Path, date: str | None = None) -> bool:
    """GraphML/GEXF/RSiena files via pipeline.network; False (and nothing written) without inputs."""
    from .network import build_graphs
    from .network_export import write_exports

    resp, ties, nodes = rep.inp("respondents.parquet"), rep.inp("ties.parquet"), rep.inp("network_nodes.csv")
    if resp is None or ties is None or nodes is None:
        return False
    graphs = build_graphs(resp, ties, list(rep.study.tie_types))
    write_exports(graphs, nodes, outdir, waves=rep.study.wave_ids, date=date, ties=ties)
    return True
