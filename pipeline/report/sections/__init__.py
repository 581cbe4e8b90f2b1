"""The report's sections, one module each, in the order they are printed.

Each module has ``section(ctx) -> list[Block]``: a pure function of the
:class:`~pipeline.report.context.Context` (the study, the language and the processed tables read at
the edge). A section whose inputs are missing raises
:class:`~pipeline.report.model.Unavailable` with the one note printed instead.
"""

from __future__ import annotations

from ..model import Section, Unavailable
from . import collective, colophon, data, designs, methods, network, summary, trust

__all__ = ["ORDER", "assemble_sections"]

#: (key, module) in report order; the key names the section's title string ``sec_<key>``
ORDER = [("summary", summary), ("data", data), ("trust", trust), ("network", network),
         ("collective", collective), ("designs", designs), ("methods", methods), ("colophon", colophon)]


def assemble_sections(ctx) -> list[Section]:
    """Every section of the report, numbered, with its blocks (or its one 'not available' note)."""
    out = []
    for i, (key, module) in enumerate(ORDER, start=1):
        sec = Section(key=key, number=i, title=ctx.t(f"sec_{key}"))
        try:
            sec.blocks = module.section(ctx)
        except Unavailable as exc:
            sec.blocks = [exc.block]
        out.append(sec)
    return out
