"""Scanned written requests (425.5(a)/(b)), stored content-addressed under DOCUMENT_STORE.

The policy's exceptions both start with a *written* request; the scan is kept as evidence that
it was made, or, without one, the reference of the paper original on file
(:func:`written_request_reference`). What a file is comes from its first bytes, never from its
name or claimed type.

A scan is checked first (:func:`inspect_document`, nothing written) and written only by the
service entering the request, once the request is valid (:func:`store_document`). If the
transaction still fails, the caller takes the file back (:func:`remove_unreferenced_document`):
a refused request leaves no one's scan on disk, which for an ACP participant is the point.
Both serialise on the digest, as the image store does (:mod:`app.reads.images`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy.orm import Session

from app.core.refusal import Refusal
from app.core.storage import content_path, lock_digest, write_atomically
from app.db import settings_of
from app.retention.models import PAPER_ORIGINAL_MAX, StoredDocument

#: Leading bytes -> content type: the only formats a scanner produces that we accept.
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
#: What a reference written on a form never holds: NUL and the other control characters.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
#: Names the per-digest advisory locks on PostgreSQL (two-key form: its own key space).
DOCUMENT_LOCK_CLASS = 425_050


class DocumentRejected(ValueError):
    """The upload is not a PDF, PNG or JPEG scan; the message is fit for the user."""


@dataclass(frozen=True)
class IncomingDocument:
    """A scan checked by content but not yet written: the service stores it, or nothing does."""

    data: bytes
    sha256: str
    content_type: str
    original_name: str


def document_path(sha256: str) -> Path:
    """Where the document with this digest lives, for pages in an app context."""
    return content_path(current_app.config["DOCUMENT_STORE"], sha256)


def _stored_document(session: Session, sha256: str) -> Path:
    """Where the document lives, in the store the session's settings name (services use this)."""
    return content_path(settings_of(session).document_store, sha256)


def sniff_content_type(data: bytes) -> str:
    """The content type the bytes really are, or DocumentRejected."""
    if not data:
        raise DocumentRejected("The scanned request is empty.")
    for signature, content_type in SIGNATURES:
        if data.startswith(signature):
            return content_type
    raise DocumentRejected("The scanned request must be a PDF, PNG or JPEG file.")


def inspect_document(data: bytes, original_name: str) -> IncomingDocument:
    """Decide by content whether `data` is an acceptable scan; nothing is written."""
    content_type = sniff_content_type(data)
    return IncomingDocument(
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        content_type=content_type,
        original_name=Path(original_name or "request").name[:255] or "request",
    )


def written_request_reference(
    document: IncomingDocument | None, paper_original: str | None
) -> str | None:
    """The paper original's reference as kept (None when not given); the written request shown.

    A scan, the paper original's reference, or both show that the written request was made.
    Raises :class:`~app.core.refusal.Refusal` at ``document`` when neither is given, and at
    ``paper_original`` for a reference too long or holding control characters.
    """
    reference = (paper_original or "").strip()
    if CONTROL_CHARACTERS.search(reference):
        raise Refusal(
            "The reference may hold only printable characters on one line.", "paper_original"
        )
    if len(reference) > PAPER_ORIGINAL_MAX:
        raise Refusal(
            f"The reference may be at most {PAPER_ORIGINAL_MAX} characters.", "paper_original"
        )
    if document is None and not reference:
        raise Refusal(
            "The written request is required: attach its scan, or give the reference of the "
            "paper original on file (records file number and where it is kept).",
            "document",
        )
    return reference or None


def lock_document(session: Session, sha256: str) -> None:
    """Serialise work on one scanned request's file until the caller's transaction ends."""
    lock_digest(session, DOCUMENT_LOCK_CLASS, sha256, StoredDocument.__table__)


def store_document(session: Session, document: IncomingDocument) -> StoredDocument:
    """Keep a scan once per content (same bytes, same row and file); flushes, never commits.

    Call it only once the request the scan evidences has passed validation. The row is flushed,
    then the file written (atomically, by rename) under the digest lock, which holds until the
    caller's transaction ends; if that transaction fails, the caller rolls back and calls
    :func:`remove_unreferenced_document`.
    """
    lock_document(session, document.sha256)
    stored = session.get(StoredDocument, document.sha256)
    if stored is None:
        stored = StoredDocument(
            sha256=document.sha256,
            content_type=document.content_type,
            byte_size=len(document.data),
            original_name=document.original_name,
        )
        session.add(stored)
        session.flush()
    target = _stored_document(session, document.sha256)
    if not target.exists():
        write_atomically(target, document.data)
    return stored


def remove_unreferenced_document(session: Session, sha256: str) -> bool:
    """Delete the scan's file when no StoredDocument row names it; True when removed.

    For a caller whose transaction failed after :func:`store_document`: call it after the
    rollback, then commit. The digest lock keeps a concurrent entry of the same scan from
    committing a row for a file unlinked here; a scan an earlier request keeps stays.
    """
    lock_document(session, sha256)
    if session.get(StoredDocument, sha256) is not None:
        return False
    try:
        _stored_document(session, sha256).unlink()
    except FileNotFoundError:
        return False
    return True
