"""The refusal every account, training and agency action raises."""

from __future__ import annotations

from app.core.refusal import Refusal


class AccountError(Refusal):
    """A clear, user-facing reason an account action was refused.

    `field` names the form field the reason belongs to (None: the form as a whole), so a page
    can show it next to that field.
    """
