"""The letter that tells the BCA of an event (policy 425.4.1(d), Minn. Stat. § 13.824 subd. 8).

Rendered from ``templates/bca/letter.html`` by a Jinja environment of its own (no request, no
app: a job or a command renders it the same) and printed to PDF by WeasyPrint. It carries what
the Bureau needs to know: the agency, the event and its date, the device (serial, kind,
description) and, for a fixed location, where it stands and since when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.bca.models import BcaNotice
from app.core.printing import print_pdf, render_document

LETTER_TEMPLATE = "bca/letter.html"

#: Print layout: a plain business letter on US Letter paper.
LETTER_CSS = """
@page { size: Letter; margin: 2.2cm 2.4cm; }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10.5pt; line-height: 1.45; }
h1 { font-size: 14pt; margin: 0 0 0.2cm; }
.from { margin-bottom: 0.8cm; }
.muted { color: #555; }
table.facts { border-collapse: collapse; width: 100%; margin: 0.4cm 0; }
table.facts th { text-align: left; width: 38%; padding: 4px 8px 4px 0; vertical-align: top; }
table.facts td { padding: 4px 0; }
table.facts tr { border-bottom: 0.5pt solid #bbb; }
.footer { margin-top: 1cm; font-size: 9pt; }
"""


@dataclass(frozen=True)
class Sending:
    """How the letter went out, printed on the kept copy (absent on a draft)."""

    sent_on: date
    method: str
    sent_to: str
    reference: str
    sender: str


def letter_html(
    notice: BcaNotice, *, department: str, written_on: date, sending: Sending | None
) -> str:
    """The letter as HTML (what the PDF prints)."""
    return render_document(
        LETTER_TEMPLATE,
        notice=notice,
        department=department,
        written_on=written_on,
        sending=sending,
    )


def letter_pdf(
    notice: BcaNotice, *, department: str, written_on: date, sending: Sending | None
) -> bytes:
    """The letter as a PDF document."""
    html = letter_html(notice, department=department, written_on=written_on, sending=sending)
    return print_pdf(html, LETTER_CSS)
