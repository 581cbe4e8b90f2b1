"""Forest plots: each dimension's change by group (:func:`change_forest_figure`, the trust section)
and, for a district, one sorted dot-and-whisker panel per dimension over the villages
(:func:`forest_figure`).

The figure has a fixed size whatever the number of villages (:data:`WIDTH` × :data:`HEIGHT`
inches at :data:`pipeline.report.figures.DPI`): villages are rows sorted by their change, their
95 % CIs drawn as one line collection; village names are written on the axis only up to
:data:`MAX_NAMED` villages, beyond that only the flagged ones (Holm) are named beside their dot.
The pooled change is a vertical line with its CI as a band, the prediction interval dashed.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .figures import PALETTE, decimal_axes, group_palette, plt

__all__ = ["forest_figure", "change_forest_figure", "WIDTH", "HEIGHT", "MAX_NAMED", "MAX_PANELS"]

WIDTH, HEIGHT = 7.4, 5.2   # inches, whatever the number of villages
MAX_NAMED = 30             # up to this many villages every row is named on the axis
MAX_PANELS = 4             # dimensions drawn side by side; more are in the table only
MAX_LABELS = 6             # flagged villages named in a panel beyond MAX_NAMED
FLAG = "#D55E00"


def forest_figure(sites: pd.DataFrame, pooled: pd.DataFrame, dims: list[str], *,
                  dim_label: Callable[[str], str], change_label: str, pooled_label: str,
                  pi_label: str, flag_label: str, alpha: float = 0.05):
    """``sites``: ``district_sites.csv`` rows of one wave pair; ``pooled``: its ``district.csv`` rows.

    One panel per dimension of ``dims`` (at most :data:`MAX_PANELS`), villages sorted by change.
    """
    dims = dims[:MAX_PANELS]
    fig, axes = plt.subplots(1, len(dims), figsize=(WIDTH, HEIGHT), squeeze=False, sharey=False)
    for ax, dim in zip(axes[0], dims):
        s = sites[sites["dimension"] == dim].sort_values(["diff", "site"], kind="stable").reset_index(drop=True)
        k = len(s)
        y = np.arange(k)
        lo, hi = s["ci_low"].to_numpy(float), s["ci_high"].to_numpy(float)
        flagged = (s["p_dev_holm"] < alpha).to_numpy()
        colors = np.where(flagged, FLAG, PALETTE[0])
        lw = 1.2 if k <= 60 else max(0.35, 60 / k)
        segs = [((a, yy), (b, yy)) for a, b, yy in zip(lo, hi, y) if np.isfinite(a) and np.isfinite(b)]
        seg_c = [c for a, b, c in zip(lo, hi, colors) if np.isfinite(a) and np.isfinite(b)]
        ax.add_collection(LineCollection(segs, colors=seg_c, linewidths=lw, alpha=0.75))
        ms = 16 if k <= 60 else max(2.0, 16 * 60 / k)
        ax.scatter(s["diff"], y, s=ms, c=colors, zorder=3, linewidths=0)
        nest = pooled[(pooled["dimension"] == dim) & (pooled["model"] == "nested")]
        re = pooled[(pooled["dimension"] == dim) & (pooled["model"] == "random_effects")]
        if len(nest):
            r = nest.iloc[0]
            ax.axvspan(r["ci_low"], r["ci_high"], color="#444444", alpha=0.15, lw=0)
            ax.axvline(r["estimate"], color="#222222", lw=1.0)
        if len(re) and np.isfinite(re.iloc[0]["pi_low"]):
            for v in (re.iloc[0]["pi_low"], re.iloc[0]["pi_high"]):
                ax.axvline(v, color="#222222", lw=0.8, ls=(0, (3, 2)))
        ax.axvline(0, color="#999999", lw=0.6)
        ax.set_ylim(-1, k)
        if k <= MAX_NAMED:
            ax.set_yticks(y)
            ax.set_yticklabels(s["site"], fontsize=max(5, min(8, 200 / max(k, 1))))
        else:
            ax.set_yticks([])
            named = s[flagged].reindex(s[flagged]["diff"].sub(s["diff"].median()).abs()
                                       .sort_values(ascending=False).index)[:MAX_LABELS]
            kept: list[int] = []  # labels at least 4 % of the rows apart, so that none overlaps
            for i in named.index:
                if all(abs(i - j) >= max(1, 0.04 * k) for j in kept):
                    kept.append(i)
            for i, row in named.loc[kept].iterrows():
                ax.annotate(str(row["site"]), (row["ci_high"] if row["diff"] >= 0 else row["ci_low"], i),
                            xytext=(3 if row["diff"] >= 0 else -3, 0), textcoords="offset points",
                            ha="left" if row["diff"] >= 0 else "right", va="center", fontsize=6, color=FLAG)
        finite = np.r_[lo[np.isfinite(lo)], hi[np.isfinite(hi)]]
        if finite.size:
            pad = 0.08 * (finite.max() - finite.min() or 1)
            ax.set_xlim(finite.min() - pad, finite.max() + pad)
        ax.set_title(dim_label(dim), fontsize=9)
        ax.set_xlabel(change_label, fontsize=8)
        decimal_axes(ax, "x")
        ax.grid(axis="x", color="#eeeeee", lw=0.5)
        ax.set_axisbelow(True)
    handles = [Line2D([], [], color="#222222", lw=1.0, label=pooled_label),
               Patch(color="#444444", alpha=0.15, label="95% CI"),
               Line2D([], [], color="#222222", lw=0.8, ls=(0, (3, 2)), label=pi_label),
               Line2D([], [], marker="o", color=FLAG, ls="", ms=4, label=flag_label)]
    fig.legend(handles=handles, loc="lower center", ncol=4, frameon=False, fontsize=7)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def _change_rows(prepost: pd.DataFrame, dims: list[str], groups: list[str]) -> pd.DataFrame:
    """The rows drawn, in order: each dimension of ``dims``, then its groups in ``groups`` order,
    with their y position (room above each dimension's rows for its name)."""
    rows, y = [], 0.0
    for d in dims:
        part = prepost[prepost["dimension"].astype(str) == d]
        block = [part[part["group"].astype(str) == g].iloc[0] for g in groups if (part["group"].astype(str) == g).any()]
        y += 0.85 if block else 0  # the dimension's name above its rows
        for r in block:
            rows.append({"dimension": d, "group": str(r["group"]), "y": y, "diff": float(r["diff"]),
                         "lo": float(r["diff_ci_low"]), "hi": float(r["diff_ci_high"]),
                         "p_holm": float(r["p_holm"]) if pd.notna(r.get("p_holm")) else np.nan})
            y += 1
        y += 0.35 if block else 0
    return pd.DataFrame(rows, columns=["dimension", "group", "y", "diff", "lo", "hi", "p_holm"])


def change_forest_figure(prepost: pd.DataFrame, dims: list[str], levels: list[str], *,
                         dim_label: Callable[[str], str], group_label: Callable[[str], str], change_label: str,
                         sig_label: str, ns_label: str, alpha: float = 0.05):
    """Each dimension's change (after − before) by group with its 95 % CI: a forest plot.

    One row per dimension × group (everyone first, then the groups in study order, as the tables),
    the mean change as a dot and its CI as a line, filled when the change is significant after
    Holm's correction (``p_holm`` < ``alpha``), open otherwise; a vertical line at no change.

    Parameters
    ----------
    prepost : DataFrame
        ``prepost.csv`` rows of one wave pair (``dimension``, ``group``, ``diff``,
        ``diff_ci_low``, ``diff_ci_high``, ``p_holm``); ``group`` "all" is everyone.
    dims : list of str
        The dimensions in the report's order.
    levels : list of str
        The group levels in study order (their colours: :func:`~pipeline.report.figures.group_palette`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    groups = ["all", *levels]
    pal = {"all": "#222222", **group_palette(levels)}
    rows = _change_rows(prepost, dims, groups)
    fig, ax = plt.subplots(figsize=(6.4, 1.1 + 0.19 * len(rows) + 0.2 * len(dims)))
    for _, r in rows.iterrows():
        c = pal.get(r["group"], "#777777")
        if np.isfinite(r["lo"]) and np.isfinite(r["hi"]):
            ax.plot([r["lo"], r["hi"]], [r["y"], r["y"]], color=c, lw=1.4, solid_capstyle="butt")
        filled = np.isfinite(r["p_holm"]) and r["p_holm"] < alpha
        ax.plot([r["diff"]], [r["y"]], marker="D" if r["group"] == "all" else "o", ms=5.5, mec=c, mew=1.3,
                color=c if filled else "white", ls="", zorder=3)
    for d, first in rows.groupby("dimension", sort=False)["y"].min().items():  # each dimension's name
        ax.text(0.0, first - 0.75, dim_label(d), transform=ax.get_yaxis_transform(), ha="left", va="center",
                fontsize=8.5, fontweight="bold", color="#333333")
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.set_ylim(rows["y"].max() + 0.7 if len(rows) else 1, -0.3)
    ax.axvline(0, color="#777777", lw=0.8)
    ax.set_xlabel(change_label)
    decimal_axes(ax, "x")
    ax.grid(axis="x", color="#eeeeee", lw=0.6)
    ax.set_axisbelow(True)
    handles = [Line2D([], [], marker="D" if g == "all" else "o", color=pal[g], ls="-", lw=1.4, ms=5.5,
                      label=group_label(g)) for g in groups if (rows["group"] == g).any()]
    handles += [Line2D([], [], marker="o", color="#444444", ls="", ms=5.5, label=sig_label),
                Line2D([], [], marker="o", mfc="white", mec="#444444", ls="", ms=5.5, label=ns_label)]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.09 if len(rows) > 12 else -0.16),
              ncol=min(5, len(handles)), frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
