"""The one shape of a service's refusal, so every page can put its message by the right field."""

from __future__ import annotations


class Refusal(ValueError):
    """A step a service refused, with a message the person who tried it can act on.

    `field` names the form field the message belongs next to, or is None for a refusal of the
    step as a whole (the case's state, the person's role).
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
