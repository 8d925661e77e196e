"""The one shape of a service's refusal, so every page can put its message by the right field."""

from __future__ import annotations

from typing import Any

from flask import flash


class Refusal(ValueError):
    """A step a service refused, with a message the person who tried it can act on.

    `field` names the form field the message belongs next to, or is None for a refusal of the
    step as a whole (the case's state, the person's role).
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def show_refusal(form: Any, refusal: Refusal, default: str | None = None) -> None:
    """Put a refusal next to the field it names, else next to `default`.

    With neither, it refuses the step as a whole (the case's state, the person's role) and is
    flashed on the page shown again.
    """
    fields = form._fields if form is not None else {}
    field = fields.get(refusal.field or "") or fields.get(default or "")
    if field is None:
        flash(str(refusal), "error")
    else:
        field.errors = [*field.errors, str(refusal)]
