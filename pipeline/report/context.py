"""The report's context: the study, the language, the processed tables, and the helpers every
section uses (labels, number formats, numbered tables and figures).

:func:`read_context` is the edge: it reads every processed file, the raw manifest, the instrument
and the provenance once. Sections are pure functions of a :class:`Context`.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import SinergiError
from ..io import read_json
from ..outputs import STAGE_OF, report_inputs
from .model import Block, Figure, Table, isna
from .labels import Labels
from .text import ci_digits, integer, num, pct, pval, s

__all__ = ["Context", "Inputs", "read_context"]

_TEXT_COLUMNS = ("respondent_id", "wave", "group", "site", "wave_pre", "wave_post", "tie_type", "from_group",
                 "to_group", "ego", "alter", "item", "dimension", "submission_id")


class Inputs:
    """The processed tables by file name; calling it gives a copy, or ``None`` for a missing file."""

    def __init__(self, tables: dict[str, pd.DataFrame], folder: Path | None = None):
        self.tables = tables
        self.folder = Path(folder) if folder is not None else None

    def has(self, name: str) -> bool:
        return name in self.tables

    def path(self, name: str) -> Path:
        """Where ``name`` was read from (for messages)."""
        return (self.folder or Path(".")) / name

    def __call__(self, name: str) -> pd.DataFrame | None:
        df = self.tables.get(name)
        return None if df is None else df.copy()

    @classmethod
    def read(cls, folder: Path) -> "Inputs":
        """Read every processed file the report uses that exists in ``folder``."""
        folder = Path(folder)
        tables = {}
        for name in report_inputs():
            p = folder / name
            if not p.exists():
                continue
            if name.endswith(".parquet"):
                tables[name] = _strings(pd.read_parquet(p))
            else:
                tables[name] = _strings(pd.read_csv(p, dtype={c: str for c in _TEXT_COLUMNS}, keep_default_na=True))
        return cls(tables, folder)


def _strings(df: pd.DataFrame) -> pd.DataFrame:
    for c in ("respondent_id", "wave", "group", "site", "wave_pre", "wave_post", "tie_type", "ego", "alter"):
        if c in df.columns:
            col = df[c]
            out = col.astype(str).astype(object)  # str(v) in one vectorised pass, not a call per value
            df[c] = pd.Series(out.where(col.notna(), None).tolist(), index=df.index)  # dtype as map() infers
    return df


class Context:
    """What a section needs: the study, the language, the tables, and the running table/figure numbers.

    Parameters
    ----------
    study : pipeline.config.Study
    lang : "id" | "en"
    inputs : Inputs
    manifest : dict, optional
        The raw data's manifest (None when missing or unreadable).
    key_fingerprint : str, optional
        The pseudonym key's fingerprint the processed tables were made with.
    instrument : pipeline.instrument.Instrument, optional
        The study's instrument (None when it cannot be read: a tables study may have none).
    provenance : dict, optional
        ``commit`` (git, or None), ``python`` and ``packages`` (name → version or None).
    """

    def __init__(self, study: Any, lang: str, inputs: Inputs, *, manifest: dict | None = None,
                 key_fingerprint: str | None = None, instrument: Any = None, provenance: dict | None = None):
        self.study = study
        self.lang = lang
        self.inp = inputs
        self.tables: list[Table] = []
        self.figures: list[Figure] = []
        self.alpha = float(study.analysis.alpha)
        self.levels = list(study.group_values)
        self.waves = list(study.wave_ids)
        self._scale: tuple[float, float] | None = None
        self._manifest = manifest or None
        self._fingerprint = key_fingerprint
        self._inst = instrument
        self._labels: Labels | None = None
        self.provenance = provenance or {"commit": None, "python": platform.python_version(), "packages": {}}

    def manifest(self) -> dict | None:
        """The raw data's manifest; None when missing or unreadable."""
        return self._manifest

    def key_fingerprint(self) -> str | None:
        """The pseudonym key's fingerprint the processed tables were made with (None if unrecorded)."""
        return self._fingerprint

    def instrument(self):
        """The study's instrument, or None when it could not be read."""
        return self._inst

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

    @property
    def labels(self) -> Labels:
        """Names of the study's dimensions, tie types and covariates (instrument, else catalogue)."""
        if self._labels is None:
            self._labels = Labels(self._inst, self.lang, self.inp("scale_map.parquet"))
        return self._labels

    def dl(self, d: str) -> str:
        """A dimension's or subscale's name (the instrument's ``scales``, else generic)."""
        return self.labels.dim(d)

    def tl(self, t: str) -> str:
        """A tie type's name (its name generator's ``short_label``; ``any``; else generic)."""
        return self.labels.tie(t)

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
        text = self.t(self.message_id("one_wave_scope"), wave=self.wl(self.data_waves[0]))
        empty = [self.wl(w) for w in self.waves if w not in self.data_waves]
        if empty:
            text += " " + self.t("empty_waves", waves=", ".join(empty))
        return Block("note", text)

    def missing(self, *names: str) -> Block | None:
        """A note block when any of ``names`` is missing, else None."""
        gone = [nm for nm in names if not self.inp.has(nm)]
        if not gone:
            return None
        what = "; ".join(self.t("missing_file", file=nm, cmd=STAGE_OF.get(nm, "make report")) for nm in gone)
        return Block("unavailable", self.t("not_available", what=what))

    @property
    def min_effect(self) -> float:
        """The smallest change the study treats as meaningful (|d_z|, ``analysis.min_effect``)."""
        return float(getattr(self.study.analysis, "min_effect", 0.1))

    @property
    def scale(self) -> tuple[float, float]:
        if self._scale is None:
            sm = self.inp("scale_map.parquet")
            if sm is not None and len(sm):
                self._scale = (float(sm["min"].min()), float(sm["max"].max()))
            else:
                self._scale = (1.0, 5.0)
        return self._scale

    # -- what this study is (so the words fit its data, not the demo's) -------------------------
    @property
    def umkm(self) -> bool:
        """True when the data were collected with the sinergi instrument (demo, KoboToolbox, its
        exports): UMKM owners of a village roster, 1–5 Likert items, the business tie types. A
        ``tables`` study may hold any data, so its report uses the study's own labels only."""
        return self.study.source.kind != "tables"

    @property
    def origin_groups(self) -> bool:
        """True when the groups are the instrument's locals and migrants (lokal / pendatang)."""
        return self.umkm and self.study.group.variable == "origin"

    @property
    def present_levels(self) -> list[str]:
        """The study's group levels that have respondents in the data (in the study's order)."""
        sample = self.inp("sample.csv")
        if sample is not None and len(sample):
            n = pd.to_numeric(sample["n"], errors="coerce")
            have = set(sample.loc[(sample["group"] != "all") & (n > 0), "group"].astype(str))
        else:
            resp = self.inp("respondents.parquet")
            have = set(resp["group"].astype(str)) if resp is not None else set(self.levels)
        return [g for g in self.levels if g in have]

    @property
    def one_group(self) -> bool:
        """True when every respondent is in one group: no group comparisons, no E-I."""
        return len(self.present_levels) < 2

    @property
    def no_ties(self) -> bool:
        """True when the study recorded no ties at all (an empty ties table)."""
        ties = self.inp("ties.parquet")
        if ties is not None:
            return not len(ties)
        whole = self.inp("network_whole.csv")
        return whole is not None and not pd.to_numeric(whole["n_ties"], errors="coerce").fillna(0).any()

    def no_network_text(self) -> str:
        """The one line a network part of the report shows for a study without networks: it has no
        network questions (no tie types), or it asked them and recorded no ties."""
        return self.t("net_no_ties" if self.study.tie_types else "net_no_network")

    def message_id(self, key: str) -> str:
        """``key``, or its ``<key>_gen`` wording (no demo words) for a study that is not an
        instrument study, when the catalogue has one."""
        from .text import STRINGS

        gen = f"{key}_gen"
        return gen if not self.umkm and gen in STRINGS[self.lang] else key

    def glow(self, g: Any) -> str:
        """A group's label inside a sentence: lower-cased for the demo's common nouns (lokal,
        pendatang), as written for a study's own labels (Boston, Halloween)."""
        return self.gl(g).lower() if self.origin_groups else self.gl(g)

    def join(self, words: list[str]) -> str:
        """``a``, ``a and b``, ``a, b and c`` in the report language."""
        words = [w for w in words if w]
        if len(words) < 2:
            return "".join(words)
        return ", ".join(words[:-1]) + f" {self.t('and')} " + words[-1]

    def groups_text(self) -> str:
        """The groups present, by their labels (``Non-smokers and Smokers``)."""
        return self.join([self.gl(g) for g in self.present_levels])

    def dim_range(self, dim: str) -> tuple[float, float]:
        """(lowest, highest) answer of a dimension or ``dimension_subscale`` (its own items only)."""
        sm = self.inp("scale_map.parquet")
        if sm is None or not len(sm):
            return self.scale
        key = sm["dimension"].astype(str) + "_" + sm["subscale"].astype(str)
        part = sm[(sm["dimension"].astype(str) == dim) | (key == dim)]
        if not len(part):
            return self.scale
        return float(part["min"].min()), float(part["max"].max())

    def range_text(self, dim: str) -> str:
        lo, hi = self.dim_range(dim)
        return f"{self.n(lo, 0)}–{self.n(hi, 0)}"

    def top_dims(self) -> list[str]:
        """The scale map's dimensions (not their subscales), in order."""
        sm = self.inp("scale_map.parquet")
        if sm is not None and len(sm):
            return [str(d) for d in pd.unique(sm["dimension"])]
        sc = self.inp("scores.csv")
        return [str(d) for d in pd.unique(sc["dimension"]) if "_" not in str(d)] if sc is not None else []

    def ranges_text(self, dims: list[str] | None = None) -> str:
        """``Alcohol 1–5, Smoking 1–3`` (one range when every dimension has the same)."""
        dims = self.top_dims() if dims is None else dims
        ranges = {d: self.range_text(d) for d in dims}
        if len(set(ranges.values())) == 1:
            return next(iter(ranges.values()))
        return ", ".join(f"{self.dl(d)} {r}" for d, r in ranges.items())

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
        """``values`` in the study's order: ``all``, then the levels as ``group.levels`` lists them
        (never alphabetical), then anything else sorted."""
        vals = [str(v) for v in values]
        return [g for g in ["all", *self.levels] if g in vals] + sorted(v for v in set(vals)
                                                                          if v not in ["all", *self.levels])

    @property
    def model_levels(self) -> list[str]:
        """The groups present as the models code them: the reference group first (``group.reference``,
        else the first of ``group.levels``; the next present level when it has no respondents),
        then the others in the study's order."""
        present = self.present_levels
        return [g for g in self.study.model_levels if g in present] or present

    @property
    def reference(self) -> str:
        """The group the models compare the others with (:attr:`model_levels`' first)."""
        levels = self.model_levels or self.levels
        return levels[0]

    def study_order(self, df: pd.DataFrame, *cols: str) -> pd.DataFrame:
        """``df`` sorted (stably) by ``cols`` in the study's order, never alphabetically: waves
        (``wave``, ``wave_pre``, ``wave_post``) as listed, tie types as ``tie_types`` then ``any``,
        groups (``group``, ``from_group``, ``to_group``) ``all`` then ``group.levels``, dimensions
        as the scale map (:meth:`order_dims`); other columns by value. Values the study does not
        list come after those it does.

        Returns
        -------
        pandas.DataFrame
            The same rows and columns, reordered (the index kept).
        """
        orders = {"tie_type": [*self.study.tie_types, "any"], "group": ["all", *self.levels]}
        for c in ("wave", "wave_pre", "wave_post"):
            orders[c] = self.waves
        for c in ("from_group", "to_group"):
            orders[c] = orders["group"]
        if "dimension" in cols:
            orders["dimension"] = self.order_dims([str(d) for d in pd.unique(df["dimension"])])
        keys = {}
        for c in cols:
            if c in orders:
                rank = {v: i for i, v in enumerate(orders[c])}
                keys[f"_order_{c}"] = df[c].astype(str).map(rank).fillna(len(rank)).to_numpy()
            keys[f"_value_{c}"] = df[c].astype(str).to_numpy()
        if not keys:
            return df
        positions = pd.DataFrame(keys).sort_values(list(keys), kind="stable").index
        return df.iloc[positions]

    def table(self, key: str, title: str, df: pd.DataFrame, cols: list[tuple], note: str = "") -> Block:
        """``cols``: (source column, header, format) with format one of
        text | int | n1 | n2 | n3 | p | share | pct | callable(value) -> str | ``("n", column)``
        (each row with the decimals ``df[column]`` gives it); or a pair of source columns with
        ``ci2`` / ``ci3`` (a confidence interval shown "[lo; hi]", with more decimals where the
        bounds need them: :func:`~pipeline.report.text.ci_digits`) or ``pm2`` (an estimate "± SE"),
        which the CSV and XLSX files get as two numeric columns."""
        disp, raw, align, formats = {}, {}, [], []
        for col, header, fmt in cols:
            base, k = header, 2
            while header in disp:  # headers must be unique (CSV, XLSX)
                header, k = f"{base} ({k})", k + 1
            if isinstance(col, tuple):  # two numbers in one displayed cell
                a, b = (pd.Series(list(df[c]), index=df.index) for c in col)
                digits = int(fmt[-1])
                if fmt.startswith("ci"):
                    row_digits = [ci_digits(x, y, digits) for x, y in zip(a, b)]
                    disp[header] = [f"[{self.n(x, k)}; {self.n(y, k)}]" if not isna(x) else "–"
                                    for x, y, k in zip(a, b, row_digits)]
                    digits = max(row_digits, default=digits)
                    names = (f"{header} {self.t('c_lower')}", f"{header} {self.t('c_upper')}")
                else:
                    disp[header] = [f"{self.n(x, digits)} ± {self.n(y, digits)}" if not isna(x) else "–"
                                    for x, y in zip(a, b)]
                    names = (header.replace(" ± SE", ""), f"SE ({header.replace(' ± SE', '')})")
                raw[names[0]], raw[names[1]] = a, b
                formats += [f"n{digits}", f"n{digits}"]
                align.append("r")
                continue
            values = df[col] if isinstance(col, str) else col(df)
            values = pd.Series(list(values), index=df.index)
            raw[header] = values
            if isinstance(fmt, tuple):  # ("n", column): decimals per row
                row_digits = [int(k) for k in df[fmt[1]]]
                disp[header] = [self.n(v, k) for v, k in zip(values, row_digits)]
                formats.append(f"n{max(row_digits, default=2)}")
                align.append("r")
                continue
            formats.append("text" if callable(fmt) else fmt)
            if callable(fmt):
                disp[header] = [fmt(v) for v in values]
                align.append("r")
            elif fmt == "text":
                disp[header] = ["" if isna(v) else str(v) for v in values]
                align.append("l")
            else:
                f = {"int": lambda v: integer(v, self.lang), "n1": lambda v: self.n(v, 1),
                     "n2": lambda v: self.n(v, 2), "n3": lambda v: self.n(v, 3),
                     "p": lambda v: pval(v, self.lang), "share": lambda v: pct(v, self.lang),
                     "pct": lambda v: "–" if isna(v) else self.n(v, 1) + "%"}[fmt]
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

    def pp_sorted(self, pp: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
        pp = pp.copy()
        pp["_d"] = pp["dimension"].map({d: i for i, d in enumerate(dims)}).fillna(999)
        pp["_g"] = pp["group"].map({g: i for i, g in enumerate(["all", *self.levels])}).fillna(99)
        pp["_w"] = pp["wave_post"].map({w: i for i, w in enumerate(self.waves)}).fillna(99)
        return pp.sort_values(["_w", "_d", "_g"]).reset_index(drop=True)

    @staticmethod
    def blank_repeats(block: Block, col: int = 0) -> Block:
        """Show a repeated label (e.g. the dimension) only on the first row of its run."""
        d = block.table.display
        rep = d.iloc[:, col].eq(d.iloc[:, col].shift())
        d.iloc[rep.to_numpy(), col] = ""
        return block


def read_context(study: Any, lang: str) -> Context:
    """The edge: read the processed tables, manifest, instrument and provenance for ``study``."""
    from ..config import instrument_path
    from ..instrument import load_instrument
    from ..tidy import processed_fingerprint
    from .provenance import PACKAGES, git_commit, package_version

    inputs = Inputs.read(study.processed_dir)
    try:
        manifest = read_json(study.raw_dir / "manifest.json")
    except SinergiError:
        manifest = None
    resp = Path(study.processed_dir) / "respondents.parquet"
    fingerprint = processed_fingerprint(resp) if resp.exists() else None
    try:
        inst = load_instrument(instrument_path(study))
    except SinergiError:  # a tables study may have no instrument for its items
        inst = None
    provenance = {"commit": git_commit(), "python": platform.python_version(),
                  "packages": {p: package_version(p) for p in PACKAGES}}
    return Context(study, lang, inputs, manifest=manifest, key_fingerprint=fingerprint, instrument=inst,
                   provenance=provenance)
