"""The hit-alert workflow (policy 425.4(f)): verify before acting, and say why when you cannot.

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

from app.alpr.models import Hit, HitStatus
from app.core.workflow import GuardedMachine

#: The systems 425.4(f) names for verifying an ALPR alert.
VERIFICATION_SYSTEMS = ("MNJIS", "NLETS", "MNJIS and NLETS")


def _given(value: str | None) -> bool:
    return bool(value and value.strip())


class HitMachine(GuardedMachine):
    """new → confirmed | not_confirmed → closed; enforcement recorded in any open state."""

    CASE_LABEL = "hit"
    REFUSALS = {
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

    confirm = new.to(confirmed, cond="verification_named")
    mark_not_confirmed = new.to(not_confirmed, cond="reason_given")
    close = confirmed.to(closed, cond="closing_note_given") | not_confirmed.to(
        closed, cond="closing_note_given"
    )
    record_enforcement = (
        confirmed.to.itself(internal=True, cond=["action_described", "no_enforcement_yet"])
        | new.to.itself(
            internal=True,
            cond=["action_described", "impracticable_reason_given", "no_enforcement_yet"],
        )
        | not_confirmed.to.itself(
            internal=True,
            cond=["action_described", "impracticable_reason_given", "no_enforcement_yet"],
        )
    )

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


def hit_machine(hit: Hit) -> HitMachine:
    """The machine for a loaded `hit`, reading and writing ``hit.status``."""
    return HitMachine(model=hit, state_field="status")
