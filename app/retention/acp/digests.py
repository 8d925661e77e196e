"""Keyed digests (425.5(b)): a participant's plates and destroyed reads, never in clear.

A request keeps HMAC-SHA256 digests of the normalised plates under ``ACP_HMAC_KEY``; a read
destroyed at collection (or with a participant's existing data) leaves only a keyed digest of
its identity, so that its resend is known and counted nowhere.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db import settings_of
from app.reads.bulk import on_postgresql, text_in
from app.reads.models import Read, ReadImage
from app.retention.destruction import CAMERA_PLATE, id_among
from app.retention.ledger import record_acp_digests
from app.retention.models import AcpDestroyedRead


def plate_hmac(key: str, plate: str) -> str:
    """HMAC-SHA256 (hex) of a plate: lets us match plates without keeping them.

    `plate` is in the one spelling every entry point stores
    (:func:`app.reads.plates.normalise_plate`, O folded into 0), so a participant's plate
    typed with an O matches a read sent with a 0; over-matching an O/0 twin errs on the side
    of destruction. Callers normalise; ingest has already done so for each read.
    """
    return keyed_digest(key)(plate)


@functools.lru_cache(maxsize=4)
def keyed_digest(key: str) -> Callable[[str], str]:
    """The HMAC of one key, its key schedule computed once: ingest hashes every read."""
    base = hmac.new(key.encode("utf-8"), digestmod=hashlib.sha256)

    def digest(plate: str) -> str:
        mac = base.copy()
        mac.update(plate.encode("utf-8"))
        return mac.hexdigest()

    return digest


def hmac_key(session: Session) -> str:
    """The installation's ACP key (a stable secret, app/config.py) that the session carries."""
    return settings_of(session).acp_hmac_key


def read_sender(device_id: int | None, agency_id: int | None) -> str:
    """Who sent a read, as its identity names it: a device, else the agency that shared it."""
    return f"device:{device_id}" if device_id is not None else f"agency:{agency_id}"


def read_identity(sender: str, client_read_id: str | None, plate: str, at: datetime) -> str:
    """What makes an arriving read the same read as an earlier one (as ingest dedupes).

    `plate` stands in when there is no client id; a read sent as pictures only names its
    picture there instead.
    """
    return f"{sender}|{'c:' + client_read_id if client_read_id else 'p:' + plate}|{at.isoformat()}"


def picture_read_identity(
    sender: str, client_read_id: str | None, digests: Collection[str], at: datetime
) -> str:
    """An image-only read's identity: its pictures stand in for the plate OCR reads later."""
    return read_identity(sender, client_read_id, "picture:" + min(digests), at)


def known_destroyed(session: Session, identities: Sequence[str]) -> set[str]:
    """Which of these reads (by :func:`read_identity`) were destroyed at collection before."""
    if not identities:
        return set()
    digest_of = keyed_digest(hmac_key(session))
    by_digest = {digest_of(identity): identity for identity in identities}
    found = session.scalars(
        select(AcpDestroyedRead.key_hmac).where(
            text_in(session, AcpDestroyedRead.key_hmac, by_digest)
        )
    )
    return {by_digest[digest] for digest in found}


def remember_destroyed(session: Session, destroyed: Iterable[tuple[str, datetime]]) -> None:
    """Keep a keyed digest of each read destroyed at collection, so its resend is known.

    `destroyed` holds (:func:`read_identity`, captured at) pairs; no plate is kept in clear.
    """
    digest_of = keyed_digest(hmac_key(session))
    rows = {digest_of(identity): captured_at for identity, captured_at in destroyed}
    if rows:
        record_acp_digests(session, rows)
        insert = postgresql.insert if on_postgresql(session) else sqlite.insert
        session.execute(
            insert(AcpDestroyedRead)
            .values([{"key_hmac": k, "captured_at": at} for k, at in sorted(rows.items())])
            .on_conflict_do_nothing(index_elements=["key_hmac"])
        )


def remember_stored_destroyed(session: Session, ids: Sequence[int]) -> None:
    """Keep the digests of a participant's stored reads that are about to be destroyed.

    A camera may resend a read after its destruction; like one destroyed at collection, the
    resend is then a duplicate, not counted again in the log of use or on the request. A read
    whose plate came from OCR was sent as pictures, so its pictures identify it, as at upload.
    """
    if not ids:
        return
    dialect = session.get_bind().dialect.name
    first_picture = dict(
        session.execute(
            select(ReadImage.read_id, func.min(ReadImage.sha256))
            .where(id_among(ReadImage.read_id, list(ids), dialect))
            .group_by(ReadImage.read_id)
        ).all()
    )
    reads = session.execute(
        select(
            Read.id,
            Read.device_id,
            Read.source_agency_id,
            Read.client_read_id,
            Read.plate,
            Read.plate_status,
            Read.captured_at,
        ).where(id_among(Read.id, list(ids), dialect))
    ).all()
    identities = []
    for read_id, device_id, agency_id, client_read_id, plate, status, at in reads:
        sender = read_sender(device_id, agency_id)
        picture = first_picture.get(read_id)
        if status != CAMERA_PLATE and picture is not None:
            identity = picture_read_identity(sender, client_read_id, [picture], at)
        else:
            identity = read_identity(sender, client_read_id, plate or "", at)
        identities.append((identity, at))
    remember_destroyed(session, identities)


def forget_destroyed_before(session: Session, cutoff: datetime) -> int:
    """Drop the digests of reads past retention: their resend is refused anyway."""
    return session.execute(
        delete(AcpDestroyedRead).where(AcpDestroyedRead.captured_at < cutoff)
    ).rowcount
