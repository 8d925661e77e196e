"""Form pieces every domain shares: the confirmation an action that cannot be undone asks for.

The CSP forbids inline script, and a browser's ``confirm()`` is no record anyway: the form of an
irreversible action carries a required checkbox, so the server refuses the post (422, the message
at the box, what was typed kept) until the person ticks it. Views, tests and the ``next_steps``
macro all see the same field.
"""

from __future__ import annotations

from typing import Any

from wtforms import BooleanField
from wtforms.validators import DataRequired

#: The name of the confirmation field on every form that mixes in :class:`ConfirmIrreversible`.
CONFIRM_FIELD = "confirm_irreversible"

#: Its message when it was not ticked.
CONFIRM_MESSAGE = "Tick the box to confirm: this cannot be undone."


class ConfirmIrreversible:
    """Mix into the FlaskForm of an action that cannot be undone (before ``FlaskForm``).

    Adds :data:`CONFIRM_FIELD`, a checkbox that must be ticked for the form to validate.
    """

    confirm_irreversible = BooleanField(
        "I understand this cannot be undone",
        validators=[DataRequired(message=CONFIRM_MESSAGE)],
    )


def confirmation_field(form: Any) -> Any:
    """The bound confirmation field of `form`, or None when its action can be undone."""
    return form._fields.get(CONFIRM_FIELD)
