"""The colophon section: what made this report (study, commit, Python, settings, packages) and the
raw data it read (each wave's pull time, count and checksum)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import text as rt
from ..columns import Column, Fmt
from ..context import Context
from ..model import Block
from ..provenance import wave_checksum

SETTING_COLUMNS = [Column("k", "c_key"), Column("v", "c_value")]
PACKAGE_COLUMNS = [Column("p", "c_package"), Column("v", "c_version")]
RAW_COLUMNS = [Column("wave", "wave", Fmt.WAVE), Column("pulled_at", "c_pulled_at"), Column("count", "c_n", Fmt.INT),
               Column("files", "c_files", Fmt.INT), Column("checksum", "c_checksum")]


def section(ctx: Context) -> list[Block]:
    """The colophon: the settings and the code, the packages, the raw data's checksums.

    Reads the raw data's manifest, the key fingerprint and the provenance the context holds (no
    processed file). Prints the tables ``colophon``, ``packages`` and ``raw_data``.
    """
    words, numbering = ctx.words, ctx.numbering
    blocks = [Block("p", words.text("colophon_intro")),
              numbering.table("colophon", words.text("sec_colophon"), _settings(ctx), SETTING_COLUMNS)]
    pk = [(p, v or words.text("not_installed")) for p, v in ctx.provenance["packages"].items()]
    blocks.append(numbering.table("packages", words.text("t_packages"), pd.DataFrame(pk, columns=["p", "v"]),
                                  PACKAGE_COLUMNS))
    if not ctx.manifest:
        return blocks + [Block("unavailable", words.text("not_available", what=words.text("manifest_missing")))]
    rows = []
    for w, m in (ctx.manifest.get("waves") or {}).items():
        files = m.get("files") or {}
        rows.append({"wave": w, "pulled_at": rt.when(m.get("pulled_at", "–"), ctx.lang),
                     "count": m.get("count", np.nan), "files": len(files), "checksum": wave_checksum(files)})
    return blocks + [numbering.table("raw_data", words.text("t_raw"), pd.DataFrame(rows), RAW_COLUMNS,
                                     note=words.text("checksum_note"))]


def _settings(ctx: Context) -> pd.DataFrame:
    """(setting, value): the study, commit, Python, source, seed, permutations, alpha, the share of
    items a score needs, the smallest meaningful change, the manifest's time, the key fingerprint."""
    words, a = ctx.words, ctx.study.analysis
    kv = [(words.text("k_study"), f"{ctx.study.id} — {ctx.study.title}"),
          (words.text("k_commit"), ctx.provenance["commit"] or words.text("no_git")),
          (words.text("k_python"), ctx.provenance["python"]),
          (words.text("k_source"), str(ctx.study.source.kind)),
          (words.text("k_seed"), str(a.seed)), (words.text("k_perms"), words.integer(a.permutations)),
          (words.text("k_alpha"), words.number(a.alpha, 2)),
          (words.text("k_min_share"), f"{words.number(a.min_share, 3)} ({words.share(a.min_share, 0)})"),
          (words.text("k_min_effect"), words.number(ctx.shape.min_effect, 2))]
    if ctx.manifest:
        kv.append((words.text("k_manifest_written"), rt.when(ctx.manifest.get("written_at", "–"), ctx.lang)))
    if ctx.key_fingerprint:
        kv.append((words.text("k_key_fingerprint"), ctx.key_fingerprint))
    return pd.DataFrame(kv, columns=["k", "v"])
