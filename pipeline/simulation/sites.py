"""The demo's comparison villages: their site names, folders and seeds.

Shared by the demo (which simulates them) and by the study settings (whose default arms name them).
"""

from __future__ import annotations

from .seeds import digest


def comparison_seed(seed: int, c: int) -> int:
    """Seed of the demo's comparison village ``c`` (1, 2, …)."""
    return int.from_bytes(digest(seed, "comparison-village", c)[:4], "big")


def comparison_slug(c: int) -> str:
    """Folder of comparison village ``c`` under ``data/raw/<study>/sites/``."""
    return f"pembanding-{c}"


def comparison_name(c: int) -> str:
    """Site name of the demo's comparison village ``c``."""
    return f"Desa Pembanding {c}"
