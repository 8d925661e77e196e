"""The ALPR domain's two workflows: hit alerts, and a picture's plate.

Hit alerts (policy 425.4(f)): verify before acting, and say why when you cannot.

States are the stored ``hits.status`` values::

    new ──confirm──────────────▶ confirmed ─────────────close──▶ closed
     ├───mark_not_valid───────▶ not_valid ──────────────close──┤
     └───mark_impracticable───▶ impracticable ──────────close──┘
                                  ├──confirm──▶ confirmed
                                  └──mark_not_valid──▶ not_valid

A verification, valid (confirm) or not (mark_not_valid), names the system asked (MNJIS/NLETS),
the query's reference and its time, which is neither in the future nor before the read. A hit
verified not valid takes no enforcement: the alert is wrong. Where verification is not
practicable the reason is recorded first, and enforcement may then be recorded on it; the hit
may still be verified later. Recording an enforcement action is an internal transition (the
state does not change), once per hit, on a confirmed hit or one whose verification was not
practicable. A closed hit takes no step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from statemachine import State

from app.alpr.permissions import ALPR_PERMISSIONS, AlprAction
from app.db import utcnow
from app.reads.models import Hit, HitStatus, PlateStatus, Read
from app.workflow.machine import GuardedMachine, WorkflowError

#: The systems 425.4(f) names for verifying an ALPR alert.
VERIFICATION_SYSTEMS = ("MNJIS", "NLETS", "MNJIS and NLETS")
#: The longest query reference kept (a message or transaction number, not a narrative).
REFERENCE_MAX = 100


def _given(value: str | None) -> bool:
    return bool(value and value.strip())


class HitMachine(GuardedMachine):
    """new → confirmed | not_valid | impracticable → closed; enforcement never on not_valid."""

    MODEL = Hit
    CASE_LABEL = "hit"
    STEP_LABELS = {
        "confirm": "Verify: valid",
        "mark_not_valid": "Verify: not valid",
        "mark_impracticable": "Verification not practicable",
        "record_enforcement": "Record enforcement",
        "close": "Close",
    }
    FIELDS = {
        "verification_named": "verified_via",
        "reference_given": "verification_reference",
        "query_time_given": "verified_at",
        "query_time_not_future": "verified_at",
        "query_time_not_before_read": "verified_at",
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
        "reference_given": (
            f"Give the MNJIS/NLETS query's reference (one line, at most {REFERENCE_MAX} "
            "characters)."
        ),
        "query_time_given": "Give the time of the MNJIS/NLETS query.",
        "query_time_not_future": "The query time cannot be in the future.",
        "query_time_not_before_read": "The query time cannot be before the read was captured.",
        "reason_given": "State what the verification showed: why the alert is not valid.",
        "closing_note_given": "A closing note is required to close a hit.",
        "action_described": "Describe the enforcement action taken.",
        "impracticable_reason_given": (
            "State why verification through MNJIS/NLETS is impracticable (policy 425.4(f))."
        ),
        "no_enforcement_yet": "An enforcement action is already recorded on this hit.",
    }
    #: Why a state refuses enforcement, where the generic "cannot take the step" says too little.
    ENFORCEMENT_REFUSALS = {
        HitStatus.NEW.value: (
            "It is not verified: verify it through MNJIS/NLETS, or record why verification is "
            "not practicable, before recording an enforcement action (policy 425.4(f))."
        ),
        HitStatus.NOT_VALID.value: (
            "MNJIS/NLETS showed this alert is not valid: enforcement on it is refused "
            "(policy 425.4(f))."
        ),
    }

    new = State(value=HitStatus.NEW.value, initial=True)
    confirmed = State("Verified valid", value=HitStatus.CONFIRMED.value)
    not_valid = State("Verified not valid", value=HitStatus.NOT_VALID.value)
    impracticable = State("Verification not practicable", value=HitStatus.IMPRACTICABLE.value)
    closed = State(value=HitStatus.CLOSED.value, final=True)

    _verified = [
        "actor_works_hits",
        "verification_named",
        "reference_given",
        "query_time_given",
        "query_time_not_future",
        "query_time_not_before_read",
    ]
    confirm = new.to(confirmed, cond=_verified) | impracticable.to(confirmed, cond=_verified)
    mark_not_valid = new.to(not_valid, cond=[*_verified, "reason_given"]) | impracticable.to(
        not_valid, cond=[*_verified, "reason_given"]
    )
    mark_impracticable = new.to(
        impracticable, cond=["actor_works_hits", "impracticable_reason_given"]
    )
    _closing = ["actor_works_hits", "closing_note_given"]
    close = (
        confirmed.to(closed, cond=_closing)
        | not_valid.to(closed, cond=_closing)
        | impracticable.to(closed, cond=_closing)
    )
    _enforcing = ["actor_works_hits", "action_described", "no_enforcement_yet"]
    record_enforcement = confirmed.to.itself(internal=True, cond=_enforcing) | (
        impracticable.to.itself(internal=True, cond=_enforcing)
    )

    def refusal(self, event: str, **inputs: Any) -> WorkflowError:
        """Enforcement refused by the state also says why: unverified, or verified not valid."""
        refused = super().refusal(event, **inputs)
        reason = self.ENFORCEMENT_REFUSALS.get(self.current_state.value)
        if event == "record_enforcement" and reason is not None:
            return WorkflowError(f"{refused} {reason}", refused.field)
        return refused

    def actor_works_hits(self, actor: object = None, **_: Any) -> bool:
        """A hit is worked by a person whose role works hits (a job never verifies one)."""
        return ALPR_PERMISSIONS.allows(actor, AlprAction.WORK_HITS)

    def verification_named(self, verified_via: str | None = None, **_: Any) -> bool:
        """425.4(f) names MNJIS and NLETS; a verification must say which one answered."""
        return verified_via in VERIFICATION_SYSTEMS

    def reference_given(self, verification_reference: str | None = None, **_: Any) -> bool:
        """The query's reference lets anyone find the answer the verification rests on."""
        reference = (verification_reference or "").strip()
        return 0 < len(reference) <= REFERENCE_MAX and reference.isprintable()

    def query_time_given(self, verified_at: datetime | None = None, **_: Any) -> bool:
        """When the query was made is part of the verification's record."""
        return verified_at is not None

    def query_time_not_future(
        self, verified_at: datetime | None = None, now: datetime | None = None, **_: Any
    ) -> bool:
        """A query not yet made verifies nothing."""
        return verified_at is None or verified_at <= (now or utcnow())

    def query_time_not_before_read(self, verified_at: datetime | None = None, **_: Any) -> bool:
        """A query cannot verify an alert before its read existed.

        Compared to the minute, as a query time is typed: a query in the read's own minute
        is after it.
        """
        captured = self.model.read_captured_at.replace(second=0, microsecond=0)
        return verified_at is None or verified_at >= captured

    def reason_given(self, reason: str | None = None, **_: Any) -> bool:
        """A hit verified not valid needs what the query showed (e.g. NLETS says recovered)."""
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
