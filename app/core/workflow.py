"""What every case-type state machine shares: named guards that explain a refusal in words.

python-statemachine refuses a transition with ``TransitionNotAllowed("Can't close when in New.")``
whether the state forbids it or a guard failed. People need to know which, so a machine lists
a message per named condition in ``REFUSALS`` and :meth:`GuardedMachine.fire` raises a
:class:`WorkflowError` naming the state or the failed guards. Machines are built around a loaded
model on demand (``HitMachine(hit)``), never bound through ``MachineMixin``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from statemachine import StateMachine
from statemachine.exceptions import TransitionNotAllowed

from app.core.refusal import Refusal


class WorkflowError(Refusal):
    """An illegal transition, with a reason the person who tried it can act on."""


class GuardedMachine(StateMachine):
    """A machine whose refusals name the state or the failed guard.

    Subclasses set ``CASE_LABEL`` (e.g. "hit") and ``REFUSALS`` (condition name → message).
    Conditions take their inputs as keyword arguments (``reason=...``) and accept ``**_``
    so that python-statemachine's dependency injection and :meth:`fire` can both call them.
    """

    CASE_LABEL: ClassVar[str] = "case"
    REFUSALS: ClassVar[dict[str, str]] = {}

    def fire(self, event: str, **inputs: Any) -> None:
        """Take transition `event` with `inputs`, or raise WorkflowError saying why not."""
        try:
            self.send(event, **inputs)
        except TransitionNotAllowed:
            raise WorkflowError(self.refusal(event, **inputs)) from None

    def refusal(self, event: str, **inputs: Any) -> str:
        """Why `event` cannot happen now: the state forbids it, or which guards failed."""
        state = self.current_state
        candidates = [t for t in state.transitions if t.match(event)]
        if not candidates:
            return (
                f"A {self.CASE_LABEL} that is {state.name.lower()} cannot take the "
                f"'{event.replace('_', ' ')}' step."
            )
        failed: list[str] = []
        for transition in candidates:
            for name in (str(spec) for spec in transition.cond):
                message = self.REFUSALS.get(name, f"condition {name} is not met")
                if not getattr(self, name)(**inputs) and message not in failed:
                    failed.append(message)
        return " ".join(failed) or f"The {self.CASE_LABEL} cannot take this step now."
