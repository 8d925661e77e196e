"""The auditor's trail browser: filters from lists, local days, links, readable details, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.audit.services import record, redact_many
from app.auth.models import Role
from tests.factories import HitFactory, UserFactory
from tests.helpers import details, entries


def _at(session, entry: AuditEntry, moment: datetime) -> None:
    """Move an entry's time (the chain is not verified here: only the browser's filter is)."""
    session.execute(update(AuditEntry).where(AuditEntry.id == entry.id).values(occurred_at=moment))
    session.commit()


def _seqs(body: str, seqs: list[int]) -> set[int]:
    return {seq for seq in seqs if f'data-label="#">{seq}</td>' in body}


def test_filter_by_person_action_and_subject(client, session, login_as):
    someone = UserFactory(roles=[Role.OPERATOR])
    mine = record(session, someone, AuditAction.USER_CREATED, ("users", someone.id), {"n": 1})
    other = record(session, "system", AuditAction.USER_CREATED, ("users", 999), {"n": 2})
    session.commit()
    login_as(Role.AUDITOR)
    body = client.get(f"/audit/?person={someone.id}").get_data(as_text=True)
    assert _seqs(body, [mine.seq, other.seq]) == {mine.seq}
    body = client.get("/audit/?action=user.created&subject_type=users&subject_id=999").get_data(
        as_text=True
    )
    assert _seqs(body, [mine.seq, other.seq]) == {other.seq}
    (last_view,) = entries(session, AuditAction.AUDIT_VIEWED)[-1:]
    assert details(last_view)["filter"] == {
        "action": "user.created",
        "subject_type": "users",
        "subject_id": "999",
    }


def test_dates_are_the_departments_calendar_days(client, session, login_as):
    # 2026-03-10 23:30 in Chicago (CDT, UTC-5) is 2026-03-11 04:30 UTC.
    late = record(session, "test", AuditAction.USER_CREATED, None, {})
    early = record(session, "test", AuditAction.USER_CREATED, None, {})
    session.commit()
    _at(session, late, datetime(2026, 3, 11, 4, 30, tzinfo=UTC))
    _at(session, early, datetime(2026, 3, 11, 5, 30, tzinfo=UTC))
    login_as(Role.AUDITOR)
    body = client.get("/audit/?start=2026-03-10&end=2026-03-10").get_data(as_text=True)
    assert _seqs(body, [late.seq, early.seq]) == {late.seq}
    body = client.get("/audit/?start=2026-03-11&end=2026-03-11").get_data(as_text=True)
    assert _seqs(body, [late.seq, early.seq]) == {early.seq}
    assert "2026-03-10 23:30:00 CDT" in client.get(
        "/audit/?start=2026-03-10&end=2026-03-10"
    ).get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-03-11&end=2026-03-10", "The end date is before the start date."),
        ("start=99999-01-01", "Not a valid date value."),
        ("start=1900-01-01", "Enter a year from 2000"),
        ("person=9223372036854775808", "Not a valid choice."),
        ("person=abc", "Not a valid choice."),
        ("action=made.up", "Not a valid choice."),
        ("subject_type=no_such_table", "Not a valid choice."),
        ("subject_id=1%00", "Remove the control characters"),
        ("subject_id=ABC123", "A subject id is a number"),
        ("subject_id=" + "1" * 65, "Field cannot be longer than 64 characters."),
    ],
)
def test_a_bad_filter_is_refused_at_its_field_and_shows_nothing(
    client, session, login_as, query, message
):
    seeded = record(session, "test", AuditAction.USER_CREATED, None, {"secret": "ZZZ999"})
    session.commit()
    login_as(Role.AUDITOR)
    response = client.get(f"/audit/?{query}")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body
    assert "ZZZ999" not in body and f'data-label="#">{seeded.seq}</td>' not in body
    assert entries(session, AuditAction.AUDIT_VIEWED) == []


def test_a_page_past_the_last_is_not_found(client, login_as):
    login_as(Role.AUDITOR)
    assert client.get("/audit/?page=999").status_code == 404
    assert client.get("/audit/?page=99999999999999999999").status_code in (200, 404)


def test_details_are_readable_and_subjects_link_to_their_pages(client, session, login_as):
    hit = HitFactory()
    record(session, "test", AuditAction.HIT_CLOSED, hit, {"outcome": "done", "count": 3})
    session.commit()
    login_as(Role.AUDITOR)
    body = client.get("/audit/?action=hit.closed").get_data(as_text=True)
    assert f'href="/alpr/hits/{hit.id}"' in body
    assert "<dt>outcome</dt><dd>done</dd>" in body and "<dt>count</dt><dd>3</dd>" in body


def test_reads_are_not_linked_from_the_trail(client, session, login_as):
    record(session, "test", AuditAction.READ_VIEWED, ("reads", 5), {})
    session.commit()
    login_as(Role.AUDITOR)
    body = client.get("/audit/?action=read.viewed").get_data(as_text=True)
    assert "/alpr/reads/5" not in body and "reads 5" in body


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_export_holds_the_filtered_entries_and_is_recorded_first(client, session, login_as):
    kept = record(session, "test", AuditAction.USER_CREATED, None, {"note": "=HYPERLINK(1)"})
    record(session, "test", AuditAction.LOGOUT, None, {})
    redacted = record(session, "test", AuditAction.USER_CREATED, None, {"plate": "ABC123"})
    session.commit()
    redact_many(session, "test", [redacted.id], "retention")
    session.commit()
    login_as(Role.AUDITOR)
    response = client.get("/audit/export.csv?action=user.created")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    assert [int(r["seq"]) for r in rows][-2:] == [kept.seq, redacted.seq]
    assert {r["action"] for r in rows} == {"user.created"}
    assert rows[-2]["details"].startswith("'") or "=HYPERLINK" not in rows[-2]["details"][:1]
    assert rows[-1]["details"].startswith("[redacted") and "ABC123" not in rows[-1]["details"]
    (exported,) = entries(session, AuditAction.AUDIT_EXPORTED)
    got = details(exported)
    assert got["filter"] == {"action": "user.created"}
    assert got["entries"] == len(rows) and got["up_to_seq"] == redacted.seq
    assert exported.seq > redacted.seq


def test_export_quotes_cells_a_spreadsheet_would_run(client, session, login_as):
    record(session, "=cmd|' /C calc'!A0", AuditAction.LOGOUT, None, {})
    session.commit()
    login_as(Role.AUDITOR)
    rows = _csv(client.get("/audit/export.csv?action=auth.logout"))
    assert rows[-1]["actor"] == "'=cmd|' /C calc'!A0"


def test_a_bad_export_filter_exports_nothing(client, session, login_as):
    login_as(Role.AUDITOR)
    response = client.get("/audit/export.csv?start=2026-03-11&end=2026-03-10")
    assert response.status_code == 302
    assert entries(session, AuditAction.AUDIT_EXPORTED) == []


def test_an_export_streams_in_chunks(client, session, login_as, monkeypatch):
    from app.audit import trail

    monkeypatch.setattr(trail, "EXPORT_CHUNK", 2)
    made = [record(session, "test", AuditAction.LOGOUT, None, {"n": n}) for n in range(5)]
    session.commit()
    login_as(Role.AUDITOR)
    rows = _csv(client.get("/audit/export.csv?action=auth.logout"))
    assert [int(r["seq"]) for r in rows] == [e.seq for e in made]


def test_only_auditors_and_the_chiefs_reach_the_export(client, login_as):
    login_as(Role.OPERATOR)
    assert client.get("/audit/export.csv").status_code == 403


def test_the_latest_week_is_one_click(client, session, login_as):
    login_as(Role.AUDITOR)
    today = datetime.now(UTC).date()
    start = (today - timedelta(days=7)).isoformat()
    assert client.get(f"/audit/?start={start}").status_code == 200
