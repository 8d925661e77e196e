"""The auditor's pages: current training required (425.4(d)), and every view is an entry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.audit.services import record, verify
from app.auth.models import Role
from app.core.timeutil import local_today
from tests.factories import TrainingRecordFactory, UserFactory
from tests.helpers import details, entries, form_csrf, login

PLATE = "ABC123"


def seed_alpr_entry(session) -> AuditEntry:
    """An entry whose details hold a plate, as OCR and search entries do."""
    entry = record(
        session, "system:ocr", AuditAction.READ_OCR_COMPLETED, ("reads", 1), {"plate": PLATE}
    )
    session.commit()
    return entry


def test_every_audit_view_demands_current_training(app):
    from app.auth.access import rule_for_endpoint

    audit_endpoints = [r.endpoint for r in app.url_map.iter_rules() if r.rule.startswith("/audit")]
    assert {"audit.entries", "audit.verify_now"} <= set(audit_endpoints)
    for endpoint in audit_endpoints:
        assert rule_for_endpoint(app, endpoint).training, endpoint


@pytest.mark.parametrize("training", ["none", "expired"])
def test_auditor_without_current_training_is_refused_and_it_is_audited(client, session, training):
    seed_alpr_entry(session)
    user = UserFactory(roles=[Role.AUDITOR])
    if training == "expired":
        TrainingRecordFactory(
            user=user,
            completed_on=local_today() - timedelta(days=400),
            expires_on=local_today() - timedelta(days=1),
        )
    assert login(client, user.email).status_code == 302
    response = client.get("/audit/")
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "training" in body and PLATE not in body
    response = client.post("/audit/verify", data={"csrf_token": form_csrf(client, "/")})
    assert response.status_code == 403
    denied = entries(session, AuditAction.ACCESS_DENIED)
    assert [e.subject_id for e in denied] == ["audit.entries", "audit.verify_now"]
    assert entries(session, AuditAction.AUDIT_VIEWED) == []
    assert entries(session, AuditAction.AUDIT_VERIFIED) == []


def test_trained_auditor_sees_the_trail_and_the_view_is_recorded(client, session, login_as):
    seed_alpr_entry(session)
    user = login_as(Role.AUDITOR, trained=True)
    response = client.get("/audit/")
    assert response.status_code == 200
    assert PLATE in response.get_data(as_text=True)
    (viewed,) = entries(session, AuditAction.AUDIT_VIEWED)
    assert viewed.actor_user_id == user.id
    assert (viewed.subject_type, viewed.subject_id) == ("page", "audit.entries")
    got = details(viewed)
    assert got["page"] == 1 and got["filter"] == {}
    assert got["result_count"] == got["total"] >= 2  # the seeded entry and the login
    assert PLATE not in viewed.detail.details_json
    assert verify(session).ok


def test_each_page_view_is_one_entry_naming_the_filter_and_what_it_showed(
    client, session, login_as
):
    seed = seed_alpr_entry(session)
    login_as(Role.AUDITOR, trained=True)
    client.get("/audit/?action=read.ocr_completed")
    refused = client.get(f"/audit/?action={PLATE}")  # not on the list: shown nothing
    assert refused.status_code == 422
    assert "Not a valid choice" in refused.get_data(as_text=True)
    (first,) = entries(session, AuditAction.AUDIT_VIEWED)
    assert details(first) == {
        "page": 1,
        "filter": {"action": "read.ocr_completed"},
        "result_count": 1,
        "total": 1,
        "seqs": [seed.seq, seed.seq],
    }
    assert PLATE not in refused.get_data(as_text=True)


def test_verification_from_the_page_is_recorded_with_the_view_after_it(client, session, login_as):
    login_as(Role.AUDITOR, trained=True)
    token = form_csrf(client, "/audit/")
    response = client.post("/audit/verify", data={"csrf_token": token}, follow_redirects=True)
    assert "audit chain intact" in response.get_data(as_text=True)
    session.rollback()
    actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
    assert actions[-3:] == [
        AuditAction.AUDIT_VIEWED.value,
        AuditAction.AUDIT_VERIFIED.value,
        AuditAction.AUDIT_VIEWED.value,
    ]
