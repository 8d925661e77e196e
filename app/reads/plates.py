"""The one spelling of a plate, and the one error a refused field raises.

Every package that takes a plate in (ingest, image reads, hotlists, searches, holds and ACP
requests) spells it here, below both the ALPR and the retention packages.
"""

from __future__ import annotations

import re

#: Letters and digits only once spaces and dashes are gone; no US or Canadian plate is longer.
PLATE_PATTERN = re.compile(r"[A-Z0-9]{1,10}")
PLATE_SEPARATORS = re.compile(r"[\s-]")


class FieldError(ValueError):
    """One field's value is refused; `field` names it for the client's error message."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def normalise_plate(raw: object, field: str = "plate") -> str:
    """The one spelling of a plate, used by every way a plate enters the system.

    Upper case, spaces and dashes dropped, and the letter O folded into the digit 0. Most
    plates print O and 0 with one glyph, and OCR cannot tell them apart reliably; a camera, a
    clerk or another agency may write either. Folding everywhere (device and image ingest,
    other agencies' files, hotlist loads, searches, plate history, holds, ACP requests, review
    corrections) makes the same plate compare equal however it was written. The cost is that
    two real plates differing only by O/0 look alike; a missed hotlist match or a missed ACP
    destruction (425.4.1(b), 425.5(b)) is worse than a look-alike match an officer verifies
    before acting (425.4(f)). Raises FieldError naming `field`.
    """
    if not isinstance(raw, str):
        raise FieldError(field, "must be text")
    plate = PLATE_SEPARATORS.sub("", raw).upper().replace("O", "0")
    if not PLATE_PATTERN.fullmatch(plate):
        raise FieldError(
            field, "must be 1 to 10 letters and digits (spaces and dashes are dropped)"
        )
    return plate
