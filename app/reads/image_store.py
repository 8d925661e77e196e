"""Where the pictures' bytes are kept: a local folder or an S3-compatible bucket.

``ALPR_IMAGE_STORE`` names the store: a folder (the default, ``instance/images``) or
``s3://bucket/prefix`` (with ``ALPR_S3_ENDPOINT_URL`` for a server other than AWS's, and the
standard AWS variables for the credentials). Both keep a picture under its SHA-256 as
``ab/cd/<sha256>``, so identical pictures are stored once. The rules (what a picture may be,
the digest lock, when a picture is destroyed) are :mod:`app.reads.images`'s; a store only
puts, gets and deletes bytes.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from app.core.storage import content_path, write_atomically

S3_SCHEME = "s3://"
#: S3's answers for "no such object" (GetObject says NoSuchKey, HeadObject only 404).
S3_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
#: A request waits seconds for the store, not botocore's default minute, and is tried 3 times.
S3_CLIENT_SETTINGS = {
    "connect_timeout": 5,
    "read_timeout": 30,
    "retries": {"max_attempts": 3, "mode": "standard"},
}


class ImageMissing(LookupError):
    """The store holds no picture under this digest (destroyed, or never written)."""


class ImageStoreUnavailable(ConnectionError):
    """The store did not answer or refused: nothing can be said about the picture now.

    A ConnectionError, so a job it interrupts is run again later (app.jobs.services).
    """


class ImageStore(Protocol):
    """Content-addressed bytes: every method takes the picture's SHA-256 hex digest."""

    def put(self, sha256: str, data: bytes) -> bool:
        """Keep `data` under its digest; False when it was already there (the same bytes)."""
        ...

    def get(self, sha256: str) -> bytes:
        """The picture's bytes; raises ImageMissing when it is not there."""
        ...

    def exists(self, sha256: str) -> bool:
        """Whether the picture is there."""
        ...

    def delete(self, sha256: str) -> bool:
        """Destroy the picture; False when it was not there."""
        ...


class LocalImageStore:
    """Files under a folder, written atomically (a reader never sees half a picture)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """The file that holds (or would hold) this digest's picture."""
        return content_path(self.root, sha256)

    def put(self, sha256: str, data: bytes) -> bool:
        """Write the file unless a file with this digest (the same bytes) is already there."""
        target = self.path(sha256)
        if target.exists():
            return False
        write_atomically(target, data)
        return True

    def get(self, sha256: str) -> bytes:
        """The file's bytes."""
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise ImageMissing(sha256) from None

    def exists(self, sha256: str) -> bool:
        """Whether the file is there."""
        return self.path(sha256).is_file()

    def delete(self, sha256: str) -> bool:
        """Unlink the file."""
        try:
            self.path(sha256).unlink()
        except FileNotFoundError:
            return False
        return True


class S3ImageStore:
    """Objects in an S3-compatible bucket, under ``prefix/ab/cd/<sha256>``.

    An S3 PUT is atomic (a reader never sees half an object), so no temporary name is needed.
    Errors other than "no such object" (the server down, credentials refused) are raised as
    ImageStoreUnavailable, never taken for a missing picture.
    """

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    def key(self, sha256: str) -> str:
        """The object's key: the local store's relative path, under the prefix."""
        relative = content_path("", sha256).as_posix()
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def _call(self, operation: str, sha256: str, **extra: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(
                Bucket=self.bucket, Key=self.key(sha256), **extra
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in S3_MISSING:
                raise ImageMissing(sha256) from None
            raise ImageStoreUnavailable(f"the image store refused {operation}: {exc}") from exc
        except BotoCoreError as exc:
            raise ImageStoreUnavailable(f"the image store did not answer: {exc}") from exc

    def put(self, sha256: str, data: bytes) -> bool:
        """Upload the object unless one with this digest (the same bytes) is already there."""
        if self.exists(sha256):
            return False
        self._call("put_object", sha256, Body=data)
        return True

    def get(self, sha256: str) -> bytes:
        """The object's bytes."""
        return self._call("get_object", sha256)["Body"].read()

    def exists(self, sha256: str) -> bool:
        """Whether the object is there (a HEAD request)."""
        try:
            self._call("head_object", sha256)
        except ImageMissing:
            return False
        return True

    def delete(self, sha256: str) -> bool:
        """Delete the object (S3's DELETE succeeds for a missing key too, so look first)."""
        if not self.exists(sha256):
            return False
        self._call("delete_object", sha256)
        return True


def parse_s3_location(location: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` as (bucket, prefix); ValueError without a bucket."""
    parts = urlsplit(location)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"an S3 image store is s3://bucket[/prefix], not {location!r}")
    return parts.netloc, parts.path.strip("/")


@functools.cache
def image_store(location: str, endpoint_url: str | None = None) -> ImageStore:
    """The store ALPR_IMAGE_STORE names (one per location, its S3 client reused: thread-safe)."""
    if not location.startswith(S3_SCHEME):
        return LocalImageStore(location)
    import boto3  # only installations with an S3 store load it
    from botocore.config import Config

    bucket, prefix = parse_s3_location(location)
    client = boto3.client("s3", endpoint_url=endpoint_url, config=Config(**S3_CLIENT_SETTINGS))
    return S3ImageStore(client, bucket, prefix)
