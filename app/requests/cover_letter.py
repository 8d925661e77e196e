"""The cover letter of a release package (425.7): the request, the approval and the finding.

Rendered from ``templates/requests/cover_letter.html`` by the printing environment (no request,
no app: the job and the benchmark render it the same) and printed to PDF by WeasyPrint.
"""

from __future__ import annotations

from typing import Any

from app.core.printing import print_pdf, render_document

COVER_TEMPLATE = "requests/cover_letter.html"

#: Print layout: a plain letter on US Letter paper, numbered pages.
COVER_CSS = """
@page { size: Letter; margin: 2cm;
        @bottom-right { content: "page " counter(page) " of " counter(pages); font-size: 9pt; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10.5pt; line-height: 1.4; }
h1 { font-size: 15pt; margin-bottom: 0; }
.dept { color: #444; margin-top: 2pt; }
dl { display: grid; grid-template-columns: 38% 62%; }
dt { font-weight: bold; margin: 3pt 0; }
dd { margin: 3pt 0; }
.statement { border: 1px solid #999; padding: 6pt; margin-top: 12pt; }
"""


def cover_letter_pdf(facts: dict[str, Any]) -> bytes:
    """The cover letter of :func:`app.requests.packages.cover_facts` as a PDF document."""
    return print_pdf(render_document(COVER_TEMPLATE, **facts), COVER_CSS)
