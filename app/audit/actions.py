"""Every action the audit trail can record (policy 425.6(e)): one name per legal action."""

from enum import StrEnum


class AuditAction(StrEnum):
    """Stored as the value; never rename a value once entries carry it."""

    # accounts (425.6(a))
    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGIN_LOCKED = "auth.login_locked"
    LOGOUT = "auth.logout"
    ACCESS_DENIED = "auth.access_denied"
    USER_CREATED = "user.created"
    USER_ROLES_CHANGED = "user.roles_changed"
    USER_DEACTIVATED = "user.deactivated"
    USER_REACTIVATED = "user.reactivated"
    USER_PASSWORD_SET = "user.password_set"  # noqa: S105 (an action name)
    USER_PASSWORD_CHANGED = "user.password_changed"  # noqa: S105 (an action name)
    TRAINING_RECORDED = "training.recorded"
    AGENCY_CREATED = "agency.created"
    AGENCY_TOKEN_ISSUED = "agency.token_issued"  # noqa: S105 (an action name)
    AGENCY_TOKEN_ROTATED = "agency.token_rotated"  # noqa: S105 (an action name)
    AGENCY_TOKEN_REVOKED = "agency.token_revoked"  # noqa: S105 (an action name)

    # the audit trail itself
    AUDIT_VERIFIED = "audit.verified"
    AUDIT_DETAILS_REDACTED = "audit.details_redacted"
    AUDIT_VIEWED = "audit.viewed"
    AUDIT_CHECKPOINT_SIGNED = "audit.checkpoint_signed"
    AUDIT_EXPORTED = "audit.exported"

    # devices and deployments (425.4.1(d))
    DEVICE_CREATED = "device.created"
    DEVICE_UPDATED = "device.updated"
    DEVICE_TOKEN_ROTATED = "device.token_rotated"  # noqa: S105 (an action name)
    DEVICE_REVOKED = "device.revoked"
    DEVICE_FIRST_USE = "device.first_use"
    DEPLOYMENT_CREATED = "deployment.created"
    DEPLOYMENT_UPDATED = "deployment.updated"
    DEPLOYMENT_ENDED = "deployment.ended"

    # reads, images, OCR (425.4.1(a))
    READS_INGESTED = "reads.ingested"
    ACTIVE_USE_PERIODS_JOINED = "active_use.periods_joined"
    READS_IMPORTED = "reads.imported"
    READ_IMAGE_STORED = "read.image_stored"
    READ_IMAGE_VIEWED = "read.image_viewed"
    READ_VIEWED = "read.viewed"
    READ_ACCESS_REFUSED = "read.access_refused"  # no context documenting why (425.6(b))
    READ_OCR_COMPLETED = "read.ocr_completed"
    READ_PLATE_CONFIRMED = "read.plate_confirmed"
    READ_PLATE_CORRECTED = "read.plate_corrected"
    REVIEW_QUEUE_VIEWED = "reads.review_queue_viewed"
    PENDING_OCR_VIEWED = "reads.pending_ocr_viewed"

    # hotlists and hits (425.4.1(b), 425.4(f))
    HOTLIST_LOADED = "hotlist.loaded"
    HIT_CREATED = "hit.created"
    HIT_CONFIRMED = "hit.confirmed"
    HIT_NOT_CONFIRMED = "hit.not_confirmed"  # before verification outcomes: read, never written
    HIT_NOT_VALID = "hit.not_valid"
    HIT_VERIFICATION_IMPRACTICABLE = "hit.verification_impracticable"
    HIT_ENFORCEMENT_RECORDED = "hit.enforcement_recorded"
    HIT_CLOSED = "hit.closed"
    HITS_VIEWED = "hits.viewed"

    # investigations and search (425.6(b), 425.4.1(c))
    INVESTIGATION_OPENED = "investigation.opened"
    INVESTIGATION_CLOSED = "investigation.closed"
    INVESTIGATION_REOPENED = "investigation.reopened"
    INVESTIGATION_DATA_RELEASED = "investigation.data_released"
    INVESTIGATION_DATA_RETAINED = "investigation.data_retained"
    INVESTIGATION_RETENTION_LAPSED = "investigation.retention_lapsed"
    SEARCH_PERFORMED = "search.performed"
    SEARCH_PAGE_VIEWED = "search.page_viewed"
    SEARCH_REFUSED = "search.refused"

    # retention (425.5)
    HOLD_PLACED = "hold.placed"
    HOLD_RELEASED = "hold.released"
    EXCULPATORY_RECEIVED = "exculpatory.received"
    EXCULPATORY_ACTIVATED = "exculpatory.activated"
    EXCULPATORY_RELEASED = "exculpatory.released"
    EXCULPATORY_DECLINED = "exculpatory.declined"
    ACP_RECEIVED = "acp.received"
    ACP_VERIFIED = "acp.verified"
    ACP_EXISTING_DESTROYED = "acp.existing_destroyed"
    ACP_SUPPRESSION_ACTIVATED = "acp.suppression_activated"
    ACP_ENDED = "acp.ended"
    ACP_DECLINED = "acp.declined"
    ACP_DESTROYED_AT_COLLECTION = "acp.destroyed_at_collection"
    ACP_DEFERRED_DESTROYED = "acp.deferred_destroyed"
    READS_PURGED = "retention.reads_purged"
    PURGE_COMPLETED = "retention.purge_completed"
    RETENTION_VIEWED = "retention.viewed"
    BACKUP_CREATED = "backup.created"
    BACKUPS_PRUNED = "backup.pruned"
    BACKUP_RESTORED = "backup.restored"

    # breach incidents (425.6(d), Minn. Stat. § 13.055)
    BREACH_REPORTED = "breach.reported"
    BREACH_INVESTIGATION_STARTED = "breach.investigation_started"
    BREACH_INDIVIDUALS_NOTIFIED = "breach.individuals_notified"
    BREACH_REPORT_COMPLETED = "breach.report_completed"

    # agency data requests and releases (425.7)
    AGENCY_PROFILE_RECORDED = "agency.profile_recorded"
    AGENCY_USER_INVITED = "agency.user_invited"
    AGENCY_INVITATION_ACCEPTED = "agency.invitation_accepted"
    AGENCY_REQUEST_SUBMITTED = "agency_request.submitted"
    AGENCY_REQUEST_REVIEW_STARTED = "agency_request.review_started"
    AGENCY_REQUEST_INFORMATION_ASKED = "agency_request.information_asked"
    AGENCY_REQUEST_INFORMATION_GIVEN = "agency_request.information_given"
    AGENCY_REQUEST_APPROVED = "agency_request.approved"
    AGENCY_REQUEST_DENIED = "agency_request.denied"
    AGENCY_REQUEST_REFERRED = "agency_request.referred_to_records"
    AGENCY_REQUEST_WITHDRAWN = "agency_request.withdrawn"
    AGENCY_REQUEST_FULFILLED = "agency_request.fulfilled"
    AGENCY_REQUEST_CLOSED = "agency_request.closed"
    AGENCY_REQUEST_REVIEWED = "agency_request.reviewed"
    RELEASE_PACKAGE_BUILT = "release.package_built"
    RELEASE_PACKAGE_DOWNLOADED = "release.package_downloaded"
    RELEASE_DOWNLOAD_REFUSED = "release.download_refused"
    RELEASE_PACKAGE_EXPIRED = "release.package_expired"

    # jobs
    JOB_FAILED = "job.failed"
    JOB_RECOVERED = "job.recovered"

    # BCA notices (425.4.1(d))
    BCA_NOTICE_OPENED = "bca.notice_opened"
    BCA_NOTICE_CORRECTED = "bca.notice_corrected"
    BCA_NOTICE_SENT = "bca.notice_sent"
    BCA_NOTICE_ACKNOWLEDGED = "bca.notice_acknowledged"
    BCA_NOTICE_OVERDUE = "bca.notice_overdue"

    # the biennial audit (425.6(c), § 13.824 subd. 6)
    COMPLIANCE_CHECKED = "compliance.checked"
    REPORT_GENERATED = "report.generated"

    # transparency (Minn. Stat. § 13.824 subd. 7): public data released
    PUBLIC_AUDIT_COPY_RELEASED = "audit.public_copy_released"

    # exports (issue 15): read data only for an active investigation, held with it; lists too
    READS_EXPORTED = "reads.exported"
    LIST_EXPORTED = "list.exported"


#: Details that carry confidential department, state or federal data (425.4(e)): a hotlist
#: entry's record number (NCIC, MNJIS). The trail keeps them (425.6(e)); pages show them only
#: to accounts authorised for confidential data.
CONFIDENTIAL_DETAILS: dict[str, frozenset[str]] = {
    AuditAction.HIT_CREATED.value: frozenset({"reference"}),
}
