"""The signed letter of an agency request (425.7(a)(5)), judged by its content, never its name.

A PDF must parse and have a page; a PNG or JPEG must decode whole. A file that only claims to
be one (a text file named ``.pdf``, a truncated scan) is refused at the letter's field.

A request refused for another field keeps the letter: it is staged under the document store
(``staged/<user id>-<token>``, owner-only like every stored file) and the form carries the token,
so nobody uploads it again. Only its uploader can claim it; it is written into the content
store with the request (:func:`app.retention.documents.store_document`), and a staged letter
nobody claims is deleted after :data:`STAGED_FOR` by the scheduled cleanup.
"""

from __future__ import annotations

import io
import re
import secrets
import time
import warnings
from datetime import timedelta
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PyPdfError
from sqlalchemy.orm import Session

from app.core.refusal import Refusal
from app.core.storage import write_atomically
from app.db import settings_of
from app.reads.images import MAX_PIXELS
from app.retention.documents import (
    DocumentRejected,
    IncomingDocument,
    inspect_document,
)

LETTER_MAX_BYTES = 10 * 1024 * 1024
#: A scan smaller than this on either side cannot show a signed letter.
LETTER_MIN_SIDE = 200
STAGED_FOR = timedelta(hours=24)
TOKEN = re.compile(r"[0-9a-f]{32}")


class LetterRejected(Refusal):
    """The uploaded letter is not a readable PDF or picture; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "letter")


def _check_pdf(data: bytes) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise LetterRejected("The letter is an encrypted PDF: send it without a password.")
            pages = len(reader.pages)
            if pages:
                reader.pages[0].mediabox  # noqa: B018 (reading the page is the check)
    except LetterRejected:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError):
        raise LetterRejected("The letter is not a readable PDF.") from None
    if not pages:
        raise LetterRejected("The letter is a PDF without a page.")


def _check_picture(data: bytes) -> None:
    try:
        with Image.open(io.BytesIO(data)) as picture:
            width, height = picture.size
            if width * height > MAX_PIXELS:
                raise LetterRejected("The letter's picture is too large to be a scan.")
            picture.load()
    except LetterRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise LetterRejected(
            "The letter is not a readable picture (damaged or cut short)."
        ) from None
    if min(width, height) < LETTER_MIN_SIDE:
        raise LetterRejected(
            f"The letter's picture is {width}×{height} pixels: too small to show a signed "
            f"letter (at least {LETTER_MIN_SIDE} on each side)."
        )


def inspect_letter(data: bytes, original_name: str) -> IncomingDocument:
    """The letter checked through and through; nothing is written. Raises LetterRejected."""
    if len(data) > LETTER_MAX_BYTES:
        raise LetterRejected(
            f"The letter is {len(data) / 1048576:.1f} MiB; at most "
            f"{LETTER_MAX_BYTES // 1048576} MiB."
        )
    try:
        document = inspect_document(data, original_name or "letter")
    except DocumentRejected:
        if not data:
            raise LetterRejected("The letter is empty.") from None
        raise LetterRejected(
            "The letter must be a PDF, PNG or JPEG file (judged by its content, not its name)."
        ) from None
    if document.content_type == "application/pdf":
        _check_pdf(data)
    else:
        _check_picture(data)
    return document


# --- staged letters: kept across a refused form --------------------------------------------


def _staged_path(session: Session, user_id: int, token: str) -> Path | None:
    if not TOKEN.fullmatch(token or ""):
        return None
    return Path(settings_of(session).document_store) / "staged" / f"{int(user_id)}-{token}"


def stage_letter(session: Session, user_id: int, document: IncomingDocument) -> str:
    """Keep a checked letter for its uploader's next try of the form; returns its token."""
    token = secrets.token_hex(16)
    path = _staged_path(session, user_id, token)
    assert path is not None  # noqa: S101 (a fresh token always matches)
    write_atomically(path, document.data)
    return token


def staged_letter(
    session: Session, user_id: int, token: str, original_name: str
) -> IncomingDocument | None:
    """The letter `user_id` staged under `token`, checked again; None when there is none."""
    path = _staged_path(session, user_id, token)
    if path is None or not path.is_file():
        return None
    return inspect_letter(path.read_bytes(), original_name)


def discard_staged_letter(session: Session, user_id: int, token: str) -> None:
    """Forget a staged letter (the request that claimed it has committed)."""
    path = _staged_path(session, user_id, token)
    if path is not None:
        path.unlink(missing_ok=True)


def remove_stale_letters(session: Session, older_than: timedelta = STAGED_FOR) -> int:
    """Delete staged letters nobody claimed in time; returns how many."""
    folder = Path(settings_of(session).document_store) / "staged"
    if not folder.is_dir():
        return 0
    limit = time.time() - older_than.total_seconds()
    removed = 0
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
