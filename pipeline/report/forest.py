"""The district figure: one sorted dot-and-whisker (forest) panel per dimension over the villages.

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

from .figures import PALETTE, decimal_axes, plt

__all__ = ["forest_figure", "WIDTH", "HEIGHT", "MAX_NAMED", "MAX_PANELS"]

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
