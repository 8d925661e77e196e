"""Helpers the test files share: forms and CSRF, audit entries, pictures, PDFs, stored rows.

Plain functions, not fixtures (those live in tests/conftest.py). Helpers that read what a
request committed end the test session's snapshot first (SQLite WAL, PostgreSQL REPEATABLE
READ would otherwise show the test its own stale view).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.alpr.adapters.signatures import sign, signing_secret
from app.alpr.devices import create_device
from app.audit.models import AuditEntry
from app.auth.authorisations import WrittenAuthorisation
from app.core.timeutil import local_today
from app.db import utcnow
from app.reads.images import image_path
from app.reads.models import CameraDiscard, Device, Read, ReadImage
from app.retention.purge import PurgeResult, destroy_expired_reads
from tests import factories

# --- forms, CSRF and signing in ------------------------------------------------------------

#: The CSRF token's hidden input, as the forms macro and Flask-WTF render it.
#: What a person's tick of "I understand this cannot be undone" posts (app/core/forms.py).
CONFIRMED = {"confirm_irreversible": "y"}

CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def form_csrf(client: FlaskClient, path: str) -> str:
    """Read the CSRF token a page's form carries, as a browser would."""
    html = client.get(path).get_data(as_text=True)
    match = CSRF_INPUT.search(html) or re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


#: A stated purpose that passes the search rules (425.6(b)), as the purpose fieldset posts it.
STATED_PURPOSE = {
    "purpose_category": "criminal_investigation",
    "purpose": "Follow-up of a reported burglary",
    "case_number": "24-000311",
}


def look_up_read(client: FlaskClient, read_id: int, **fields: str):
    """State the purpose of opening read `read_id` on its page, as a member without a context
    does; the answer redirects to the read in its lookup's search context."""
    path = f"/alpr/reads/{read_id}"
    data = {"csrf_token": form_csrf(client, path), **STATED_PURPOSE, **fields}
    return client.post(path, data=data)


def login(client: FlaskClient, email: str, password: str = factories.DEFAULT_PASSWORD):
    """Sign `client` in through the login form (the response is the form's answer)."""
    token = form_csrf(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def field_error(html: str, field_id: str) -> str | None:
    """The error shown under one field, if any (the forms macro ids it `<field>-err`)."""
    match = re.search(
        rf'<p class="error" id="{re.escape(field_id)}-err" role="alert">([^<]*)<', html
    )
    return match.group(1) if match else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve `app` with a real threaded HTTP server on a free local port; yields its URL."""
    from werkzeug.serving import make_server

    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()


# --- dates in parametrize values -----------------------------------------------------------


def when_run(value: object) -> object:
    """A parametrize value as of when the test runs: a callable, also as a dict's value, is called.

    Parametrize values are built when the module is imported, so a run that crosses the
    department's midnight would compare a stale day. A date in one is given as a callable
    (``lambda: local_today() + timedelta(days=1)``) and taken here, inside the test.
    """
    if isinstance(value, dict):
        return {key: when_run(item) for key, item in value.items()}
    return value() if callable(value) else value


# --- written authorisations of access (425.3) ----------------------------------------------


def written_authorisation() -> WrittenAuthorisation:
    """The written authorisation a grant of roles or a training record names, dated today."""
    return WrittenAuthorisation("Dana Deputy-Chief", local_today(), "Memo 2026-014")


def authorisation_fields(prefix: str = "") -> dict[str, str]:
    """:func:`written_authorisation` as the account forms post it (`prefix`: "training-")."""
    given = written_authorisation()
    return {
        f"{prefix}authorised_by": given.authorised_by,
        f"{prefix}authorised_on": given.authorised_on.isoformat(),
        f"{prefix}document": given.document,
    }


#: The options of `flask --app wsgi users create` that carry :func:`written_authorisation`.
AUTHORISATION_OPTIONS = ["--authorised-by", "Dana Deputy-Chief", "--authorisation", "Memo 2026-014"]


# --- the audit trail ------------------------------------------------------------------------


def entries(session: Session, action) -> list[AuditEntry]:
    """The audit entries of `action` (an AuditAction), oldest first, as requests committed them."""
    session.rollback()  # end the read snapshot (SQLite WAL) to see what requests committed
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.action == action.value).order_by(AuditEntry.seq)
        )
    )


def details(entry: AuditEntry) -> dict:
    """An entry's details, decoded."""
    return json.loads(entry.detail.details_json)


def entry_details(session: Session, action) -> list[dict]:
    """The decoded details of every audit entry of `action`, oldest first."""
    return [details(entry) for entry in entries(session, action)]


def actions(session: Session) -> list[str]:
    """Every audited action so far, oldest first."""
    session.rollback()  # end the read snapshot (SQLite WAL) to see what requests committed
    found = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
    session.rollback()  # and release SQLite's write lock (BEGIN IMMEDIATE) for the next request
    return found


# --- stored rows and files ------------------------------------------------------------------


def count_rows(session: Session, model: type) -> int:
    """Rows of `model` as requests committed them (the test's own snapshot is ended first)."""
    session.rollback()
    return session.scalar(select(func.count()).select_from(model))


def stored_files(app: Flask) -> list[Path]:
    """Every file in the app's image store."""
    root = Path(app.config["IMAGE_STORE"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def stored_documents(app: Flask) -> list[Path]:
    """Every file under the document store, temporary ones included, in path order."""
    root = Path(app.config["DOCUMENT_STORE"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- documents and pictures -----------------------------------------------------------------

#: The smallest document the retention forms accept as a PDF scan.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
#: Where a written request's paper original is on file, when a test enters it without a scan.
PAPER_ORIGINAL = "RF-2026-0142, records room cabinet 3"

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def signed_letter(fmt: str = "PDF") -> bytes:
    """A one-page signed letter as an agency scans it: a real PDF (or PNG, JPEG) page."""
    page = Image.new("RGB", (850, 1100), "white")
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 28)
    draw.text((80, 120), "I authorise this request for ALPR data.", fill="black", font=font)
    draw.text((80, 900), "Chief Ann Head", fill="black", font=font)
    buffer = io.BytesIO()
    page.save(buffer, fmt)
    return buffer.getvalue()


def plate_picture(
    text: str = "ABC1234", fmt: str = "PNG", size: tuple[int, int] = (520, 260)
) -> bytes:
    """A clean plate crop: dark characters on a white plate with a border."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((6, 6, size[0] - 7, size[1] - 7), outline="black", width=6)
    font = ImageFont.truetype(FONT, int(size[1] * 0.34))
    box = draw.textbbox((0, 0), text, font=font)
    x = (size[0] - (box[2] - box[0])) // 2 - box[0]
    y = (size[1] - (box[3] - box[1])) // 2 - box[1]
    draw.text((x, y), text, fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def blank_picture(
    fmt: str = "PNG", size: tuple[int, int] = (320, 160), color: str = "gray"
) -> bytes:
    """A picture with nothing on it to read."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


# --- devices and the JSON read APIs ---------------------------------------------------------


def device_with_token(session: Session, serial: str = "CAM-TEST-1") -> tuple[Device, str]:
    """A device made the way the CLI makes one; returns it with its bearer token."""
    device, token = create_device(session, "test", serial=serial, kind="mobile")
    session.commit()
    return device, token


def post_json(client: FlaskClient, token: str, body: object, raw: bool = False, *, url: str):
    """POST `body` (JSON-encoded unless `raw`) to `url` with `token` as the bearer token."""
    return client.post(
        url,
        data=body if raw else json.dumps(body),
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/json",
    )


# --- retention: aged reads, pictures on disk, the purge -------------------------------------


def aged_read(days: float, **fields: object) -> Read:
    """A read captured `days` ago."""
    return factories.ReadFactory(captured_at=utcnow() - timedelta(days=days), **fields)


def add_image(
    session: Session, read: Read, kind: str = "plate", content: bytes | None = None
) -> str:
    """Attach a picture to `read` with its file in the image store; returns its digest."""
    data = content if content is not None else f"picture of read {read.id} {kind}".encode()
    digest = hashlib.sha256(data).hexdigest()
    path = image_path(digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    session.add(
        ReadImage(
            read=read,
            kind=kind,
            sha256=digest,
            content_type="image/jpeg",
            byte_size=len(data),
            width=10,
            height=10,
        )
    )
    session.commit()
    return digest


def run_purge(
    app: Flask, now: datetime | None = None, batch_size: int = 1000, **kwargs: object
) -> PurgeResult:
    """The real purge service on the test database."""
    return destroy_expired_reads(
        app.extensions["alpr_sessionmaker"],
        "system:purge",
        now or utcnow(),
        batch_size,
        retention_days=kwargs.pop("retention_days", app.config["RETENTION_DAYS"]),
        **kwargs,  # type: ignore[arg-type]
    )


def surviving_ids(session: Session) -> set[int]:
    """Ids of the reads still stored (a fresh snapshot, not the session's cache)."""
    session.commit()
    return set(session.scalars(select(Read.id)))


def dangling_images(session: Session) -> list[str]:
    """Digests of image rows whose file is missing: must always be empty."""
    session.commit()
    return [d for d in session.scalars(select(ReadImage.sha256)) if not image_path(d).exists()]


def orphan_files(app: Flask, session: Session) -> list[Path]:
    """Image files no row references: must be empty after a completed purge."""
    session.commit()
    referenced = set(session.scalars(select(ReadImage.sha256)))
    store = Path(app.config["IMAGE_STORE"])
    if not store.exists():
        return []
    return [p for p in store.rglob("*") if p.is_file() and p.name not in referenced]


# --- pictures sent by devices, OCR and the review queue -------------------------------------

#: The device image upload API.
IMAGE_URL = "/api/v1/reads/image"


def upload_fields(**extra):
    """The form fields of an image upload, captured five minutes ago in Winona."""
    data = {
        "captured_at": (utcnow() - timedelta(minutes=5)).isoformat(),
        "latitude": "44.0499",
        "longitude": "-91.6393",
    }
    data.update(extra)
    return data


def upload_image(client: FlaskClient, token: str, data, files=None):
    """POST an image upload (`files`: name → (bytes, filename)) with the device's token."""
    from werkzeug.datastructures import MultiDict

    payload = MultiDict(data)
    for name, (content, filename) in (files or {}).items():
        payload.add(name, (io.BytesIO(content), filename))
    return client.post(
        IMAGE_URL,
        data=payload,
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )


def pending_read(client: FlaskClient, session: Session, picture: bytes | None = None) -> Read:
    """An image-only read whose OCR job has not run (the job is taken off the queue)."""
    import uuid

    import app.alpr.api.images as api

    _, token = device_with_token(session, serial=f"CAM-{uuid.uuid4().hex[:6]}")
    original = api.enqueue_run
    api.enqueue_run = lambda *args: None
    try:
        response = upload_image(
            client, token, upload_fields(), {"plate": (picture or plate_picture(), "p.png")}
        )
    finally:
        api.enqueue_run = original
    return session.get(Read, response.get_json()["read_id"])


def review_read(client: FlaskClient, session: Session, plate="ABC1234", candidates=None) -> Read:
    """A read OCR sent to review with `plate` as its doubtful reading."""
    from app.alpr.image_reads import record_ocr_result
    from app.alpr.ocr.pipeline import OcrResult
    from app.reads.models import ImageKind

    read = pending_read(client, session, plate_picture(plate))
    engines = candidates or {"rapidocr": plate, "tesseract": plate[:-1] + "8"}
    record_ocr_result(session, read, OcrResult(plate, 0.62, True, engines), ImageKind.PLATE)
    session.commit()
    return read


def production_environment(monkeypatch, key_folder: Path, variable: str = "ALPR_ENV") -> None:
    """Declare production with real keys: secrets and an audit signing key file."""
    key_file = key_folder / "audit-signing-key.pem"
    key_file.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    monkeypatch.setenv(variable, "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("ACP_HMAC_KEY", "k" * 40)
    monkeypatch.setenv("ALPR_AUDIT_SIGNING_KEY_FILE", str(key_file))


def pdf_text(data: bytes) -> str:
    """The text of a PDF, laid out (poppler's pdftotext), to check what a document says."""
    import subprocess

    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode("utf-8")


# --- camera adapters (POST /api/v1/cameras/<format>) ------------------------------------------

#: The vendors' public sample payloads (SOURCES.md beside them says where each comes from).
CAMERA_PAYLOADS = Path(__file__).resolve().parent.parent / "fixtures" / "camera-payloads"


def camera_sample(name: str) -> dict:
    """One sample payload, decoded (a fresh copy each time, so a test may change it)."""
    return json.loads((CAMERA_PAYLOADS / name).read_text())


#: The grey 16x16 JPEG every sample's pictures were replaced with (SOURCES.md).
GREY_JPEG = base64.b64decode(
    camera_sample("openalpr-alpr_group-1.json")["best_plate"]["plate_crop_jpeg"]
)


def at_ms(epoch_ms: int) -> datetime:
    """A Unix time in milliseconds as the aware UTC time a read is stored with."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=epoch_ms)


def iso(epoch_ms: int, micros: int = 0) -> str:
    """The time as Plate Recognizer writes it (microseconds, Z)."""
    return (at_ms(epoch_ms) + timedelta(microseconds=micros)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def camera_device(
    session: Session,
    camera_format: str,
    *,
    serial: str = "CAM-ADAPTER-1",
    kind: str = "mobile",
    date_order: str | None = None,
) -> tuple[Device, str]:
    """A camera registered with its format the way the CLI registers one; with its token."""
    device, token = create_device(
        session,
        "test",
        serial=serial,
        kind=kind,
        camera_format=camera_format,
        date_order=date_order,
    )
    session.commit()
    return device, token


def post_camera(
    client: FlaskClient,
    camera_format: str,
    body: object,
    *,
    token: str | None = None,
    headers: dict | None = None,
    query: str = "",
):
    """POST a JSON payload (a dict, or raw bytes as they are) to the format's route."""
    sent = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(
        f"/api/v1/cameras/{camera_format}{query}",
        data=body if isinstance(body, bytes | str) else json.dumps(body),
        headers={**sent, **(headers or {})},
        content_type="application/json",
    )


def fixed_camera(session: Session, camera_format: str, **extra) -> tuple[Device, str]:
    """A fixed camera of the format with a deployment in force (44.0521, -91.6393)."""
    device, token = camera_device(session, camera_format, kind="fixed", **extra)
    factories.DeploymentFactory(device=session.merge(device), latitude=44.0521, longitude=-91.6393)
    session.commit()
    return device, token


def signed_post(client: FlaskClient, app: Flask, token: str, body: bytes, stamp: int | None = None):
    """POST `body` to the Verkada route signed as Verkada signs it, with the device's secret."""
    secret = signing_secret(app.config["SECRET_KEY"], token)
    return client.post(
        "/api/v1/cameras/verkada",
        data=body,
        headers={"Verkada-Signature": sign(secret, body, stamp or int(time.time()))},
        content_type="application/json",
    )


def recent_epoch_ms(hours_ago: float = 1) -> int:
    """A Unix time in milliseconds within retention, with a millisecond part."""
    return int((utcnow() - timedelta(hours=hours_ago)).timestamp() * 1000) // 1000 * 1000 + 317


def database_text(session: Session) -> str:
    """Every text value in every table, reflected from the database: what a leak would show."""
    from sqlalchemy import MetaData, String, Text

    session.rollback()
    metadata = MetaData()
    metadata.reflect(bind=session.connection())
    values: list[str] = []
    for table in metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text)]
        if columns:
            for row in session.execute(select(*columns)):
                values.extend(str(value) for value in row if value is not None)
    session.rollback()
    return "\n".join(values)


def leaked(session: Session, values) -> set[str]:
    """The values found in any text column: a dropped field must show up in none."""
    text = database_text(session)
    return {value for value in values if value in text}


def discards(session: Session) -> dict[str, int]:
    """Every camera's discard counters, by field name."""
    session.rollback()
    return {c.field: c.count for c in session.scalars(select(CameraDiscard))}


def stored_reads(session: Session) -> list[Read]:
    """Every read as the requests committed them, with their pictures, oldest first."""
    from sqlalchemy.orm import selectinload

    session.rollback()
    return list(
        session.scalars(
            select(Read).order_by(Read.captured_at, Read.id).options(selectinload(Read.images))
        )
    )


# --- mail ------------------------------------------------------------------------------------


@contextmanager
def smtp_server(refuse: str = "") -> Iterator[tuple[int, list[dict]]]:
    """A real (minimal) SMTP server on a free local port; yields its port and what it received.

    Each received message is {"from", "to", "data"}; a recipient containing `refuse` is refused
    with 550, as a real server refuses an unknown mailbox.
    """
    import socketserver

    received: list[dict] = []

    class Session(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(f"{line}\r\n".encode())

        def handle(self) -> None:
            self.reply("220 test SMTP")
            message: dict = {"to": []}
            while line := self.rfile.readline().decode().rstrip("\r\n"):
                verb = line.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    self.reply("250 test")
                elif verb == "MAIL":
                    message = {"from": line.split(":", 1)[1], "to": []}
                    self.reply("250 ok")
                elif verb == "RCPT":
                    if refuse and refuse in line:
                        self.reply("550 no such mailbox")
                    else:
                        message["to"].append(line.split(":", 1)[1].strip("<> "))
                        self.reply("250 ok")
                elif verb == "DATA":
                    self.reply("354 go on")
                    lines = []
                    while (body := self.rfile.readline().decode()) != ".\r\n":
                        lines.append(body)
                    received.append({**message, "data": "".join(lines)})
                    self.reply("250 queued")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("250 ok")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Session)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()


# --- ACP requests entered as records staff enter them ---------------------------------------


def enter_acp_request(session, *plates: str):
    """An ACP participant's written request entered as records staff enter it (425.5(b))."""
    from app.core.timeutil import local_today
    from app.retention.acp.lifecycle import receive_acp_request

    request = receive_acp_request(
        session,
        "test",
        participant_number="P-1",
        plates=plates,
        received_on=local_today(),
        paper_original="ACP binder, tab 1",
    )
    session.commit()
    return request


#: Every card's test id on the home page (each role's tests check the others are absent).
HOME_CARDS = (
    "card-hits",
    "card-review",
    "card-searches",
    "card-retention",
    "card-requests",
    "bca-due",
    "compliance-counters",
    "card-training-lapsing",
    "card-silent-devices",
    "card-tokens",
    "card-audit",
    "card-agency-requests",
)
