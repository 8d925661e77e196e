"""The ACP screen at collection (425.5(b)): a new read of a suppressed plate is not kept.

Ingest calls :func:`decide_at_collection` for every batch, and OCR or a reviewer
:func:`screen_at_collection` for a plate it gives a read: such a read is destroyed at collection
or, when an in-force hold covers it, stored with its destruction deferred.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import PendingEntry, record_many
from app.reads.bulk import text_in
from app.retention.acp.digests import hmac_key, keyed_digest
from app.retention.holds import scopes_in_force
from app.retention.models import AcpPlate, AcpRequest, AcpStatus
from app.retention.policy import ReadFacts, is_held

#: Statuses in which a request suppresses its plates: from the moment staff enter the written
#: request (425.5(b) asks for the written request, not its verification) until the participant
#: leaves the program or the Deputy Chief or designee decline the request.
SUPPRESSING_STATUSES = (
    AcpStatus.RECEIVED.value,
    AcpStatus.VERIFIED.value,
    AcpStatus.EXISTING_DESTROYED.value,
    AcpStatus.SUPPRESSION_ACTIVE.value,
)

SCREEN_ACTOR = "system:acp-screen"


class AcpVerdict(Enum):
    """What ingest must do with one arriving read."""

    KEEP = "keep"
    DESTROY = "destroy"  # do not store the read or its images; it is only counted
    DEFER = "defer"  # store it with ``acp_deferred_at`` set: a hold in force covers it


def suppressed_hmacs(session: Session, candidates: set[str]) -> dict[str, int]:
    """Which of `candidates` an in-force request suppresses, mapped to one such request id.

    Runs for every ingest batch, so the candidates are bound as one array on PostgreSQL
    (:func:`app.reads.bulk.text_in`): a 500-placeholder ``IN`` costs more to parse than to run.
    """
    if not candidates:
        return {}
    rows = session.execute(
        select(AcpPlate.plate_hmac, AcpPlate.request_id)
        .join(AcpRequest, AcpRequest.id == AcpPlate.request_id)
        .where(
            AcpRequest.status.in_(SUPPRESSING_STATUSES),
            text_in(session, AcpPlate.plate_hmac, candidates),
        )
        .order_by(AcpPlate.request_id)
    )
    found: dict[str, int] = {}
    for digest, request_id in rows:
        found.setdefault(digest, request_id)
    return found


@dataclass
class Screening:
    """The ACP screen's verdict on each arriving read, with the request that decided it."""

    verdicts: list[AcpVerdict]
    requests: list[int | None]

    def count(self, session: Session, resent: Collection[int] = ()) -> PendingEntry | None:
        """Add the destroyed and deferred reads to their requests' counts; the audit entry.

        Positions in `resent` are resends of reads already counted (and already destroyed or
        stored): they count nowhere. Returns the one ACP_DESTROYED_AT_COLLECTION entry for the
        caller to append (counts only), or None when the screen touched nothing.
        """
        destroyed: Counter[int] = Counter()
        deferred: Counter[int] = Counter()
        for position, (verdict, request_id) in enumerate(
            zip(self.verdicts, self.requests, strict=True)
        ):
            if request_id is None or position in resent:
                continue
            if verdict is AcpVerdict.DESTROY:
                destroyed[request_id] += 1
            elif verdict is AcpVerdict.DEFER:
                deferred[request_id] += 1
        touched = sorted(destroyed.keys() | deferred.keys())
        if not touched:
            return None
        for request_id in touched:
            session.execute(
                update(AcpRequest)
                .where(AcpRequest.id == request_id)
                .values(
                    destroyed_at_collection=AcpRequest.destroyed_at_collection
                    + destroyed[request_id],
                    deferred=AcpRequest.deferred + deferred[request_id],
                )
            )
        return PendingEntry(
            SCREEN_ACTOR,
            AuditAction.ACP_DESTROYED_AT_COLLECTION,
            None,
            {
                "destroyed": sum(destroyed.values()),
                "deferred": sum(deferred.values()),
                "by_request": {
                    str(rid): {"destroyed": destroyed[rid], "deferred": deferred[rid]}
                    for rid in touched
                },
            },
        )


def decide_at_collection(
    session: Session, facts: Sequence[ReadFacts], *, key: str | None = None
) -> Screening:
    """Decide, per arriving read, whether an ACP request forbids storing it (425.5(b)).

    One query per batch finds the suppressed HMACs among the batch's plates; only when some
    match are the in-force holds loaded (a DEFER keeps a read that an active matter holds).
    Changes nothing: :meth:`Screening.count` counts once the caller knows which reads are
    resends. Plates never leave this function.
    """
    digest_of = keyed_digest(key or hmac_key(session))
    digests = [digest_of(fact.plate) if fact.plate else None for fact in facts]
    suppressed = suppressed_hmacs(session, {d for d in digests if d})
    if not suppressed:
        return Screening([AcpVerdict.KEEP] * len(facts), [None] * len(facts))
    holds = scopes_in_force(session)
    verdicts: list[AcpVerdict] = []
    requests: list[int | None] = []
    for fact, digest in zip(facts, digests, strict=True):
        request_id = suppressed.get(digest) if digest else None
        requests.append(request_id)
        if request_id is None:
            verdicts.append(AcpVerdict.KEEP)
        elif is_held(fact, holds):
            verdicts.append(AcpVerdict.DEFER)
        else:
            # is_destroyable(..., acp_suppressed=True) for an unheld read: destroyable at any age.
            verdicts.append(AcpVerdict.DESTROY)
    return Screening(verdicts, requests)


def screen_at_collection(
    session: Session, facts: Sequence[ReadFacts], *, key: str | None = None
) -> list[AcpVerdict]:
    """Decide and count at once, for reads that cannot be resends (a plate OCR just gave).

    Counts go to each request and to ONE audit entry. Flushes, never commits.
    """
    screening = decide_at_collection(session, facts, key=key)
    entry = screening.count(session)
    if entry is not None:
        record_many(session, [entry])
    return screening.verdicts
