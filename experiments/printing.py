"""Print the report to PDF with headless Chromium, for circulation where an HTML file will not do.

Chromium renders the page as a browser would (the interactive map is drawn by then, as it stands at
first view), with no header or footer; nothing is fetched, since the page holds everything. Chromium
is found as ``$PRECINCT_CHROMIUM``, else ``chromium``, ``chromium-browser``, ``google-chrome`` on the
PATH; without one, :func:`print_pdf` raises :class:`~sim.errors.ResultsError` saying how to get it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from sim.errors import ResultsError

__all__ = ["find_chromium", "print_pdf"]

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Virtual time the page gets before printing: BokehJS draws the map asynchronously after load.
RENDER_BUDGET_MS = 10000


def find_chromium() -> str | None:
    """Return the Chromium executable to print with, or None if there is none."""
    chosen = os.environ.get("PRECINCT_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).is_file() else None
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def print_pdf(html_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str] | None = None) -> Path:
    """Print ``html_path`` to ``pdf_path`` (default: beside it, ``.pdf``) and return the PDF's path.

    Raises
    ------
    ResultsError
        No Chromium found, or it did not write a PDF (its last error line is quoted).
    """
    source = Path(html_path).resolve()
    target = Path(pdf_path) if pdf_path is not None else source.with_suffix(".pdf")
    browser = find_chromium()
    if browser is None:
        raise ResultsError(
            f"no Chromium to print {source.name} to PDF: install it (Debian/Ubuntu: apt-get install chromium) "
            "or set PRECINCT_CHROMIUM to its path; the HTML report is complete without it"
        )
    tmp = target.with_name(f".{target.name}.tmp.pdf")
    tmp.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="precinct-chromium-") as profile:
        run = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             f"--virtual-time-budget={RENDER_BUDGET_MS}", "--no-pdf-header-footer", f"--print-to-pdf={tmp}",
             source.as_uri()],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    if not tmp.is_file() or tmp.stat().st_size == 0:
        lines = [ln for ln in run.stderr.splitlines() if ln.strip() and "dbus" not in ln.lower()]
        raise ResultsError(
            f"Chromium did not print {source.name} ({lines[-1] if lines else f'exit {run.returncode}'})"
        )
    os.replace(tmp, target)
    return target
