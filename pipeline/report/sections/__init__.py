"""The report's sections, one module each, in the order they are printed.

Each module has ``section(ctx) -> list[Block]``: a pure function of the
:class:`~pipeline.report.context.Context` (the study, the language and the processed tables read at
the edge). A section whose inputs are missing raises
:class:`~pipeline.report.model.Unavailable` with the one note printed instead; a section that does
not apply to the study (the district summary of a one-village study) returns ``None`` and is left
out, numbering the next one in its place. The reference list is made last, from the text of every
other section (it lists what they cite), and printed before the colophon.
"""

from __future__ import annotations

from ..context import Context
from ..model import Section, Unavailable
from . import collective, colophon, data, designs, district, methods, network, references, summary, trust

__all__ = ["ORDER", "assemble_sections"]

#: (key, module) in report order; the key names the section's title string ``sec_<key>``
ORDER = [("summary", summary), ("district", district), ("data", data), ("trust", trust), ("network", network),
         ("collective", collective), ("designs", designs), ("methods", methods), ("references", references),
         ("colophon", colophon)]


def assemble_sections(ctx: Context) -> list[Section]:
    """Every section of the report, numbered, with its blocks (or its one 'not available' note)."""
    built: dict[str, Section] = {}
    for key, module in [(k, m) for k, m in ORDER if m is not references]:
        sec = Section(key=key, number=0, title=ctx.words.study_text(f"sec_{key}"))
        try:
            blocks = module.section(ctx)
        except Unavailable as exc:
            blocks = [exc.block]
        if blocks is None:  # the section does not apply to this study
            continue
        sec.blocks = blocks
        built[key] = sec
    refs = references.section(ctx, built.values())
    if refs is not None:
        built["references"] = Section(key="references", number=0, title=ctx.words.text("sec_references"),
                                      blocks=refs)
    out = [built[key] for key, _ in ORDER if key in built]
    for number, sec in enumerate(out, start=1):
        sec.number = number
    return out
