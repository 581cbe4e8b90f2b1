"""The report's study-shape role: :class:`StudyShape`, what this study is, so the report fits it.

Which waves have answers (a declared follow-up may have none yet), which groups have respondents,
whether the study has ties, scale items, several villages, the sinergi instrument's words; its
dimensions and their answer ranges; and :meth:`StudyShape.study_order`, the one order of waves,
groups, tie types and dimensions every table follows (the study's, never alphabetical).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import pandas as pd

from .inputs import Inputs

__all__ = ["StudyShape"]


class StudyShape:
    """The shape of ``study`` as its processed tables ``inputs`` show it.

    Parameters
    ----------
    study : pipeline.config.Study
    inputs : Inputs
    """

    def __init__(self, study: Any, inputs: Inputs):
        self.study, self.inputs = study, inputs
        #: the study's waves and group levels as declared, in its order
        self.waves: list[str] = list(study.wave_ids)
        self.levels: list[str] = list(study.group_values)
        #: the study's tie types, then ``any`` (their union)
        self.tie_types: list[str] = [*study.tie_types, "any"]
        self.alpha = float(study.analysis.alpha)

    # -- the study's kind ------------------------------------------------------------------------
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
    def min_effect(self) -> float:
        """The smallest change the study treats as meaningful (|d_z|, ``analysis.min_effect``)."""
        return float(getattr(self.study.analysis, "min_effect", 0.1))

    # -- what the data hold ----------------------------------------------------------------------
    @cached_property
    def data_waves(self) -> list[str]:
        """The study's waves that have respondents (a declared follow-up may have none yet)."""
        sample = self.inputs("sample.csv")
        if sample is not None and len(sample):
            alls = sample[(sample["group"] == "all") & (pd.to_numeric(sample["n"], errors="coerce") > 0)]
            have = set(alls["wave"].astype(str))
        else:
            resp = self.inputs("respondents.parquet")
            have = set(resp["wave"].astype(str)) if resp is not None else set(self.waves)
        return [w for w in self.waves if w in have] or self.waves[:1]

    @property
    def one_wave(self) -> bool:
        """True while the study has a baseline only (no follow-up wave with answers to compare with)."""
        return len(self.data_waves) < 2

    @cached_property
    def no_scales(self) -> bool:
        """True when the study has no scale items (an empty scale map)."""
        sm = self.inputs("scale_map.parquet")
        return sm is not None and not len(sm)

    @cached_property
    def present_levels(self) -> list[str]:
        """The study's group levels that have respondents in the data (in the study's order)."""
        sample = self.inputs("sample.csv")
        if sample is not None and len(sample):
            n = pd.to_numeric(sample["n"], errors="coerce")
            have = set(sample.loc[(sample["group"] != "all") & (n > 0), "group"].astype(str))
        else:
            resp = self.inputs("respondents.parquet")
            have = set(resp["group"].astype(str)) if resp is not None else set(self.levels)
        return [g for g in self.levels if g in have]

    @property
    def one_group(self) -> bool:
        """True when every respondent is in one group: no group comparisons, no E-I."""
        return len(self.present_levels) < 2

    @cached_property
    def no_ties(self) -> bool:
        """True when the study recorded no ties at all (an empty ties table)."""
        rows = self.inputs.n_rows("ties.parquet")  # a Parquet footer: the ties are not read
        if rows is not None:
            return not rows
        whole = self.inputs("network_whole.csv")
        return whole is not None and not pd.to_numeric(whole["n_ties"], errors="coerce").fillna(0).any()

    @cached_property
    def sites(self) -> list[str]:
        """The villages (``site``) that have respondents, sorted; none without a ``site`` column."""
        resp = self.inputs("respondents.parquet")
        if resp is None or "site" not in resp:
            return []
        return sorted(resp["site"].dropna().astype(str).unique())

    @property
    def n_sites(self) -> int:
        """How many villages the study has (1 without a ``site`` column)."""
        resp = self.inputs("respondents.parquet")
        return len(self.sites) if resp is not None and "site" in resp else 1

    # -- the groups the models compare -----------------------------------------------------------
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

    # -- dimensions and their ranges -------------------------------------------------------------
    @cached_property
    def scale(self) -> tuple[float, float]:
        """(lowest, highest) answer of any scale item (1–5 without a scale map)."""
        sm = self.inputs("scale_map.parquet")
        if sm is not None and len(sm):
            return float(sm["min"].min()), float(sm["max"].max())
        return 1.0, 5.0

    def dim_range(self, dim: str) -> tuple[float, float]:
        """(lowest, highest) answer of a dimension or ``dimension_subscale`` (its own items only)."""
        sm = self.inputs("scale_map.parquet")
        if sm is None or not len(sm):
            return self.scale
        key = sm["dimension"].astype(str) + "_" + sm["subscale"].astype(str)
        part = sm[(sm["dimension"].astype(str) == dim) | (key == dim)]
        if not len(part):
            return self.scale
        return float(part["min"].min()), float(part["max"].max())

    def top_dims(self) -> list[str]:
        """The scale map's dimensions (not their subscales), in order."""
        sm = self.inputs("scale_map.parquet")
        if sm is not None and len(sm):
            return [str(d) for d in pd.unique(sm["dimension"])]
        return [d for d in self._score_dims() if "_" not in d]

    def scale_dims(self) -> list[str]:
        """Overall dimensions then their subscales, in instrument order."""
        sm = self.inputs("scale_map.parquet")
        if sm is not None and len(sm):
            out = []
            for d in pd.unique(sm["dimension"]):
                out.append(str(d))
                for sub in pd.unique(sm.loc[sm["dimension"] == d, "subscale"]):
                    out.append(f"{d}_{sub}")
            return out
        return self._score_dims()

    def _score_dims(self) -> list[str]:
        """The dimensions of ``scores.csv`` in the order they first appear (its one column read, as codes)."""
        def dims() -> list[str]:
            out: dict[str, None] = {}
            for part in self.inputs.csv_batches("scores.csv", ["dimension"]):
                out.update(dict.fromkeys(str(d) for d in pd.unique(part["dimension"])))
            return list(out)
        return list(self.inputs.memo("scores.csv dimensions", dims))

    def order_dims(self, dims: list[str]) -> list[str]:
        """``dims`` in the scale map's order; those it does not list after, sorted."""
        known = self.scale_dims()
        return [d for d in known if d in dims] + sorted(d for d in dims if d not in known)

    def parent(self, d: str) -> str:
        """The dimension of ``d`` (``d`` itself, or the dimension of a ``dimension_subscale``)."""
        return next((top for top in self.top_dims() if d == top or d.startswith(f"{top}_")), d)

    # -- the study's order ----------------------------------------------------------------------
    def groups_order(self, values: list[str]) -> list[str]:
        """``values`` in the study's order: ``all``, then the levels as ``group.levels`` lists them
        (never alphabetical), then anything else sorted."""
        vals = [str(v) for v in values]
        return [g for g in ["all", *self.levels] if g in vals] + sorted(v for v in set(vals)
                                                                          if v not in ["all", *self.levels])

    def study_order(self, df: pd.DataFrame, *cols: str, **orders: list[str]) -> pd.DataFrame:
        """``df`` sorted (stably) by ``cols`` in the study's order, never alphabetically: waves
        (``wave``, ``wave_pre``, ``wave_post``) as listed, tie types as ``tie_types`` then ``any``,
        groups (``group``, ``from_group``, ``to_group``) ``all`` then ``group.levels``, dimensions
        as the scale map (:meth:`order_dims`); other columns by value. Values the order does not
        list come after those it does.

        Parameters
        ----------
        df : pandas.DataFrame
        *cols : str
            The columns to sort by, the first first.
        **orders : list of str
            An order of its own for a column (``role=[...]``; ``group=[*levels, "all"]`` puts
            everyone last).

        Returns
        -------
        pandas.DataFrame
            The same rows and columns, reordered (the index kept).
        """
        known = self._orders(df, cols)
        known.update(orders)
        keys = {}
        for c in cols:
            if c in known:
                rank = {v: i for i, v in enumerate(known[c])}
                keys[f"_order_{c}"] = df[c].astype(str).map(rank).fillna(len(rank)).to_numpy()
            keys[f"_value_{c}"] = df[c].astype(str).to_numpy()
        if not keys:
            return df
        positions = pd.DataFrame(keys).sort_values(list(keys), kind="stable").index
        return df.iloc[positions]

    def _orders(self, df: pd.DataFrame, cols: tuple[str, ...]) -> dict[str, list[str]]:
        """The study's order of each kind of column."""
        groups = ["all", *self.levels]
        orders = {"tie_type": self.tie_types, "group": groups, "from_group": groups, "to_group": groups,
                  "wave": self.waves, "wave_pre": self.waves, "wave_post": self.waves}
        if "dimension" in cols:
            orders["dimension"] = self.order_dims([str(d) for d in pd.unique(df["dimension"])])
        return orders
