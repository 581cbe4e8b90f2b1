"""The report's sections, one module each, in the order they are printed.

Each module has ``section(ctx) -> list[Block]``: a pure function of the
:class:`~pipeline.report.context.Context` (the study, the language and the processed tables read at
the edge). A section whose inputs are missing raises
:class:`~pipeline.report.model.Unavailable` with the one note printed instead; a section that does
not apply to the study (the district summary of a one-village study) returns ``None`` and is left
out, numbering the next one in its place.
"""

from __future__ import annotations

from ..model import Section, Unavailable
from . import collective, colophon, data, designs, district, methods, network, summary, trust

__all__ = ["ORDER", "assemble_sections"]

#: (key, module) in report order; the key names the section's title string ``sec_<key>``
ORDER = [("summary", summary), ("district", district), ("data", data), ("trust", trust), ("network", network),
         ("collective", collective), ("designs", designs), ("methods", methods), ("colophon", colophon)]


def assemble_sections(ctx) -> list[Section]:
    """Every section of the report, numbered, with its blocks (or its one 'not available' note)."""
    out = []
    for key, module in ORDER:
        sec = Section(key=key, number=len(out) + 1, title=ctx.t(ctx.message_id(f"sec_{key}")))
        try:
            blocks = module.section(ctx)
        except Unavailable as exc:
            blocks = [exc.block]
        if blocks is None:  # the section does not apply to this study
            continue
        sec.blocks = blocks
        out.append(sec)
    return out
