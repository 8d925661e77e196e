"""What every case-type state machine shares: guards that explain a refusal, at its form field.

python-statemachine refuses a transition with ``TransitionNotAllowed("Can't close when in New.")``
whether the state forbids it or a guard failed. People need to know which, so a machine lists
a message per named condition in ``REFUSALS`` and the form field it belongs to in ``FIELDS``, and
:meth:`GuardedMachine.fire` raises one :class:`WorkflowError` carrying both: no service has to
catch it to guess the field. Conditions named ``actor_*`` are permission guards: they read the
domain's permissions module, and :meth:`GuardedMachine.next_steps` asks only them to list what a
viewer may do next. Machines are built around a loaded model on demand
(:func:`machine_for`), never bound through ``MachineMixin``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from statemachine import StateMachine
from statemachine.exceptions import TransitionNotAllowed

from app.core.refusal import Refusal

#: Condition names that decide who may take a step, as opposed to what the step needs.
PERMISSION_GUARD_PREFIX = "actor_"


def _indefinite(label: str) -> str:
    """'A hit', 'An ACP request', 'An exculpatory request': the article a refusal opens with."""
    return f"{'An' if label[:1].lower() in 'aeiou' else 'A'} {label}"


class WorkflowError(Refusal):
    """An illegal transition, with a reason the person who tried it can act on."""


class GuardedMachine(StateMachine):
    """A machine whose refusals name the state or the failed guard, and the field it concerns.

    Subclasses set ``MODEL`` (the mapped class), ``STATE_FIELD`` (its column), ``CASE_LABEL``
    (e.g. "hit"), ``REFUSALS`` (condition → message), ``FIELDS`` (condition → form field),
    ``STEP_LABELS`` (event → button text) and ``IRREVERSIBLE`` (events a person confirms first).
    Conditions take their inputs as keyword arguments (``reason=...``, ``actor=...``) and accept
    ``**_`` so that python-statemachine's dependency injection and :meth:`fire` both call them.
    """

    MODEL: ClassVar[type | None] = None
    STATE_FIELD: ClassVar[str] = "status"
    CASE_LABEL: ClassVar[str] = "case"
    REFUSALS: ClassVar[dict[str, str]] = {}
    FIELDS: ClassVar[dict[str, str]] = {}
    STEP_LABELS: ClassVar[dict[str, str]] = {}
    IRREVERSIBLE: ClassVar[frozenset[str]] = frozenset()

    _by_model: ClassVar[dict[type, type[GuardedMachine]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        model = cls.__dict__.get("MODEL")
        if model is not None:
            GuardedMachine._by_model[model] = cls

    @classmethod
    def around(cls, model: Any) -> GuardedMachine:
        """The machine for a loaded `model`, reading and writing its state column."""
        return cls(model=model, state_field=cls.STATE_FIELD)

    def fire(self, event: str, **inputs: Any) -> None:
        """Take transition `event` with `inputs`, or raise WorkflowError saying why not."""
        try:
            self.send(event, **inputs)
        except TransitionNotAllowed:
            raise self.refusal(event, **inputs) from None

    def _candidates(self, event: str) -> list[Any]:
        return [t for t in self.current_state.transitions if t.match(event)]

    def _failed_guards(self, event: str, **inputs: Any) -> list[str]:
        failed: list[str] = []
        for transition in self._candidates(event):
            for name in (str(spec) for spec in transition.cond):
                if not getattr(self, name)(**inputs) and name not in failed:
                    failed.append(name)
        return failed

    def refusal(self, event: str, **inputs: Any) -> WorkflowError:
        """Why `event` cannot happen now (the state forbids it, or which guards failed)."""
        state = self.current_state
        if not self._candidates(event):
            return WorkflowError(
                f"{_indefinite(self.CASE_LABEL)} that is {state.name.lower()} cannot take the "
                f"'{self.step_label(event).lower()}' step."
            )
        failed = self._failed_guards(event, **inputs)
        messages: list[str] = []
        for name in failed:
            message = self.REFUSALS.get(name, f"condition {name} is not met")
            if message not in messages:
                messages.append(message)
        field = next((self.FIELDS[name] for name in failed if name in self.FIELDS), None)
        if any(name.startswith(PERMISSION_GUARD_PREFIX) for name in failed):
            field = None  # who may act is about the step, not about what was typed
        return WorkflowError(
            " ".join(messages) or f"The {self.CASE_LABEL} cannot take this step now.", field
        )

    @classmethod
    def step_label(cls, event: str) -> str:
        """The words on the step's button."""
        return cls.STEP_LABELS.get(event, event.replace("_", " ").capitalize())

    def next_steps(self, actor: Any) -> list[str]:
        """The events this state allows whose permission guards pass for `actor`, in order.

        Only the ``actor_*`` conditions are asked: the step's own inputs (a reason, a date) are
        typed on its form, and a missing one is refused at its field when the form is sent.
        """
        steps: list[str] = []
        for transition in self.current_state.transitions:
            for event in transition.events:
                name = str(event)
                if name in steps or name not in self.STEP_LABELS:
                    continue
                guards = [str(spec) for spec in transition.cond]
                if all(
                    getattr(self, guard)(actor=actor)
                    for guard in guards
                    if guard.startswith(PERMISSION_GUARD_PREFIX)
                ):
                    steps.append(name)
        return steps


def machine_for(subject: Any) -> GuardedMachine:
    """The declared machine of `subject`'s case type, built around it."""
    for cls in type(subject).__mro__:
        machine = GuardedMachine._by_model.get(cls)
        if machine is not None:
            return machine.around(subject)
    raise LookupError(f"no workflow is declared for {type(subject).__name__}")
