"""Render the report model to one self-contained HTML page (Jinja2 template, CSS inline)."""

from __future__ import annotations

from pathlib import Path

from . import text as rt
from .context import Context
from .model import Section

__all__ = ["render_html", "TEMPLATES"]

TEMPLATES = Path(__file__).resolve().parent / "templates"


def render_html(rep: Context, sections: list[Section]) -> str:
    """The report page: ``sections`` rendered by ``templates/report.html.j2`` in ``rep.lang``."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    study = rep.study
    waves = ", ".join(rep.words.wave(w) for w in rep.shape.waves)
    return env.get_template("report.html.j2").render(
        lang=rep.lang, title=study.title, study=study, sections=sections, css=css, waves=waves,
        kicker=rep.words.study_text("report"),
        T=rt.STRINGS[rep.lang], source_kind=str(study.source.kind))
