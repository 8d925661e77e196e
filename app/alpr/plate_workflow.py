"""A read's plate from a picture: OCR's verdict, then an operator's review when OCR is unsure.

States are the stored ``reads.plate_status`` values::

    pending_ocr ──ocr_accept──▶ ocr_accepted
         ├──────ocr_doubt───▶ needs_review ──confirm──▶ confirmed
         │                          └───────correct──▶ corrected
         └──────ocr_fail────▶ unreadable

A camera-reported plate (``reported``) never enters the machine: no step applies to it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from statemachine import State

from app.alpr.models import PlateStatus, Read
from app.core.workflow import GuardedMachine, WorkflowError


class PlateMachine(GuardedMachine):
    """The plate-status machine, built around a loaded Read on demand."""

    CASE_LABEL: ClassVar[str] = "read"
    REFUSALS: ClassVar[dict[str, str]] = {
        "plate_given": "A plate is needed for this step.",
        "plate_changed": "A correction must name a plate different from the one OCR read; "
        "to keep OCR's plate, confirm it.",
    }

    pending_ocr = State("Pending OCR", value=PlateStatus.PENDING_OCR.value, initial=True)
    ocr_accepted = State("OCR accepted", value=PlateStatus.OCR_ACCEPTED.value, final=True)
    needs_review = State("Needs review", value=PlateStatus.NEEDS_REVIEW.value)
    unreadable = State("Unreadable", value=PlateStatus.UNREADABLE.value, final=True)
    confirmed = State("Confirmed", value=PlateStatus.CONFIRMED.value, final=True)
    corrected = State("Corrected", value=PlateStatus.CORRECTED.value, final=True)

    ocr_accept = pending_ocr.to(ocr_accepted, cond="plate_given")
    ocr_doubt = pending_ocr.to(needs_review, cond="plate_given")
    ocr_fail = pending_ocr.to(unreadable)
    confirm = needs_review.to(confirmed, cond="plate_given")
    correct = needs_review.to(corrected, cond=["plate_given", "plate_changed"])

    def plate_given(self, plate: str | None = None, **_: Any) -> bool:
        """Acceptance, doubt, confirmation and correction all stand behind a plate."""
        return bool(plate)

    def plate_changed(self, plate: str | None = None, **_: Any) -> bool:
        """A 'correction' to the same plate would misstate what the operator did."""
        return plate != self.model.plate


def advance(read: Read, event: str, plate: str | None) -> None:
    """Take `event` on `read`'s plate or raise WorkflowError saying why not."""
    if read.plate_status == PlateStatus.REPORTED.value:
        raise WorkflowError("The camera reported this plate; there is no OCR step to take.")
    PlateMachine(model=read, state_field="plate_status").fire(event, plate=plate)
