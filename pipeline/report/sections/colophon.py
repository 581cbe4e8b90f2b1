"""The colophon section."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import text as rt
from ..model import Block
from ..provenance import wave_checksum
from ..text import integer, pct


def section(ctx) -> list[Block]:
    a = ctx.study.analysis
    blocks = [Block("p", ctx.t("colophon_intro"))]
    manifest = ctx.manifest()
    kv = [(ctx.t("k_study"), f"{ctx.study.id} — {ctx.study.title}"),
          (ctx.t("k_commit"), ctx.provenance["commit"] or ctx.t("no_git")),
          (ctx.t("k_python"), ctx.provenance["python"]),
          (ctx.t("k_source"), str(ctx.study.source.kind)),
          (ctx.t("k_seed"), str(a.seed)), (ctx.t("k_perms"), integer(a.permutations, ctx.lang)),
          (ctx.t("k_alpha"), ctx.n(a.alpha, 2)), (ctx.t("k_min_share"), f"{ctx.n(a.min_share, 3)} ({pct(a.min_share, ctx.lang, 0)})"),
          (ctx.t("k_min_effect"), ctx.n(ctx.min_effect, 2))]
    if manifest:
        kv.append((ctx.t("k_manifest_written"), rt.when(manifest.get("written_at", "–"), ctx.lang)))
    fingerprint = ctx.key_fingerprint()
    if fingerprint:
        kv.append((ctx.t("k_key_fingerprint"), fingerprint))
    blocks.append(ctx.table("colophon", ctx.t("sec_colophon"), pd.DataFrame(kv, columns=["k", "v"]), [
        ("k", ctx.t("c_key"), "text"), ("v", ctx.t("c_value"), "text")]))
    pk = [(p, v or ctx.t("not_installed")) for p, v in ctx.provenance["packages"].items()]
    blocks.append(ctx.table("packages", ctx.t("t_packages"), pd.DataFrame(pk, columns=["p", "v"]), [
        ("p", ctx.t("c_package"), "text"), ("v", ctx.t("c_version"), "text")]))
    if not manifest:
        blocks.append(Block("unavailable", ctx.t("not_available", what=ctx.t("manifest_missing"))))
    else:
        rows = []
        for w, m in (manifest.get("waves") or {}).items():
            files = m.get("files") or {}
            rows.append({"wave": w, "pulled_at": rt.when(m.get("pulled_at", "–"), ctx.lang), "count": m.get("count", np.nan),
                         "files": len(files), "checksum": wave_checksum(files)})
        blocks.append(ctx.table("raw_data", ctx.t("t_raw"), pd.DataFrame(rows), [
            (lambda d: d["wave"].map(ctx.wl), ctx.t("wave"), "text"),
            ("pulled_at", ctx.t("c_pulled_at"), "text"), ("count", "n", "int"),
            ("files", ctx.t("c_files"), "int"), ("checksum", ctx.t("c_checksum"), "text")],
            note=ctx.t("checksum_note")))
    return blocks
