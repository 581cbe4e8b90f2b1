"""PDF copies of the report's pages, printed by headless Chromium (when it is installed).

:func:`print_pdf` prints one self-contained HTML file to PDF with the page sizes its CSS asks for
(``@page``: A4, landscape pages for wide tables). Chromium writes the clock time into the PDF's
``/CreationDate`` and ``/ModDate``; they are replaced by ``when`` (the time the raw data was
written, as every other dated output), so the same data, code and Chromium version give the same
bytes on every rerun. The Chromium version is in the PDF's ``/Creator``.

Without Chromium no PDF is written and a ``sinergi: note`` says so; the HTML files print the same
way from any Chromium-based browser (*Print → Save as PDF*).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

from ..io import EPOCH, note, write_bytes

__all__ = ["chromium", "print_pdf", "stamp", "without_file_links"]

_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:\d{14}[^)]*\)")


def chromium() -> str | None:
    """The Chromium (or Chrome) executable on the PATH, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def stamp(pdf: bytes, when: datetime) -> bytes:
    """``pdf`` with its creation and modification dates set to ``when`` (UTC), lengths kept so the
    cross-reference offsets stay valid.

    >>> from datetime import datetime, timezone
    >>> stamp(b"/CreationDate (D:20261201135009+00'00')", datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc))
    b"/CreationDate (D:20261123030000+00'00')"
    """
    value = f"D:{when:%Y%m%d%H%M%S}+00'00'".encode()

    def one(m: re.Match) -> bytes:
        new = b"/" + m.group(1) + b" (" + value + b")"
        return new if len(new) == len(m.group(0)) else m.group(0)

    return _DATE.sub(one, pdf)


#: an ``href`` to a file beside the page (a figure's SVG): not an anchor in the page (``#…``), not a URL
_FILE_HREF = re.compile(r'\shref="(?!#)(?![a-zA-Z][a-zA-Z0-9+.-]*:)[^"]*"')


def without_file_links(page: str) -> str:
    """``page`` with its links to files beside it made plain text (the words stay).

    Chromium writes such a link into the PDF as an absolute ``file://`` address of the folder the page
    was printed from: a temporary folder that differs at every build and names the machine's paths.

    >>> without_file_links('<a class="zoom" href="figures/01_a.svg">x</a> <a href="#t1">T</a> <a href="https://doi.org/1">d</a>')
    '<a class="zoom">x</a> <a href="#t1">T</a> <a href="https://doi.org/1">d</a>'
    """
    return _FILE_HREF.sub("", page)


def print_pdf(html: Path, pdf: Path, when: datetime = EPOCH, *, timeout: float = 180) -> bool:
    """Print ``html`` to ``pdf`` (written atomically) with headless Chromium, dated ``when``.

    The page printed is a copy of ``html`` without its links to files (:func:`without_file_links`).

    Returns
    -------
    bool
        True when the PDF was written; False (with a note, nothing written) without Chromium or
        when it fails.
    """
    exe = chromium()
    if exe is None:
        note(f"{pdf.name} not written: Chromium is not installed (print {html.name} from a browser instead)")
        return False
    with tempfile.TemporaryDirectory(prefix="sinergi-chromium-") as profile:
        out = Path(profile) / "out.pdf"
        page = Path(profile) / "page.html"  # the page is self-contained: figures are data URIs
        page.write_text(without_file_links(Path(html).read_text(encoding="utf-8")), encoding="utf-8")
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-extensions", f"--user-data-dir={profile}", f"--print-to-pdf={out}",
               page.resolve().as_uri()]
        try:
            run = subprocess.run(cmd, capture_output=True, timeout=timeout)
        except (OSError, subprocess.SubprocessError) as exc:
            note(f"{pdf.name} not written: Chromium failed ({type(exc).__name__})")
            return False
        if run.returncode != 0 or not out.exists() or out.read_bytes()[:5] != b"%PDF-":
            note(f"{pdf.name} not written: Chromium exited with status {run.returncode}")
            return False
        write_bytes(pdf, stamp(out.read_bytes(), when))
    return True
