"""BCA notices: open → sent → acknowledged (policy 425.4.1(d)).

States are the stored ``bca_notices.status`` values. A notice opens by itself when its event
happens (:mod:`app.bca.services`); the Deputy Chief, the designee or the ALPR administrator
records that it was sent (date, method, recipient, reference; the letter is generated and kept
with it) and then the BCA's acknowledgement. Dates typed are facts: neither in the future nor
before what they follow.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from statemachine import State

from app.bca.models import (
    NOTE_MAX,
    RECIPIENT_MAX,
    REFERENCE_MAX,
    BcaNotice,
    BcaNoticeStatus,
    SendMethod,
)
from app.bca.permissions import BCA_PERMISSIONS, BcaAction
from app.core.dates import future_problem
from app.workflow.machine import GuardedMachine


def _text_fits(text: str | None, limit: int, *, required: bool) -> bool:
    value = (text or "").strip()
    if not value:
        return not required
    return len(value) <= limit and "\x00" not in value


class BcaNoticeMachine(GuardedMachine):
    """open → sent → acknowledged (the Deputy Chief, designee or ALPR administrator).

    The sending event is ``send_notice``: an event named ``send`` would hide the machine's own
    ``send(event)`` and take itself whatever event was asked for.
    """

    MODEL = BcaNotice
    CASE_LABEL = "BCA notice"
    STEP_LABELS = {"send_notice": "Record notice sent", "acknowledge": "Record acknowledgement"}
    FIELDS = {
        "sent_on_given": "sent_on",
        "sent_not_future": "sent_on",
        "sent_after_event": "sent_on",
        "method_known": "sent_method",
        "recipient_given": "sent_to",
        "reference_given": "sent_reference",
        "acknowledged_on_given": "acknowledged_on",
        "acknowledged_not_future": "acknowledged_on",
        "acknowledged_after_sent": "acknowledged_on",
        "note_fits": "acknowledgement_note",
    }
    REFUSALS = {
        "actor_may_send": (
            "Only the Deputy Chief, the designee or the ALPR administrator may record that a "
            "BCA notice was sent."
        ),
        "actor_may_acknowledge": (
            "Only the Deputy Chief, the designee or the ALPR administrator may record the "
            "BCA's acknowledgement."
        ),
        "sent_on_given": "Enter the date the notice was sent.",
        "sent_not_future": "The date sent cannot be in the future.",
        "sent_after_event": "The date sent cannot be before the event the notice is about.",
        "method_known": "Choose how the notice was sent.",
        "recipient_given": (
            f"Name who at the BCA received the notice (1 to {RECIPIENT_MAX} characters)."
        ),
        "reference_given": (
            "Give the sending's reference: the e-mail subject, certified-mail or fax "
            f"confirmation number (1 to {REFERENCE_MAX} characters)."
        ),
        "acknowledged_on_given": "Enter the date the BCA acknowledged the notice.",
        "acknowledged_not_future": "The acknowledgement date cannot be in the future.",
        "acknowledged_after_sent": "The acknowledgement date cannot be before the date sent.",
        "note_fits": f"The acknowledgement note is at most {NOTE_MAX:,} characters.",
    }

    open = State(value=BcaNoticeStatus.OPEN.value, initial=True)
    sent = State(value=BcaNoticeStatus.SENT.value)
    acknowledged = State(value=BcaNoticeStatus.ACKNOWLEDGED.value, final=True)

    send_notice = open.to(
        sent,
        cond=[
            "actor_may_send",
            "sent_on_given",
            "sent_not_future",
            "sent_after_event",
            "method_known",
            "recipient_given",
            "reference_given",
        ],
    )
    acknowledge = sent.to(
        acknowledged,
        cond=[
            "actor_may_acknowledge",
            "acknowledged_on_given",
            "acknowledged_not_future",
            "acknowledged_after_sent",
            "note_fits",
        ],
    )

    # -- who ------------------------------------------------------------------------------

    def actor_may_send(self, actor: object = None, **_: Any) -> bool:
        """Those who install and place devices tell the BCA of them (425.3)."""
        return BCA_PERMISSIONS.allows(actor, BcaAction.SEND)

    def actor_may_acknowledge(self, actor: object = None, **_: Any) -> bool:
        """The same people record the BCA's answer."""
        return BCA_PERMISSIONS.allows(actor, BcaAction.ACKNOWLEDGE)

    # -- what sending needs ----------------------------------------------------------------

    def sent_on_given(self, sent_on: date | None = None, **_: Any) -> bool:
        """A notice sent has a date."""
        return isinstance(sent_on, date)

    def sent_not_future(self, sent_on: date | None = None, **_: Any) -> bool:
        """A notice recorded as sent was sent: not a future date."""
        return not isinstance(sent_on, date) or future_problem(sent_on, "") is None

    def sent_after_event(self, sent_on: date | None = None, **_: Any) -> bool:
        """Nobody tells the BCA of an event before it happened."""
        return not isinstance(sent_on, date) or sent_on >= self.model.event_on

    def method_known(self, sent_method: str | None = None, **_: Any) -> bool:
        """E-mail, mail, fax or the BCA's portal."""
        return sent_method in {m.value for m in SendMethod}

    def recipient_given(self, sent_to: str | None = None, **_: Any) -> bool:
        """Whom at the BCA the notice went to."""
        return _text_fits(sent_to, RECIPIENT_MAX, required=True)

    def reference_given(self, sent_reference: str | None = None, **_: Any) -> bool:
        """What proves the sending: a message subject, a tracking or confirmation number."""
        return _text_fits(sent_reference, REFERENCE_MAX, required=True)

    # -- what the acknowledgement needs ----------------------------------------------------

    def acknowledged_on_given(self, acknowledged_on: date | None = None, **_: Any) -> bool:
        """An acknowledgement has a date."""
        return isinstance(acknowledged_on, date)

    def acknowledged_not_future(self, acknowledged_on: date | None = None, **_: Any) -> bool:
        """An acknowledgement recorded was received: not a future date."""
        return not isinstance(acknowledged_on, date) or future_problem(acknowledged_on, "") is None

    def acknowledged_after_sent(self, acknowledged_on: date | None = None, **_: Any) -> bool:
        """The BCA answers a notice it was sent."""
        sent_on = self.model.sent_on
        if not isinstance(acknowledged_on, date) or sent_on is None:
            return True
        return acknowledged_on >= sent_on

    def note_fits(self, acknowledgement_note: str | None = None, **_: Any) -> bool:
        """An optional note (the BCA's own reference), of a sane length."""
        return _text_fits(acknowledgement_note, NOTE_MAX, required=False)
