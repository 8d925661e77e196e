"""The device API's JSON ingest: ``POST /api/v1/reads`` (DESIGN.md's contract).

Request: ``Authorization: Bearer <device token>`` and a JSON body
``{"reads": [{"plate", "captured_at", "latitude", "longitude", "client_read_id"?}, ...]}``,
at most ``INGEST_MAX_BATCH`` reads (1000 by default). ``captured_at`` is ISO 8601 with a UTC
offset, no later than now plus ``CLOCK_SKEW_SECONDS`` and no older than ``RETENTION_DAYS``.

Semantics: all-or-nothing validation. Any unknown field (422, naming it: 425.4.1(a)), wrong
type, missing field or invalid value refuses the whole batch with ``errors``, one entry per
offending read (``{"index", "errors": [...]}``), and nothing is stored. Malformed JSON is 400,
a body that is not ``application/json`` 415, an oversize batch 413, a fixed device without a
recorded location 409; a missing or unknown token 401, a revoked device 403.

A valid batch answers 200 with ``results``, one per read in order:
``{"index", "outcome", "read_id"?, "client_read_id"?}``, ``outcome`` being ``stored``,
``duplicate`` (already stored: resending a batch is harmless; reads are the same when their
``client_read_id`` is, else when plate and time are) or ``destroyed_acp`` (an Address
Confidentiality Program participant's plate, destroyed at collection, 425.5(b)); and the counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import current_app, g, jsonify, request
from sqlalchemy.orm import Session

from app.alpr.api import api_bp
from app.alpr.api.auth import device_required
from app.alpr.ingest.batch import IngestResult, ingest_reads
from app.alpr.ingest.periods import device_actor
from app.alpr.ingest.validation import IngestRefused, Limits, ReadIn, validate_payload
from app.db import db_session, utcnow


def _refused(exc: IngestRefused):
    body: dict = {"error": exc.message, "status": exc.status, "stored": 0}
    if exc.errors:
        body["errors"] = exc.errors
    return jsonify(body), exc.status


def answer_json_batch(
    ingest: Callable[[Session, Sequence[ReadIn]], IngestResult], **label: Any
) -> Any:
    """The JSON batch contract shared by the device and agency APIs (module docstring).

    Parses and validates the request's body, hands the reads to `ingest` (which stores them),
    commits once, and answers with `label` (who sent it), the counts and per-read results; any
    refusal rolls back and answers its status with nothing stored.
    """
    if not request.is_json:
        return _refused(IngestRefused(415, "send the batch as application/json"))
    payload = request.get_json(silent=True)
    if payload is None:
        return _refused(IngestRefused(400, "the body is not valid JSON"))
    session = db_session()
    try:
        reads = validate_payload(
            payload, now=utcnow(), limits=Limits.from_config(current_app.config)
        )
        result = ingest(session, reads)
    except IngestRefused as exc:
        session.rollback()
        return _refused(exc)
    session.commit()
    return jsonify(
        **label,
        received=len(reads),
        stored=result.counts["stored"],
        duplicate=result.counts["duplicate"],
        destroyed_acp=result.counts["destroyed_acp"],
        hits=result.counts["hits"],
        results=result.outcomes,
    )


@api_bp.route("/reads", methods=["POST"])
@device_required
def post_reads():
    """A camera's batch of reads; see the module docstring for the contract."""
    device = g.device
    return answer_json_batch(
        lambda session, reads: ingest_reads(
            session,
            device_actor(device),
            reads,
            device=device,
            gap_minutes=current_app.config["ACTIVE_USE_GAP_MINUTES"],
        ),
        device=device.serial,
    )
