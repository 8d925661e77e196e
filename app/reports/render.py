"""The biennial report as JSON, HTML and a PDF an auditor can sign."""

from __future__ import annotations

import json
from typing import Any

from app.core.printing import print_pdf, render_document

#: The report's sections in order, for the table of contents (ids match the body's).
SECTIONS = (
    ("violations", "Violations"),
    ("collection", "Reads collected"),
    ("destruction", "Destruction"),
    ("holds", "Holds"),
    ("exculpatory", "Exculpatory-evidence requests"),
    ("acp", "Address Confidentiality Program requests"),
    ("releases", "Releases to other agencies"),
    ("searches", "Searches"),
    ("access", "Access and training"),
    ("bca", "BCA notices"),
    ("breaches", "Breach incidents"),
    ("chain", "The audit trail"),
)

#: Print layout: a title page, a table of contents with page numbers, numbered pages.
REPORT_CSS = """
@page { size: Letter; margin: 2cm 2cm 2.4cm;
  @bottom-center { content: "Page " counter(page) " of " counter(pages); font-size: 8.5pt; }
  @bottom-left { content: string(department); font-size: 8.5pt; color: #555; } }
@page :first { @bottom-center { content: none; } @bottom-left { content: none; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 9.5pt; line-height: 1.4; }
.title-page { page-break-after: always; padding-top: 6cm; }
.title-page h1 { font-size: 20pt; margin: 0.4cm 0; }
.department { string-set: department content(); font-size: 13pt; font-weight: bold; }
.hash { font-family: "DejaVu Sans Mono", monospace; font-size: 8pt; margin-top: 2cm; }
.toc { page-break-after: always; }
.toc a { color: inherit; text-decoration: none; }
.toc a::after { content: leader('.') target-counter(attr(href), page); }
section { page-break-inside: auto; }
h2 { font-size: 13pt; border-bottom: 1pt solid #333; margin-top: 0.8cm; }
table.report { border-collapse: collapse; width: 100%; margin: 0.2cm 0 0.4cm; }
table.report th, table.report td { border: 0.5pt solid #999; padding: 3px 5px; text-align: left;
  vertical-align: top; }
table.report thead { display: table-header-group; }
dl.facts dt { font-weight: bold; float: left; clear: left; width: 45%; }
dl.facts dd { margin-left: 46%; }
.muted { color: #555; }
.bad { font-weight: bold; color: #a00; }
"""


def _named(table: str, ident: str, label: str) -> str:
    return label


def report_json(report: dict[str, Any]) -> str:
    """The report as JSON (sorted keys: the same report is the same bytes)."""
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False)


def report_print_html(report: dict[str, Any], *, generated_at: str, generated_by: str) -> str:
    """The standalone document the PDF prints: title page, contents, sections."""
    return render_document(
        "reports/biennial_print.html",
        report=report,
        sections=SECTIONS,
        generated_at=generated_at,
        generated_by=generated_by,
        ref=_named,
    )


def report_pdf(report: dict[str, Any], *, generated_at: str, generated_by: str) -> bytes:
    """The report as a PDF."""
    return print_pdf(
        report_print_html(report, generated_at=generated_at, generated_by=generated_by),
        REPORT_CSS,
    )
