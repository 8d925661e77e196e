"""The image store's rules: pictures of reads, content-addressed by SHA-256 (policy 425.4.1(a)).

Pictures live in the image store ``IMAGE_STORE`` names (a folder or an S3 bucket,
:mod:`app.reads.image_store`) as ``ab/cd/<sha256>``, so identical pictures are stored once and a
row names its picture by digest alone. What a file *is* is decided from its bytes (Pillow),
never from the name or the type a client claims: only still JPEG, PNG and WebP pictures within
``IMAGE_MAX_BYTES`` and :data:`MAX_PIXELS` are accepted.

Writers and :func:`remove_unreferenced_image` serialise on the digest (a PostgreSQL advisory
transaction lock; on SQLite the database write lock), so a picture is never deleted while another
transaction is about to commit a row that points at it.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.core.storage import lock_digest
from app.db import settings_of
from app.reads.image_store import ImageStore, LocalImageStore, image_store
from app.reads.models import ReadImage

#: Pillow format name -> the content type stored with the row and sent when it is viewed.
ACCEPTED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
#: A decompression-bomb guard far above any camera's frame (a 12 MP frame is 12,000,000).
MAX_PIXELS = 40_000_000
#: Names the per-digest advisory locks on PostgreSQL (two-key form: its own key space).
IMAGE_LOCK_CLASS = 425_041


class ImageRejected(ValueError):
    """The upload is not an image this store accepts; the message says why, for the client."""


@dataclass(frozen=True)
class ImageInfo:
    """What the bytes turned out to be: digest, content type, size and dimensions."""

    sha256: str
    content_type: str
    byte_size: int
    width: int
    height: int


@dataclass(frozen=True)
class CleanImage:
    """A picture re-encoded with no metadata, and what it is: the bytes the store keeps."""

    data: bytes
    info: ImageInfo


def _without_metadata(picture: Image.Image, kind: str) -> tuple[bytes, tuple[int, int]]:
    """The pixels alone, re-encoded in the same format (425.4.1(a)), and their size.

    A camera's or a phone's file carries far more than the picture: EXIF (owner, serial numbers,
    GPS, time), XMP, IPTC, ICC profiles, JPEG comments and PNG text chunks. None of it is data
    the statute lets us collect, so only the pixels are kept, turned upright first as EXIF's
    orientation said (it goes with the rest). The same upload always gives the same bytes.
    """
    upright = ImageOps.exif_transpose(picture)
    if kind == "JPEG" and upright.mode not in ("L", "RGB"):
        upright = upright.convert("RGB")
    bare = Image.new(upright.mode, upright.size)
    bare.paste(upright)
    if upright.mode == "P":
        bare.putpalette(upright.getpalette() or [])
    output = io.BytesIO()
    if kind == "JPEG":
        bare.save(output, format="JPEG", quality=95)
    elif kind == "PNG":
        bare.save(output, format="PNG")
    else:
        bare.save(output, format="WEBP", lossless=True)
    return output.getvalue(), bare.size


def clean_image(data: bytes, *, max_bytes: int, max_pixels: int = MAX_PIXELS) -> CleanImage:
    """Decide by content whether `data` is an acceptable picture, and strip it to its pixels.

    The header is parsed, the file verified, then decoded in full once the pixel count is known
    to be sane, so a truncated file or a decompression bomb is refused here rather than in the
    OCR worker; the decoded picture is re-encoded with no metadata block at all. Nothing is
    written. Raises :class:`ImageRejected` with a message fit for the client.
    """
    if not data:
        raise ImageRejected("the file is empty")
    if len(data) > max_bytes:
        raise ImageRejected(f"the file is {len(data)} bytes; the limit is {max_bytes} bytes")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                kind, (width, height) = probe.format, probe.size
                frames = getattr(probe, "n_frames", 1)
                if kind not in ACCEPTED_FORMATS:
                    raise ImageRejected(
                        f"{kind or 'this'} images are not accepted; send JPEG, PNG or WebP"
                    )
                if width * height > max_pixels:
                    raise ImageRejected(
                        f"the image is {width}x{height} pixels; the limit is {max_pixels} pixels"
                    )
                if frames != 1:
                    raise ImageRejected("animated images are not accepted; send a still picture")
                probe.verify()
            with Image.open(io.BytesIO(data)) as picture:
                picture.load()
                clean, (width, height) = _without_metadata(picture, kind)
        except ImageRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRejected("the image is too large to decode safely") from exc
        except UnidentifiedImageError as exc:
            raise ImageRejected("the file is not a JPEG, PNG or WebP image") from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageRejected("the image is damaged or truncated and cannot be decoded") from exc
    info = ImageInfo(
        sha256=hashlib.sha256(clean).hexdigest(),
        content_type=ACCEPTED_FORMATS[kind],
        byte_size=len(clean),
        width=width,
        height=height,
    )
    return CleanImage(clean, info)


def current_image_store() -> ImageStore:
    """The image store of this installation, for pages and jobs in an app context."""
    return image_store(current_app.config["IMAGE_STORE"], current_app.config.get("S3_ENDPOINT_URL"))


def store_of(session: Session) -> ImageStore:
    """The image store the session's settings name (services use this)."""
    settings = settings_of(session)
    return image_store(settings.image_store, settings.s3_endpoint_url)


def image_path(sha256: str) -> Path:
    """Where a local image store keeps this picture's file (checks and tests of that store)."""
    return LocalImageStore(current_app.config["IMAGE_STORE"]).path(sha256)


def lock_image(session: Session, sha256: str) -> None:
    """Serialise work on one picture's file until the caller's transaction ends."""
    lock_digest(session, IMAGE_LOCK_CLASS, sha256, ReadImage.__table__)


def write_image(session: Session, data: bytes, info: ImageInfo) -> bool:
    """Put the picture in the store under the digest lock; True when it was not there yet.

    Either store writes atomically (a reader never sees half a picture, a crash leaves nothing
    partial under a digest's name). A picture already there is the same one (same digest).
    """
    lock_image(session, info.sha256)
    return store_of(session).put(info.sha256, data)


def remove_unreferenced_image(session: Session, sha256: str) -> bool:
    """Delete the picture from the store when no ReadImage row references it; True when removed.

    Used by the retention purge (425.5: images are destroyed with their reads) and by the upload
    API to take back a file whose transaction failed. It takes the digest lock in the caller's
    transaction, so an upload of the same picture cannot commit a row for a file unlinked here.
    The picture goes at once: call it after the deleting rows are flushed, and commit promptly.
    """
    lock_image(session, sha256)
    referenced = session.scalar(select(exists().where(ReadImage.sha256 == sha256)))
    if referenced:
        return False
    return store_of(session).delete(sha256)
