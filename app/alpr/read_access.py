"""Every opening of a read or its pictures serves a documented purpose (425.6(b), 425.6(e)).

A read opens only inside a *context* that documents why: a search's results (its purpose and
case number), a hit being worked, the plate review queue, or an investigation holding it. The
context travels with the link as ``?via=search:12`` (``hit:45``, ``review``,
``investigation:7``), is checked here against the data — the read belongs to it, and the viewer
may use it — and is named in the audit entry of the view. Without a valid one nothing of the
read is shown, not even whether it exists: the refusal is audited, and the viewer states a
purpose and a case number first (:func:`app.alpr.search.look_up_read`), which opens the read in
a search context of its own. So walking ids shows nothing.

The kinds are a registry: a later package (agency releases) adds its own with
:func:`register_context_kind`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.alpr.permissions import ALPR_PERMISSIONS, AlprAction
from app.alpr.workflow import HitMachine
from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.models import User
from app.core.edges import MAX_ROW_ID
from app.core.refusal import Refusal
from app.investigations.models import Investigation, InvestigationStatus
from app.reads.models import Hit, PlateStatus, Read, ReadImage, Search, SearchShownRead
from app.retention.acp.suppression import visible_reads
from app.retention.holds import hold_in_force_clause, scope_of
from app.retention.models import Hold
from app.retention.policy import ReadFacts, hold_covers

#: ``kind`` or ``kind:id`` (an id a row can have), as a link carries it.
CONTEXT_SHAPE = re.compile(r"([a-z_]{1,32})(?::([1-9][0-9]{0,18}))?")
#: Investigations have 32-bit keys: a larger id names none (and PostgreSQL refuses to compare).
INVESTIGATION_ID_MAX = 2**31 - 1


class ReadNotFound(LookupError):
    """No read with that id (never existed, or destroyed under the retention rules)."""


class ContextRefused(Refusal):
    """No context documenting why this read may open; its READ_ACCESS_REFUSED entry is appended."""


@dataclass(frozen=True)
class ReadContext:
    """Why a read is opened: a registered kind, and the row of that kind when it names one."""

    kind: str
    ref: int | None = None

    def __str__(self) -> str:
        return self.kind if self.ref is None else f"{self.kind}:{self.ref}"

    @classmethod
    def parse(cls, raw: str | None) -> ReadContext | None:
        """The context a link carries, or None when it carries none this app knows."""
        match = CONTEXT_SHAPE.fullmatch(raw or "")
        if match is None or match.group(1) not in CONTEXT_KINDS:
            return None
        kind = CONTEXT_KINDS[match.group(1)]
        ref = int(match.group(2)) if match.group(2) else None
        if kind.takes_ref != (ref is not None) or (ref is not None and ref > MAX_ROW_ID):
            return None
        return cls(kind.name, ref)


#: (session, viewer, the context's row id or None, the read's id) → whether the read belongs to
#: the context and the viewer may open reads in it.
Admits = Callable[[Session, User, int | None, int], bool]


@dataclass(frozen=True)
class ContextKind:
    """One kind of context: its name in links, whether it names a row, and its check."""

    name: str
    takes_ref: bool
    admits: Admits


def _search_admits(session: Session, actor: User, ref: int | None, read_id: int) -> bool:
    """A read a result page of the viewer's own search showed: that search's purpose is theirs."""
    search = session.get(Search, ref)
    return (
        search is not None
        and search.user_id == actor.id
        and session.get(SearchShownRead, (ref, read_id)) is not None
    )


def _being_worked(hit: Hit) -> bool:
    return not HitMachine.around(hit).current_state.final


def _hit_admits(session: Session, actor: User, ref: int | None, read_id: int) -> bool:
    """The read of an open hit, for a role that works hits."""
    hit = session.get(Hit, ref)
    return (
        hit is not None
        and hit.read_id == read_id
        and _being_worked(hit)
        and ALPR_PERMISSIONS.allows(actor, AlprAction.WORK_HITS)
    )


def _review_admits(session: Session, actor: User, ref: int | None, read_id: int) -> bool:
    """A read waiting in the plate review queue, for a role that reviews plates."""
    waiting = select(Read.id).where(
        Read.id == read_id, Read.plate_status == PlateStatus.NEEDS_REVIEW.value
    )
    return (
        ALPR_PERMISSIONS.allows(actor, AlprAction.REVIEW_PLATES)
        and session.scalar(waiting) is not None
    )


def _investigation_admits(session: Session, actor: User, ref: int | None, read_id: int) -> bool:
    """A read an active investigation's hold keeps, for its lead or a supervisor of cases."""
    investigation = session.get(Investigation, ref) if ref <= INVESTIGATION_ID_MAX else None
    if investigation is None or investigation.status != InvestigationStatus.ACTIVE.value:
        return False
    if investigation.lead_id != actor.id and not ALPR_PERMISSIONS.allows(
        actor, AlprAction.OPEN_ANY_CASE_READS
    ):
        return False
    read = session.scalars(select(Read).where(Read.id == read_id)).first()
    if read is None:
        return False
    facts = ReadFacts(read.plate, read.captured_at, read.device_id)
    holds = session.scalars(
        select(Hold).where(hold_in_force_clause(), Hold.investigation_id == investigation.id)
    )
    return any(hold_covers(facts, scope_of(hold)) for hold in holds)


#: The registered kinds, by name.
CONTEXT_KINDS: dict[str, ContextKind] = {
    kind.name: kind
    for kind in (
        ContextKind("search", True, _search_admits),
        ContextKind("hit", True, _hit_admits),
        ContextKind("review", False, _review_admits),
        ContextKind("investigation", True, _investigation_admits),
    )
}


def register_context_kind(kind: ContextKind) -> None:
    """Let links carry `kind` (a package that documents purposes of its own adds one)."""
    CONTEXT_KINDS[kind.name] = kind


#: The context of the plate review queue's links.
REVIEW_CONTEXT = str(ReadContext("review"))


def search_context(search: Search) -> str:
    """The context a search's result page links its reads with."""
    return str(ReadContext("search", search.id))


def hit_context(hit: Hit) -> str | None:
    """The context a hit's page links its read with, while the hit is being worked."""
    return str(ReadContext("hit", hit.id)) if _being_worked(hit) else None


def admit(
    session: Session, actor: User, read_id: int, via: str | None, opening: str
) -> ReadContext:
    """The context `via` names, when it covers read `read_id` for `actor`.

    Raises ContextRefused otherwise, with a READ_ACCESS_REFUSED entry appended (commit it):
    `opening` says what was asked for (the read, or one of its pictures).
    """
    context = ReadContext.parse(via)
    if context is not None and CONTEXT_KINDS[context.kind].admits(
        session, actor, context.ref, read_id
    ):
        return context
    record(
        session,
        actor,
        AuditAction.READ_ACCESS_REFUSED,
        ("reads", read_id),
        {
            "read_id": read_id,
            "opening": opening,
            "context": str(context) if context else None,
            "context_given": bool(via),
        },
    )
    if context is None and via:
        message = "This link carries no context this application knows."
    elif context is None:
        message = "This link does not say why the read is opened."
    else:
        message = f"The context of this link ({context}) does not cover this read for you."
    raise ContextRefused(message)


def view_read(session: Session, actor: User, read_id: int, via: str | None) -> tuple[Read, str]:
    """Open one read in the context `via` names; the entry names the read and the context.

    Raises ContextRefused (audited) without a context covering it, ReadNotFound when it is gone
    or an ACP request keeps it out of use (425.5(b)).
    """
    context = admit(session, actor, read_id, via, "read")
    read = session.scalars(
        select(Read).where(Read.id == read_id, visible_reads()).options(selectinload(Read.images))
    ).first()
    if read is None:
        raise ReadNotFound(f"read {read_id} does not exist")
    record(
        session,
        actor,
        AuditAction.READ_VIEWED,
        read,
        {"images": len(read.images), "context": str(context)},
    )
    return read, str(context)


def view_read_image(
    session: Session, actor: User, read_id: int, kind: str, via: str | None
) -> ReadImage:
    """Hand one picture of a read to a user in the context `via` names, audited with both."""
    context = admit(session, actor, read_id, via, f"image:{kind}")
    image = session.scalars(
        select(ReadImage).where(
            ReadImage.read_id == read_id,
            ReadImage.kind == kind,
            ReadImage.read.has(visible_reads()),
        )
    ).first()
    if image is None:
        raise ReadNotFound(f"read {read_id} has no {kind} image")
    record(
        session,
        actor,
        AuditAction.READ_IMAGE_VIEWED,
        ("reads", read_id),
        {
            "read_id": read_id,
            "image_id": image.id,
            "kind": kind,
            "sha256": image.sha256,
            "context": str(context),
        },
    )
    return image
