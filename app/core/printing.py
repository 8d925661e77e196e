"""Documents printed to PDF: rendered by a Jinja environment of their own, printed by WeasyPrint.

No request and no app: a job, a command or a page renders a letter or a report the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from weasyprint import CSS, HTML

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
