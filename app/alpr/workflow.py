"""The ALPR domain's two workflows: hit alerts, and a picture's plate.

Hit alerts (policy 425.4(f)): verify before acting, and say why when you cannot.

States are the stored ``hits.status`` values::

    new ──confirm──────────────▶ confirmed ─────close──▶ closed
     └───mark_not_confirmed──▶ not_confirmed ──close──┘

Recording an enforcement action is an internal transition (the state does not change): on a
confirmed hit it needs only the action; on a hit that is new or not confirmed it also needs a
stated reason why verification through MNJIS/NLETS was impracticable. A closed hit takes no step.
"""

from __future__ import annotations

from typing import Any

from statemachine import State

from app.alpr.permissions import ALPR_PERMISSIONS, AlprAction
from app.reads.models import Hit, HitStatus, PlateStatus, Read
from app.workflow.machine import GuardedMachine, WorkflowError

#: The systems 425.4(f) names for verifying an ALPR alert.
VERIFICATION_SYSTEMS = ("MNJIS", "NLETS", "MNJIS and NLETS")


def _given(value: str | None) -> bool:
    return bool(value and value.strip())


class HitMachine(GuardedMachine):
    """new → confirmed | not_confirmed → closed; enforcement recorded in any open state."""

    MODEL = Hit
    CASE_LABEL = "hit"
    STEP_LABELS = {
        "confirm": "Confirm",
        "mark_not_confirmed": "Not confirmed",
        "record_enforcement": "Record enforcement",
        "close": "Close",
    }
    FIELDS = {
        "verification_named": "verified_via",
        "reason_given": "reason",
        "closing_note_given": "note",
        "action_described": "action",
        "impracticable_reason_given": "impracticable_reason",
    }
    REFUSALS = {
        "actor_works_hits": "Your role does not work hit alerts.",
        "verification_named": (
            "Name the system the hit was verified through: " + ", ".join(VERIFICATION_SYSTEMS) + "."
        ),
        "reason_given": "State why the hit could not be confirmed.",
        "closing_note_given": "A closing note is required to close a hit.",
        "action_described": "Describe the enforcement action taken.",
        "impracticable_reason_given": (
            "This hit has not been confirmed through MNJIS/NLETS: state why verification was "
            "impracticable before recording an enforcement action (policy 425.4(f))."
        ),
        "no_enforcement_yet": "An enforcement action is already recorded on this hit.",
    }

    new = State(value=HitStatus.NEW.value, initial=True)
    confirmed = State(value=HitStatus.CONFIRMED.value)
    not_confirmed = State(value=HitStatus.NOT_CONFIRMED.value)
    closed = State(value=HitStatus.CLOSED.value, final=True)

    confirm = new.to(confirmed, cond=["actor_works_hits", "verification_named"])
    mark_not_confirmed = new.to(not_confirmed, cond=["actor_works_hits", "reason_given"])
    close = confirmed.to(closed, cond=["actor_works_hits", "closing_note_given"]) | (
        not_confirmed.to(closed, cond=["actor_works_hits", "closing_note_given"])
    )
    record_enforcement = (
        confirmed.to.itself(
            internal=True, cond=["actor_works_hits", "action_described", "no_enforcement_yet"]
        )
        | new.to.itself(
            internal=True,
            cond=[
                "actor_works_hits",
                "action_described",
                "impracticable_reason_given",
                "no_enforcement_yet",
            ],
        )
        | not_confirmed.to.itself(
            internal=True,
            cond=[
                "actor_works_hits",
                "action_described",
                "impracticable_reason_given",
                "no_enforcement_yet",
            ],
        )
    )

    def actor_works_hits(self, actor: object = None, **_: Any) -> bool:
        """A hit is worked by a person whose role works hits (a job never verifies one)."""
        return ALPR_PERMISSIONS.allows(actor, AlprAction.WORK_HITS)

    def verification_named(self, verified_via: str | None = None, **_: Any) -> bool:
        """425.4(f) names MNJIS and NLETS; a confirmation must say which one answered."""
        return verified_via in VERIFICATION_SYSTEMS

    def reason_given(self, reason: str | None = None, **_: Any) -> bool:
        """A hit left unconfirmed needs its reason on record (e.g. NLETS says recovered)."""
        return _given(reason)

    def closing_note_given(self, note: str | None = None, **_: Any) -> bool:
        """The trail must say how the alert ended."""
        return _given(note)

    def action_described(self, action: str | None = None, **_: Any) -> bool:
        """An enforcement record without the action itself says nothing."""
        return _given(action)

    def impracticable_reason_given(self, impracticable_reason: str | None = None, **_: Any) -> bool:
        """Acting on an unverified alert is lawful only with a stated reason (425.4(f))."""
        return _given(impracticable_reason)

    def no_enforcement_yet(self, **_: Any) -> bool:
        """One enforcement record per hit: a second one would overwrite the first."""
        return self.model.enforcement_action is None


# A read's plate from a picture: OCR's verdict, then an operator's review when OCR is unsure.
# States are the stored ``reads.plate_status`` values::
#
#     pending_ocr ──ocr_accept──▶ ocr_accepted
#          ├──────ocr_doubt───▶ needs_review ──confirm──▶ confirmed
#          │                          └───────correct──▶ corrected
#          └──────ocr_fail────▶ unreadable
#
# A camera-reported plate (``reported``) takes no step.


class PlateMachine(GuardedMachine):
    """The plate-status machine, built around a loaded Read on demand."""

    MODEL = Read
    STATE_FIELD = "plate_status"
    CASE_LABEL = "read"
    STEP_LABELS = {"confirm": "Confirm", "correct": "Correct"}
    FIELDS = {"plate_given": "plate", "plate_changed": "plate"}
    REFUSALS = {
        "actor_reviews_plates": "Your role does not review plates.",
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

    @classmethod
    def around(cls, model: Any) -> GuardedMachine:
        """A camera-reported plate (``reported``) is no state of this machine: it takes no step."""
        if model.plate_status == PlateStatus.REPORTED.value:
            raise WorkflowError("The camera reported this plate; there is no OCR step to take.")
        return super().around(model)

    ocr_accept = pending_ocr.to(ocr_accepted, cond="plate_given")
    ocr_doubt = pending_ocr.to(needs_review, cond="plate_given")
    ocr_fail = pending_ocr.to(unreadable)
    confirm = needs_review.to(confirmed, cond=["actor_reviews_plates", "plate_given"])
    correct = needs_review.to(
        corrected, cond=["actor_reviews_plates", "plate_given", "plate_changed"]
    )

    def actor_reviews_plates(self, actor: object = None, **_: Any) -> bool:
        """OCR's doubt is settled by a person whose role reviews plates, never by a job."""
        return ALPR_PERMISSIONS.allows(actor, AlprAction.REVIEW_PLATES)

    def plate_given(self, plate: str | None = None, **_: Any) -> bool:
        """Acceptance, doubt, confirmation and correction all stand behind a plate."""
        return bool(plate)

    def plate_changed(self, plate: str | None = None, **_: Any) -> bool:
        """A 'correction' to the same plate would misstate what the operator did."""
        return plate != self.model.plate
