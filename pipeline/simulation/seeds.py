"""Reproducible randomness: one independent generator per component of the simulation.

Each component (the people, the roster flow, the answers, one wave's visits, …) draws from its own
stream, seeded from the study seed and the component's name, so changing one part of the model
leaves every other draw as it was.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np


def digest(*parts: Any) -> bytes:
    """SHA-256 of the parts joined by a unit separator (a stable hash of any labels).

    >>> digest(1, "people") == digest(1, "people"), digest(1, "people") != digest(2, "people")
    (True, True)
    """
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()


def rng(seed: int, *parts: Any) -> np.random.Generator:
    """An independent generator per component, so changing one part leaves the others alone."""
    return np.random.default_rng(int.from_bytes(digest(seed, *parts)[:16], "big"))


def rounded(x: float, nd: int = 4) -> float:
    """``x`` as a float rounded to ``nd`` decimals (the truth file's figures).

    >>> rounded(0.123456)
    0.1235
    """
    return float(round(float(x), nd))
