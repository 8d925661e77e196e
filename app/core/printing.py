"""Documents printed to PDF: rendered by a Jinja environment of their own, printed by WeasyPrint.

No request and no app: a job, a command or a page renders a letter or a report the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from PIL import ImageFile

#: WeasyPrint switches Pillow to accept truncated pictures for the whole process when it is
#: first imported; the setting is put back, or the image store and the request letters' check
#: would take damaged pictures for whole ones (the documents printed here embed no picture).
_ACCEPTS_TRUNCATED = ImageFile.LOAD_TRUNCATED_IMAGES
from weasyprint import CSS, HTML  # noqa: E402

ImageFile.LOAD_TRUNCATED_IMAGES = _ACCEPTS_TRUNCATED

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True)
)


def render_document(template: str, **context: Any) -> str:
    """A print template rendered to HTML (what the PDF prints)."""
    return _environment.get_template(template).render(**context)


def print_pdf(html: str, css: str) -> bytes:
    """HTML printed to a PDF with the print stylesheet `css`."""
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf(stylesheets=[CSS(string=css)])
