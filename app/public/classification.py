"""What of each audit entry's details the public may see (§ 13.824 subd. 7), key by key.

The trail is public "to extent not otherwise classified": every entry is kept and only the
classified values are withheld, each with its legal basis. One table names, for each audit
action, the classification of each detail key. It fails closed: a key the table does not name
(a detail added later, an action added by another domain) is withheld as "not yet classified"
until someone classifies it here. Nothing is decided by looking at the values' text.
"""

from __future__ import annotations

from enum import Enum, StrEnum

from app.audit.actions import AuditAction


class Basis(StrEnum):
    """Why a value is withheld: the legal basis shown beside each redaction."""

    READ_DATA = "Minn. Stat. § 13.824 subd. 2"
    ACTIVE_INVESTIGATION = "Minn. Stat. § 13.82 subd. 7"
    ACP = "Minn. Stat. § 13.045"
    SECURITY = "Minn. Stat. § 13.37"
    UNCLASSIFIED = "not yet classified"

    @property
    def meaning(self) -> str:
        """The legend's words for the basis."""
        return BASIS_MEANINGS[self]


BASIS_MEANINGS = {
    Basis.READ_DATA: "plates and other ALPR read data (private or nonpublic)",
    Basis.ACTIVE_INVESTIGATION: "case numbers and details of an active criminal investigation",
    Basis.ACP: "would reveal an Address Confidentiality Program participant",
    Basis.SECURITY: "security information (addresses, tokens, secured camera locations)",
    Basis.UNCLASSIFIED: "a detail no one has classified yet is withheld until it is",
}


class Field(Enum):
    """How one detail key is classified; two depend on the data they concern."""

    PUBLIC = "public"
    READ_DATA = "read data"
    ACP = "acp"
    SECURITY = "security"
    #: Withheld while the investigation the entry concerns is active, or when none is known.
    INVESTIGATION = "investigation"
    #: A fixed camera's location: withheld when marked security information (§ 13.37 subd. 2).
    LOCATION = "location"
    #: A hotlist's name: the state file's is public; an investigation's own list is named by
    #: case, so it is treated as :attr:`INVESTIGATION`.
    HOTLIST_SOURCE = "hotlist source"


PUB, READ, ACP, SEC, INV, LOC, LIST = (
    Field.PUBLIC,
    Field.READ_DATA,
    Field.ACP,
    Field.SECURITY,
    Field.INVESTIGATION,
    Field.LOCATION,
    Field.HOTLIST_SOURCE,
)

#: A workflow step's entry names the states it moved between (app.workflow.step).
STEP = {"from": PUB, "to": PUB}
#: What a hold's entry says of its scope (app.retention.holds.scope_summary): the window and
#: cameras of an investigation's data, and how many plates.
HOLD_SCOPE = {"window_start": INV, "window_end": INV, "devices": INV, "plates": PUB}
#: An ACP request's entries: dates and counts of one participant's request say nothing of who
#: they are alone, but joined with other facts they may: all withheld (the reading that
#: protects the participant).
ACP_REQUEST = {
    "plates": ACP,
    "received_on": ACP,
    "ended_on": ACP,
    "destroyed": ACP,
    "deferred": ACP,
    "images": ACP,
    "reason": ACP,
    "document_sha256": ACP,
    "paper_original": ACP,
    "reads_out_of_use": ACP,
}

CLASSIFICATION: dict[AuditAction, dict[str, Field]] = {
    # accounts: employees' names, roles and training are public personnel data (§ 13.43 subd. 2);
    # network addresses, typed unknown e-mail addresses and token hints are security information.
    AuditAction.LOGIN: {"address": SEC},
    AuditAction.LOGIN_FAILED: {
        "address": SEC,
        "email": SEC,
        "reason": PUB,
        "failed_logins": PUB,
        "locked_until": PUB,
    },
    AuditAction.LOGIN_LOCKED: {"address": SEC, "locked_until": PUB},
    AuditAction.LOGOUT: {"sessions_ended": PUB},
    AuditAction.ACCESS_DENIED: {"path": READ, "method": PUB, "reason": PUB},
    AuditAction.USER_CREATED: {
        "authorisation": PUB,
        "email": PUB,
        "roles": PUB,
        "agency_id": PUB,
        "password_must_change": PUB,
    },
    AuditAction.USER_ROLES_CHANGED: {
        "authorisation": PUB,
        "before": PUB,
        "after": PUB,
        "sessions_ended": PUB,
    },
    AuditAction.USER_DEACTIVATED: {"email": PUB, "sessions_ended": PUB},
    AuditAction.USER_REACTIVATED: {"email": PUB},
    AuditAction.USER_PASSWORD_SET: {"must_change": PUB, "sessions_ended": PUB},
    AuditAction.USER_PASSWORD_CHANGED: {"sessions_ended": PUB},
    AuditAction.TRAINING_RECORDED: {
        "authorisation": PUB,
        "training_id": PUB,
        "course": PUB,
        "completed_on": PUB,
        "expires_on": PUB,
    },
    AuditAction.AGENCY_CREATED: {"name": PUB, "ori": PUB},
    AuditAction.AGENCY_TOKEN_ISSUED: {"name": PUB, "token_hint": SEC, "old_token_hint": SEC},
    AuditAction.AGENCY_TOKEN_ROTATED: {"name": PUB, "token_hint": SEC, "old_token_hint": SEC},
    AuditAction.AGENCY_TOKEN_REVOKED: {"name": PUB, "token_hint": SEC, "reason": PUB},
    # the trail itself
    AuditAction.AUDIT_VERIFIED: {
        "checkpoint_seq": PUB,
        "ok": PUB,
        "entries": PUB,
        "first_bad_seq": PUB,
        "first_bad_id": PUB,
        "reason": PUB,
        "unchained": PUB,
    },
    AuditAction.AUDIT_DETAILS_REDACTED: {"reason": PUB, "entries": PUB},
    AuditAction.AUDIT_VIEWED: {
        "filter": PUB,
        "page": PUB,
        "action_filter": PUB,
        "result_count": PUB,
        "total": PUB,
        "seqs": PUB,
    },
    # devices and deployments
    AuditAction.DEVICE_CREATED: {
        "camera_format": PUB,
        "date_order": PUB,
        "serial": PUB,
        "kind": PUB,
        "description": LOC,
        "installed_on": PUB,
        "token_hint": SEC,
    },
    AuditAction.DEVICE_UPDATED: {"serial": PUB, "changes": PUB, "reason": PUB},
    AuditAction.DEVICE_TOKEN_ROTATED: {"serial": PUB, "token_hint": SEC, "old_token_hint": SEC},
    AuditAction.DEVICE_REVOKED: {"serial": PUB, "reason": PUB},
    AuditAction.DEVICE_FIRST_USE: {"serial": PUB, "first_used_at": PUB},
    AuditAction.DEPLOYMENT_CREATED: {
        "serial": PUB,
        "location_name": LOC,
        "latitude": LOC,
        "longitude": LOC,
        "started_on": PUB,
        "security_information": PUB,
        "security_reason": LOC,
    },
    AuditAction.DEPLOYMENT_UPDATED: {
        "serial": PUB,
        "location_name": LOC,
        "security_information": PUB,
        "security_reason": LOC,
    },
    AuditAction.DEPLOYMENT_ENDED: {"serial": PUB, "location_name": LOC, "ended_on": PUB},
    # reads, images, OCR: counts are public, plates, pictures and their digests are not. A
    # batch's ACP counts would tell that a participant passed that camera then.
    AuditAction.READS_INGESTED: {
        "received": PUB,
        "stored": PUB,
        "duplicate": PUB,
        "destroyed_acp": ACP,
        "deferred_acp": ACP,
        "hits": PUB,
        "active_use_periods": PUB,
    },
    AuditAction.ACTIVE_USE_PERIODS_JOINED: {
        "joined_period_id": PUB,
        "started_at": PUB,
        "ended_at": PUB,
        "plates_read": PUB,
    },
    AuditAction.READS_IMPORTED: {
        "received": PUB,
        "stored": PUB,
        "duplicate": PUB,
        "destroyed_acp": ACP,
        "deferred_acp": ACP,
        "hits": PUB,
        "active_use_periods": PUB,
        "reads": PUB,
    },
    AuditAction.READ_IMAGE_STORED: {"plate_status": PUB, "images": READ},
    AuditAction.READ_IMAGE_VIEWED: {
        "context": PUB,
        "read_id": PUB,
        "image_id": PUB,
        "kind": PUB,
        "sha256": READ,
    },
    AuditAction.READ_VIEWED: {"context": PUB, "images": PUB},
    AuditAction.READ_OCR_COMPLETED: {
        **STEP,
        "confidence": PUB,
        "image": PUB,
        "plate": READ,
        "plate_status": PUB,
        "engines": READ,
    },
    AuditAction.READ_PLATE_CONFIRMED: {
        **STEP,
        "before": READ,
        "after": READ,
        "confidence": PUB,
        "outcome": ACP,
    },
    AuditAction.READ_PLATE_CORRECTED: {
        **STEP,
        "before": READ,
        "after": READ,
        "confidence": PUB,
        "outcome": ACP,
    },
    AuditAction.REVIEW_QUEUE_VIEWED: {"result_count": PUB, "read_ids": PUB},
    AuditAction.PENDING_OCR_VIEWED: {"page": PUB, "result_count": PUB, "read_ids": PUB},
    # hotlists and hits: an investigation's own list is named by case, so it is withheld
    AuditAction.HOTLIST_LOADED: {
        "source": LIST,
        "kind": PUB,
        "case_number": INV,
        "entries": PUB,
        "replaced_entries": PUB,
        "by_category": PUB,
        "file_sha256": SEC,
    },
    AuditAction.HIT_CREATED: {"read_id": PUB, "source": LIST, "category": PUB, "reference": READ},
    AuditAction.HIT_CONFIRMED: {
        "verification_reference": READ,
        "verified_at": PUB,
        **STEP,
        "category": PUB,
        "verified_via": PUB,
    },
    AuditAction.HIT_NOT_CONFIRMED: {**STEP, "category": PUB, "reason": READ},
    AuditAction.HIT_ENFORCEMENT_RECORDED: {
        **STEP,
        "category": PUB,
        "action": READ,
        "impracticable_reason": READ,
    },
    AuditAction.HIT_CLOSED: {**STEP, "category": PUB, "note": READ},
    AuditAction.HITS_VIEWED: {"count": PUB, "hit_ids": PUB, "trigger": PUB},
    # investigations and search
    AuditAction.INVESTIGATION_OPENED: {
        "case_number": INV,
        "title": INV,
        "opened_on": PUB,
        "lead_id": PUB,
    },
    AuditAction.INVESTIGATION_CLOSED: {**STEP, "case_number": INV, "closed_on": PUB, "reason": INV},
    AuditAction.INVESTIGATION_REOPENED: {
        **STEP,
        "case_number": INV,
        "previous": INV,
        "reason": INV,
    },
    AuditAction.SEARCH_PERFORMED: {
        "criteria": READ,
        "purpose_category": PUB,
        "purpose": INV,
        "case_number": INV,
        "result_count": PUB,
        "count_capped": PUB,
        "is_tracking": PUB,
        "tracking": PUB,
        "warrant_number": INV,
        "exigent_statement": INV,
    },
    AuditAction.SEARCH_PAGE_VIEWED: {
        "read_ids": PUB,
        "page": PUB,
        "rows": PUB,
        "result_count": PUB,
    },
    AuditAction.SEARCH_REFUSED: {
        "reason": INV,
        "criteria": READ,
        "purpose_category": PUB,
        "purpose": INV,
        "case_number": INV,
        "tracking": PUB,
    },
    # retention
    AuditAction.HOLD_PLACED: {**HOLD_SCOPE, "kind": PUB, "investigation_id": PUB},
    AuditAction.HOLD_RELEASED: {**STEP, **HOLD_SCOPE, "kind": PUB, "reason": INV},
    # an exculpatory request's requester is the subject of a criminal investigation
    AuditAction.EXCULPATORY_RECEIVED: {
        **HOLD_SCOPE,
        "case_file_number": INV,
        "received_on": PUB,
        "document_sha256": INV,
        "paper_original": INV,
    },
    AuditAction.EXCULPATORY_ACTIVATED: {**STEP},
    AuditAction.EXCULPATORY_RELEASED: {**STEP, "disposition": INV, "resolved_on": PUB},
    AuditAction.EXCULPATORY_DECLINED: {**STEP, "reason": INV},
    AuditAction.ACP_RECEIVED: {**ACP_REQUEST},
    AuditAction.ACP_VERIFIED: {**STEP},
    AuditAction.ACP_EXISTING_DESTROYED: {**STEP, **ACP_REQUEST},
    AuditAction.ACP_SUPPRESSION_ACTIVATED: {**STEP},
    AuditAction.ACP_ENDED: {**STEP, **ACP_REQUEST},
    AuditAction.ACP_DECLINED: {**STEP, **ACP_REQUEST},
    AuditAction.ACP_DESTROYED_AT_COLLECTION: {"destroyed": ACP, "deferred": ACP, "by_request": ACP},
    AuditAction.ACP_DEFERRED_DESTROYED: {**ACP_REQUEST},
    AuditAction.READS_PURGED: {
        "oldest_captured_at": PUB,
        "phase": PUB,
        "day": PUB,
        "reads": PUB,
        "images": PUB,
        "acp_deferred": ACP,
        "kept_by_holds": PUB,
        "cutoff": PUB,
    },
    AuditAction.PURGE_COMPLETED: {
        "run_id": PUB,
        "cutoff": PUB,
        "batches": PUB,
        "days": PUB,
        "reads_destroyed": PUB,
        "images_destroyed": PUB,
        "files_removed": PUB,
        "leftover_files_removed": PUB,
        "acp_deferred_destroyed": ACP,
        "acp_digests_forgotten": ACP,
    },
    AuditAction.RETENTION_VIEWED: {},
    AuditAction.BACKUP_CREATED: {"backup": PUB},
    AuditAction.BACKUPS_PRUNED: {"backups": PUB, "ledger_entries": PUB, "before": PUB},
    AuditAction.BACKUP_RESTORED: {
        "backup": PUB,
        "taken_at": PUB,
        "reads_destroyed_again": PUB,
        "acp_digests_restored": ACP,
        "purge_run_id": PUB,
        "purged_reads": PUB,
        "orphan_files_removed": PUB,
        "missing_files": PUB,
    },
    # breach incidents: dates and counts; the findings stay on the incident
    AuditAction.BREACH_REPORTED: {**STEP, "discovered_at": PUB},
    AuditAction.BREACH_INVESTIGATION_STARTED: {**STEP},
    AuditAction.BREACH_INDIVIDUALS_NOTIFIED: {
        **STEP,
        "individuals_notified": PUB,
        "notification_method": PUB,
        "notified_on": PUB,
    },
    AuditAction.BREACH_REPORT_COMPLETED: {**STEP, "report_completed_on": PUB},
    # a job's error may quote the statement that failed, values included
    AuditAction.JOB_FAILED: {"error": SEC, "runs_again": PUB},
    AuditAction.PUBLIC_AUDIT_COPY_RELEASED: {
        "start": PUB,
        "end": PUB,
        "format": PUB,
        "entries": PUB,
    },
    # added with the verification outcomes, case dispositions, checkpoints, BCA notices, job
    # recovery, read contexts and the biennial audit: ids, dates and counts are public; what
    # a state or federal query returned, and a case's number while it is active, are not.
    AuditAction.HIT_NOT_VALID: {
        **STEP,
        "category": PUB,
        "reason": READ,
        "verified_via": PUB,
        "verification_reference": READ,
        "verified_at": PUB,
    },
    AuditAction.HIT_VERIFICATION_IMPRACTICABLE: {
        **STEP,
        "category": PUB,
        "impracticable_reason": READ,
    },
    AuditAction.READ_ACCESS_REFUSED: {
        "context": PUB,
        "context_given": PUB,
        "opening": PUB,
        "read_id": PUB,
    },
    AuditAction.INVESTIGATION_DATA_RETAINED: {
        **STEP,
        "case_number": INV,
        "disposition": PUB,
        "schedule_category": PUB,
        "category_label": PUB,
        "period_years": PUB,
        "retain_until": PUB,
    },
    AuditAction.INVESTIGATION_DATA_RELEASED: {
        **STEP,
        "case_number": INV,
        "disposition": PUB,
        "schedule_category": PUB,
        "retain_until": PUB,
    },
    AuditAction.INVESTIGATION_RETENTION_LAPSED: {
        **STEP,
        "case_number": INV,
        "schedule_category": PUB,
        "retain_until": PUB,
    },
    AuditAction.AUDIT_CHECKPOINT_SIGNED: {"seq": PUB, "head_hash": PUB, "public_key": PUB},
    AuditAction.AUDIT_EXPORTED: {"filter": PUB, "entries": PUB, "up_to_seq": PUB},
    AuditAction.JOB_RECOVERED: {"name": PUB, "attempt": PUB, "was": PUB},
    AuditAction.BCA_NOTICE_OPENED: {
        **STEP,
        "event": PUB,
        "event_on": PUB,
        "due_on": PUB,
        "device_id": PUB,
        "deployment_id": PUB,
    },
    AuditAction.BCA_NOTICE_CORRECTED: {"event_on": PUB, "due_on": PUB, "reason": PUB},
    AuditAction.BCA_NOTICE_SENT: {
        **STEP,
        "sent_on": PUB,
        "sent_method": PUB,
        "sent_to": PUB,
        "sent_reference": PUB,
        "on_time": PUB,
        "letter_sha256": PUB,
    },
    AuditAction.BCA_NOTICE_ACKNOWLEDGED: {
        **STEP,
        "acknowledged_on": PUB,
        "acknowledgement_note": PUB,
    },
    AuditAction.BCA_NOTICE_OVERDUE: {"due_on": PUB, "days_overdue": PUB},
    AuditAction.COMPLIANCE_CHECKED: {"counts": PUB},
    AuditAction.REPORT_GENERATED: {
        "period": PUB,
        "format": PUB,
        "content_hash": PUB,
        "violations": PUB,
    },
    # agency data requests and releases (425.7): who asked, when, and what was disseminated
    # (counts, digests) are public; the requesting agency's case and what it says of it (its
    # number, the finding, questions and answers, reasons) are investigative data, the scope
    # names plates.
    AuditAction.AGENCY_PROFILE_RECORDED: {"name": PUB, "before": PUB, "after": PUB},
    AuditAction.AGENCY_USER_INVITED: {
        "email": PUB,
        "agency_id": PUB,
        "invitation_id": PUB,
        "expires_at": PUB,
    },
    AuditAction.AGENCY_INVITATION_ACCEPTED: {"invitation_id": PUB, "agency_id": PUB},
    AuditAction.AGENCY_REQUEST_SUBMITTED: {
        **STEP,
        "agency_id": PUB,
        "case_number": INV,
        "authorised_by": PUB,
        "letter_sha256": PUB,
        "scope": READ,
    },
    AuditAction.AGENCY_REQUEST_REVIEW_STARTED: {**STEP},
    AuditAction.AGENCY_REQUEST_INFORMATION_ASKED: {**STEP, "question": INV},
    AuditAction.AGENCY_REQUEST_INFORMATION_GIVEN: {**STEP, "question": INV, "answer": INV},
    AuditAction.AGENCY_REQUEST_APPROVED: {**STEP, "finding": INV, "active_investigation": INV},
    AuditAction.AGENCY_REQUEST_DENIED: {**STEP, "reason": INV},
    AuditAction.AGENCY_REQUEST_REFERRED: {**STEP, "reason": INV},
    AuditAction.AGENCY_REQUEST_WITHDRAWN: {**STEP, "reason": INV},
    AuditAction.AGENCY_REQUEST_FULFILLED: {**STEP, "package_id": PUB},
    AuditAction.AGENCY_REQUEST_CLOSED: {**STEP},
    AuditAction.AGENCY_REQUEST_REVIEWED: {"read_count": PUB},
    AuditAction.RELEASE_PACKAGE_BUILT: {
        "dissemination": PUB,
        "package_id": PUB,
        "agency_id": PUB,
        "read_count": PUB,
        "image_count": PUB,
        "sha256": PUB,
        "expires_at": PUB,
    },
    AuditAction.RELEASE_PACKAGE_DOWNLOADED: {
        "dissemination": PUB,
        "package_id": PUB,
        "agency_id": PUB,
        "read_count": PUB,
        "sha256": PUB,
    },
    AuditAction.RELEASE_DOWNLOAD_REFUSED: {"package_id": PUB, "reason": PUB},
    AuditAction.RELEASE_PACKAGE_EXPIRED: {"package_id": PUB, "expired_at": PUB},
    # exports: a dissemination of read data to an investigation (its purpose is the case's),
    # and the export of a list without read data
    AuditAction.READS_EXPORTED: {
        "count": PUB,
        "purpose": INV,
        "format": PUB,
        "left_out": PUB,
        "hold_ids": PUB,
        "kind": PUB,
        "search_id": PUB,
        "show": PUB,
    },
    AuditAction.LIST_EXPORTED: {"list": PUB, "count": PUB},
}

#: Actions whose very time of day would tell when a participant's vehicle passed a camera:
#: the public copy gives their date only.
DATE_ONLY_ACTIONS = frozenset({AuditAction.ACP_DESTROYED_AT_COLLECTION.value})


def classify(action: str, key: str) -> Field | None:
    """The key's classification under `action`, or None: not classified, so withheld."""
    try:
        table = CLASSIFICATION[AuditAction(action)]
    except (ValueError, KeyError):
        return None
    return table.get(key)
