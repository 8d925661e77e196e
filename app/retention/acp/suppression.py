"""Suppression (425.5(b)): from the entry of a participant's written request, their data rests.

A new read of a suppressed plate is destroyed at collection (:mod:`.screening`). Reads already
collected stay until the request's existing data is destroyed after verification, but from the
entry on they are handed to no one: every query that hands reads out (searches, plate
histories, hits, read pages, and any release or export) keeps to :func:`visible_reads`.
ACP-deferred reads, kept only because a hold covers them, stay out of use as well: deferral
keeps evidence from destruction, it does not put the participant's data back in use.

A search naming a participant's plate is kept with the plate's keyed digest and the request
that protects it (:func:`protecting_requests`), never with the plate.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, exists, insert, literal, not_, select
from sqlalchemy.orm import Session

from app.reads.models import Read
from app.retention.acp.digests import hmac_key, keyed_digest
from app.retention.acp.screening import suppressed_hmacs
from app.retention.models import AcpRequest, AcpSuppressedRead

#: What stands for a protected plate in free text (a search's purpose, an exigency statement).
PLATE_WITHHELD = "[protected plate]"


def visible_reads() -> ColumnElement[bool]:
    """Reads that may be handed out: neither ACP-deferred nor out of use under a request."""
    out_of_use = exists().where(
        AcpSuppressedRead.read_id == Read.id,
        AcpSuppressedRead.read_captured_at == Read.captured_at,
    )
    return and_(Read.acp_deferred_at.is_(None), not_(out_of_use))


def suppress_existing_reads(session: Session, request: AcpRequest, plates: Collection[str]) -> int:
    """Put the reads of `plates` already collected out of use under `request`; how many.

    `plates` are the stored plates whose digest is among the request's
    (:func:`app.retention.acp.lifecycle.matching_plates`): in memory only, never stored.
    """
    if not plates:
        return 0
    inserted = session.execute(
        insert(AcpSuppressedRead)
        .from_select(
            ["request_id", "read_id", "read_captured_at"],
            select(literal(request.id), Read.id, Read.captured_at).where(
                Read.plate.in_(sorted(plates))
            ),
        )
        .returning(AcpSuppressedRead.read_id)  # rowcount is -1 for this on psycopg
    )
    return len(inserted.all())


def end_suppression_of_existing_reads(session: Session, request: AcpRequest) -> None:
    """The request stops keeping its reads out of use (destroyed or deferred now, or declined).

    Another request in force over the same plates keeps its own rows.
    """
    session.execute(delete(AcpSuppressedRead).where(AcpSuppressedRead.request_id == request.id))


@dataclass(frozen=True)
class Protection:
    """A search names a participant's plate: the request protecting it, the plates in clear.

    `followed` is the one plate the search follows, or None when it follows none; it and
    `plates` (every protected plate it named) live in memory only: the search keeps the
    followed plate's keyed digest, and none is written where a person typed it.
    """

    request_id: int
    followed: str | None
    plates: tuple[str, ...]


def protecting_requests(session: Session, plates: Iterable[str]) -> dict[str, int]:
    """Each of `plates` that a request in force suppresses, with that request's id."""
    digest_of = keyed_digest(hmac_key(session))
    digests = {plate: digest_of(plate) for plate in plates}
    suppressed = suppressed_hmacs(session, set(digests.values()))
    return {plate: suppressed[d] for plate, d in digests.items() if d in suppressed}


def withhold_plates(text: str, plates: Iterable[str]) -> str:
    """`text` with each of `plates` replaced, however it was typed (case, spaces, dashes, O/0)."""
    for plate in plates:
        spelled = r"[\s-]*".join("[0O]" if c == "0" else re.escape(c) for c in plate)
        text = re.sub(spelled, PLATE_WITHHELD, text, flags=re.IGNORECASE)
    return text
