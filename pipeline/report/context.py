"""The report's context: the study and its language, and one part per role.

================  =================================================================================
``inputs``        :class:`~pipeline.report.inputs.Inputs`, the processed tables, each read when asked
``words``         :class:`~pipeline.report.words.Words`, messages, numbers and the study's names
``shape``         :class:`~pipeline.report.shape.StudyShape`, what the study is; its order
``numbering``     :class:`~pipeline.report.numbering.Numbering`, the numbered tables and figures
================  =================================================================================

:func:`read_context` is the edge: it finds the processed files (each read when a section first asks,
the large ones in parts: :mod:`~pipeline.report.inputs`) and reads the raw manifest, the instrument
and the provenance once. Sections are pure functions of a :class:`Context`.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

from ..config import instrument_path
from ..errors import SinergiError
from ..instrument import load_instrument
from ..io import read_json
from ..outputs import STAGE_OF
from ..pseudonym import processed_fingerprint
from .inputs import Inputs
from .labels import Labels
from .model import Block
from .numbering import Numbering
from .provenance import PACKAGES, git_commit, package_version
from .shape import StudyShape
from .words import Words

__all__ = ["Context", "Inputs", "read_context"]


class Context:
    """What a section needs: the study, the language, and the parts that read, word, shape and number.

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
        self.study, self.lang, self.inputs = study, lang, inputs
        self.shape = StudyShape(study, inputs)
        #: the names of the study's dimensions, tie types and covariates (instrument, else catalogue)
        self.labels = Labels(instrument, lang, inputs("scale_map.parquet"))
        self.words = Words(study, lang, self.labels, instrument_words=self.shape.umkm,
                           origin_groups=self.shape.origin_groups)
        self.numbering = Numbering(self.words)
        self.manifest = manifest or None
        self.key_fingerprint = key_fingerprint
        self.instrument = instrument
        self.provenance = provenance or {"commit": None, "python": platform.python_version(), "packages": {}}

    # -- notes a section prints instead of what it cannot show -----------------------------------
    def missing(self, *names: str) -> Block | None:
        """A note block when any of the files ``names`` is missing (naming the command that makes
        it), else None."""
        gone = [nm for nm in names if not self.inputs.has(nm)]
        if not gone:
            return None
        what = "; ".join(self.words.text("missing_file", file=nm, cmd=STAGE_OF.get(nm, "make report")) for nm in gone)
        return Block("unavailable", self.words.text("not_available", what=what))

    def one_wave_note(self, what: str) -> Block:
        """A note that ``what`` (a message id) needs a follow-up wave."""
        words = self.words
        return Block("note", words.text("one_wave_note", wave=words.wave(self.shape.data_waves[0]),
                                        what=words.text(what)))

    def one_wave_scope(self) -> Block:
        """The report's scope while there is no follow-up wave (naming declared waves still empty)."""
        words, shape = self.words, self.shape
        text = words.study_text("one_wave_scope", wave=words.wave(shape.data_waves[0]))
        empty = [words.wave(w) for w in shape.waves if w not in shape.data_waves]
        if empty:
            text += " " + words.text("empty_waves", waves=", ".join(empty))
        return Block("note", text)

    def no_network_text(self) -> str:
        """The one line a network part of the report shows for a study without networks: it has no
        network questions (no tie types), or it asked them and recorded no ties."""
        return self.words.text("net_no_ties" if self.study.tie_types else "net_no_network")

    # -- words that depend on the study's shape --------------------------------------------------
    def groups_text(self) -> str:
        """The groups present, by their labels (``Non-smokers and Smokers``)."""
        return self.words.join([self.words.group(g) for g in self.shape.present_levels])

    def range_text(self, dim: str) -> str:
        """A dimension's answer range, ``1–5``."""
        lo, hi = self.shape.dim_range(dim)
        return f"{self.words.number(lo, 0)}–{self.words.number(hi, 0)}"

    def ranges_text(self, dims: list[str] | None = None) -> str:
        """``Alcohol 1–5, Smoking 1–3`` (one range when every dimension has the same)."""
        dims = self.shape.top_dims() if dims is None else dims
        ranges = {d: self.range_text(d) for d in dims}
        if len(set(ranges.values())) == 1:
            return next(iter(ranges.values()))
        return ", ".join(f"{self.words.dimension(d)} {r}" for d, r in ranges.items())


def read_context(study: Any, lang: str) -> Context:
    """The edge: read the processed tables, manifest, instrument and provenance for ``study``."""
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
