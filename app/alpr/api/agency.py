"""`POST /api/v1/agency-reads`: another agency's system pushes the reads it shares (425.5).

Request: ``Authorization: Bearer <agency token>`` (``flask --app wsgi agencies issue-token``)
and exactly the device API's JSON body, ``{"reads": [{"plate", "captured_at", "latitude",
"longitude", "client_read_id"?}, ...]}``, validated the same way with the same errors (422
naming any field outside 425.4.1(a), 400, 413, 415; 401 for no or an unknown token, 403 for a
revoked one) and the same per-read outcomes (:mod:`app.alpr.api.reads`).

"ALPR data received from another agency shall be maintained securely and released in the same
manner as ALPR data collected by this department" (425.5): the reads are stored with their
source agency and go through the same ACP screen, hotlist matching, retention and audit as a
camera's (:func:`app.alpr.ingest.batch.ingest_reads`, one READS_IMPORTED entry per batch); they are
not this department's use of an ALPR, so they add nothing to its periods of active use
(425.5.1). A device token is unknown here, and an agency token is unknown to the device API.
"""

from __future__ import annotations

from flask import g

from app.alpr.api import api_bp
from app.alpr.api.auth import bearer_required
from app.alpr.api.reads import answer_json_batch
from app.alpr.ingest.batch import ingest_reads
from app.auth.agencies import agency_actor, agency_for_token

#: Accept only `Authorization: Bearer <token>` of an agency whose token is in force; sets
#: `g.agency`.
agency_required = bearer_required(
    kind="agency",
    lookup=agency_for_token,
    revoked=lambda agency: not agency.api_token_active,
    attribute="agency",
    realm="alpr-agencies",
)


@api_bp.route("/agency-reads", methods=["POST"])
@agency_required
def post_agency_reads():
    """An outside agency's batch of shared reads; see the module docstring for the contract."""
    agency = g.agency
    return answer_json_batch(
        lambda session, reads: ingest_reads(session, agency_actor(agency), reads, agency=agency),
        agency=agency.name,
    )
