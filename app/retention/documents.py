"""Scanned written requests (425.5(a)/(b)), stored content-addressed under DOCUMENT_STORE.

The policy's exceptions both start with a *written* request; the scan is kept as evidence that
it was made. What a file is comes from its first bytes, never from its name or claimed type.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app
from sqlalchemy.orm import Session

from app.core.storage import content_path, write_atomically
from app.retention.models import StoredDocument

#: Leading bytes -> content type: the only formats a scanner produces that we accept.
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


class DocumentRejected(ValueError):
    """The upload is not a PDF, PNG or JPEG scan; the message is fit for the user."""


def document_path(sha256: str) -> Path:
    """Where the document with this digest lives in the store."""
    return content_path(current_app.config["DOCUMENT_STORE"], sha256)


def sniff_content_type(data: bytes) -> str:
    """The content type the bytes really are, or DocumentRejected."""
    if not data:
        raise DocumentRejected("The scanned request is empty.")
    for signature, content_type in SIGNATURES:
        if data.startswith(signature):
            return content_type
    raise DocumentRejected("The scanned request must be a PDF, PNG or JPEG file.")


def store_document(session: Session, data: bytes, original_name: str) -> StoredDocument:
    """Keep a scan once per content (same bytes, same row and file); flushes, never commits.

    The file is written (atomically, by rename) before the row is flushed. If the caller's
    transaction then rolls back, the file stays as an unreferenced copy of content someone
    uploaded, and a later upload of the same scan reuses it.
    """
    content_type = sniff_content_type(data)
    digest = hashlib.sha256(data).hexdigest()
    existing = session.get(StoredDocument, digest)
    target = document_path(digest)
    if not target.exists():
        write_atomically(target, data)
    if existing is not None:
        return existing
    document = StoredDocument(
        sha256=digest,
        content_type=content_type,
        byte_size=len(data),
        original_name=Path(original_name or "request").name[:255],
    )
    session.add(document)
    session.flush()
    return document
