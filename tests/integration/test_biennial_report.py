"""The biennial audit (§ 13.824 subd. 6): seven counters that flag each planted violation and
clear once it is fixed, a report that is the same for the same period, a PDF, the pages."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from app.audit.actions import AuditAction
from app.audit.services import record
from app.auth.models import Role
from app.core.timeutil import local_today
from app.db import utcnow
from app.reports.biennial import biennial_report
from app.reports.compliance import COUNTER_KEYS, compliance_counters
from app.reports.render import report_pdf
from app.requests.models import ReleasePackage
from tests.factories import (
    AcpSuppressionFactory,
    AgencyRequestFactory,
    BcaNoticeFactory,
    HoldFactory,
    ReadFactory,
    SearchFactory,
    TrainingRecordFactory,
    UserFactory,
)
from tests.helpers import details, entries, pdf_text

YESTERDAY = lambda: local_today() - timedelta(days=1)  # noqa: E731


def counts(app, session) -> dict[str, int]:
    session.expire_all()
    return {
        c.key: c.count
        for c in compliance_counters(
            session, utcnow(), retention_days=app.config["RETENTION_DAYS"], today=local_today()
        )
    }


def test_on_clean_data_every_counter_is_zero(app, session):
    ReadFactory()
    user = UserFactory(roles=[Role.OPERATOR], trained=True)
    SearchFactory(user=user, purpose_category="warrant")
    record(session, user, AuditAction.READ_VIEWED, ("reads", 1), {})
    session.commit()
    assert counts(app, session) == dict.fromkeys(COUNTER_KEYS, 0)


def test_a_read_kept_past_sixty_days_without_a_hold_is_flagged_until_held(app, session):
    old = ReadFactory(captured_at=utcnow() - timedelta(days=61))
    session.commit()
    assert counts(app, session)["reads_kept_past_retention"] == 1
    HoldFactory(window_start=old.captured_at - timedelta(hours=1))
    session.commit()
    assert counts(app, session)["reads_kept_past_retention"] == 0


def test_a_read_of_an_acp_plate_is_flagged_until_gone(app, session):
    read = ReadFactory(plate="HIDE42")
    AcpSuppressionFactory(suppressed=["HIDE42"])
    session.commit()
    assert counts(app, session)["acp_plates_stored"] == 1
    session.delete(read)
    session.commit()
    assert counts(app, session)["acp_plates_stored"] == 0


def test_a_search_record_holding_an_acp_plate_in_clear_is_flagged(app, session):
    AcpSuppressionFactory(suppressed=["HIDE42"])
    search = SearchFactory(followed_plate="HIDE42")
    session.commit()
    assert counts(app, session)["acp_plates_stored"] == 1
    search.followed_plate = None
    search.criteria_json = json.dumps({"plate": None})
    session.commit()
    assert counts(app, session)["acp_plates_stored"] == 0


def test_a_search_without_an_official_use_is_flagged_until_given_one(app, session):
    search = SearchFactory(purpose_category=None)
    session.commit()
    assert counts(app, session)["searches_without_purpose_or_case"] == 1
    search.purpose_category = "warrant"
    session.commit()
    assert counts(app, session)["searches_without_purpose_or_case"] == 0


def test_access_by_a_user_whose_training_had_lapsed_is_flagged(app, session):
    user = UserFactory(roles=[Role.OPERATOR], trained=False)
    TrainingRecordFactory(
        user=user,
        completed_on=local_today() - timedelta(days=400),
        expires_on=YESTERDAY(),
    )
    entry = record(session, user, AuditAction.SEARCH_PERFORMED, ("searches", 1), {})
    record(session, user, AuditAction.USER_PASSWORD_CHANGED, user, {})  # not a data access
    session.commit()
    (counter,) = [
        c
        for c in compliance_counters(session, utcnow(), retention_days=60, today=local_today())
        if c.key == "access_without_current_training"
    ]
    assert counter.count == 1 and counter.references[0].id == str(entry.seq)
    TrainingRecordFactory(user=user, completed_on=local_today(), expires_on=local_today())
    session.commit()
    assert counts(app, session)["access_without_current_training"] == 0


def test_a_release_built_for_a_request_nobody_approved_is_flagged_until_approved(app, session):
    request = AgencyRequestFactory()  # submitted: nobody has decided it
    session.add(
        ReleasePackage(
            request=request,
            built_at=utcnow(),
            file_name="release.zip",
            byte_size=1024,
            sha256="a" * 64,
            read_count=3,
            image_count=0,
            expires_at=utcnow() + timedelta(days=7),
        )
    )
    session.commit()
    assert counts(app, session)["releases_without_approval"] == 1
    chief = UserFactory(roles=[Role.DEPUTY_CHIEF], trained=True)
    request.decided_by_id = chief.id
    request.decided_at = utcnow() - timedelta(hours=1)
    request.finding = "The plate was seen leaving the burglary; the vehicle is pertinent."
    request.active_investigation = "RPD-25-00077"
    request.status = "approved"
    session.commit()
    assert counts(app, session)["releases_without_approval"] == 0
    (release,) = _report(app, session)["releases"]
    assert release["request"] == request.id and release["finding"].startswith("The plate")


def test_an_overdue_bca_notice_is_flagged_until_sent(app, session):
    notice = BcaNoticeFactory(
        event_on=local_today() - timedelta(days=20), due_on=local_today() - timedelta(days=10)
    )
    session.commit()
    assert counts(app, session)["bca_notices_overdue"] == 1
    notice.status = "sent"
    notice.sent_on = local_today()
    notice.sent_method = "email"
    notice.sent_to = "BCA"
    session.commit()
    assert counts(app, session)["bca_notices_overdue"] == 0


def test_a_column_written_straight_into_the_database_is_flagged_until_removed(app, session):
    session.execute(text("ALTER TABLE reads ADD COLUMN vehicle_make VARCHAR(40)"))
    session.commit()
    try:
        found = next(
            c
            for c in compliance_counters(session, utcnow(), retention_days=60, today=local_today())
            if c.key == "fields_outside_statute"
        )
        assert found.count == 1 and found.references[0].label == "reads.vehicle_make"
    finally:
        session.rollback()
        session.execute(text("ALTER TABLE reads DROP COLUMN vehicle_make"))
        session.commit()
    assert counts(app, session)["fields_outside_statute"] == 0


def _report(app, session, days: int = 30) -> dict:
    return biennial_report(
        session,
        local_today() - timedelta(days=days),
        local_today(),
        department="Winona Police Department",
        retention_days=app.config["RETENTION_DAYS"],
        now=utcnow(),
    )


def test_the_report_has_every_section_and_the_seven_violations(app, session):
    SearchFactory(is_tracking=True, warrant_number="SW-2026-0042")
    session.commit()
    report = _report(app, session)
    assert list(report["violations"]) == list(COUNTER_KEYS)
    assert all({"count", "entries"} <= set(v) for v in report["violations"].values())
    assert report["searches"]["tracking"][0]["warrant_number"] == "SW-2026-0042"
    assert report["chain"]["chain_intact"] is True


def test_the_same_period_gives_the_same_report(app, session):
    ReadFactory()
    SearchFactory()
    session.commit()
    first = _report(app, session)
    second = _report(app, session)
    assert first == second
    assert len(first["content_hash"]) == 64


def test_the_report_names_no_plate(app, session):
    ReadFactory(plate="QZX987")
    SearchFactory(followed_plate="QZX987")
    session.commit()
    assert "QZX987" not in json.dumps(_report(app, session))


def test_the_pdf_prints_title_contents_page_numbers_and_hash(app, session):
    report = _report(app, session)
    text_ = pdf_text(report_pdf(report, generated_at="2026-12-05 09:00 CST", generated_by="test"))
    assert "Biennial audit of automated license plate" in text_
    assert "Winona Police Department" in text_
    assert "Contents" in text_ and "Violations" in text_
    assert "Page 2 of" in text_
    assert report["content_hash"] in text_.replace("\n", "")


def _login(login_as, role):
    return login_as(role, trained=True)


@pytest.mark.parametrize("role", [Role.DEPUTY_CHIEF, Role.DESIGNEE, Role.AUDITOR])
def test_the_compliance_page_shows_the_counters_and_records_the_check(
    client, session, login_as, role
):
    SearchFactory(purpose_category=None)
    session.commit()
    _login(login_as, role)
    page = client.get("/reports/compliance")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'data-testid="count-searches_without_purpose_or_case">1<' in body
    assert "subject_type=searches" in body
    (check,) = entries(session, AuditAction.COMPLIANCE_CHECKED)
    assert details(check)["counts"]["searches_without_purpose_or_case"] == 1


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ADMIN, Role.RECORDS])
def test_others_do_not_reach_the_reports(client, login_as, role):
    _login(login_as, role)
    assert client.get("/reports/compliance").status_code == 403
    assert client.get("/reports/biennial").status_code == 403


def test_the_report_page_in_each_format_is_audited(client, session, login_as):
    _login(login_as, Role.AUDITOR)
    start, end = (local_today() - timedelta(days=7)).isoformat(), local_today().isoformat()
    page = client.get(f"/reports/biennial?start={start}&end={end}&format=html")
    assert page.status_code == 200 and 'data-testid="content-hash"' in page.get_data(as_text=True)
    as_json = client.get(f"/reports/biennial?start={start}&end={end}&format=json")
    assert as_json.status_code == 200 and json.loads(as_json.data)["period"]["end"] == end
    as_pdf = client.get(f"/reports/biennial?start={start}&end={end}&format=pdf")
    assert as_pdf.status_code == 200 and as_pdf.data.startswith(b"%PDF")
    formats = [details(e)["format"] for e in entries(session, AuditAction.REPORT_GENERATED)]
    assert formats == ["html", "json", "pdf"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-03-11&end=2026-03-10", "The end date is before the start date."),
        ("start=99999-01-01&end=2026-03-10", "Not a valid date value."),
        ("start=1900-01-01&end=2026-03-10", "Enter a year from 2000"),
        ("start=2026-03-01&end=2026-03-10&format=exe", "Not a valid choice."),
        ("end=2026-03-10", "This field is required."),
    ],
)
def test_a_bad_period_is_refused_at_its_field_and_nothing_is_recorded(
    client, session, login_as, query, message
):
    _login(login_as, Role.AUDITOR)
    response = client.get(f"/reports/biennial?{query}")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert entries(session, AuditAction.REPORT_GENERATED) == []


def test_the_cli_writes_each_format_and_refuses_a_backwards_period(app, session, tmp_path):
    runner = app.test_cli_runner()
    start, end = (local_today() - timedelta(days=7)).isoformat(), local_today().isoformat()
    as_json = runner.invoke(args=["reports", "biennial", "--start", start, "--end", end])
    assert as_json.exit_code == 0, as_json.output
    assert set(json.loads(as_json.output)["violations"]) == set(COUNTER_KEYS)
    out = tmp_path / "report.pdf"
    as_pdf = runner.invoke(
        args=[
            "reports",
            "biennial",
            "--start",
            start,
            "--end",
            end,
            "--format",
            "pdf",
            "--output",
            str(out),
        ]
    )
    assert as_pdf.exit_code == 0, as_pdf.output
    assert out.read_bytes().startswith(b"%PDF")
    backwards = runner.invoke(args=["reports", "biennial", "--start", end, "--end", start])
    assert backwards.exit_code != 0 and "before the start date" in backwards.output
    no_file = runner.invoke(
        args=["reports", "biennial", "--start", start, "--end", end, "--format", "pdf"]
    )
    assert no_file.exit_code != 0 and "--output" in no_file.output


def test_the_deputy_chief_home_shows_counters_above_zero_from_the_last_check(
    client, session, login_as
):
    from app.reports.services import check_compliance

    SearchFactory(purpose_category=None)
    check_compliance(session, "test", utcnow(), retention_days=60, today=local_today())
    session.commit()
    _login(login_as, Role.DEPUTY_CHIEF)
    body = client.get("/").get_data(as_text=True)
    assert 'data-testid="compliance-counters"' in body
    assert "searches without purpose or case: <strong>1</strong>" in body


def test_the_hourly_job_records_a_check(app, session):
    from workers import tasks

    with app.app_context():
        outcome = tasks.check_compliance_counters()
    assert set(outcome) == set(COUNTER_KEYS)
    (check,) = entries(session, AuditAction.COMPLIANCE_CHECKED)
    assert check.actor_label == "system:compliance-job"
    assert details(check)["counts"] == outcome


def test_a_received_requests_reads_kept_out_of_use_are_not_a_violation_until_destruction_is_due(
    app, session
):
    ReadFactory(plate="HIDE42")
    request = AcpSuppressionFactory(suppressed=["HIDE42"], status="received")
    session.commit()
    assert counts(app, session)["acp_plates_stored"] == 0
    request.status = "suppression_active"
    session.commit()
    assert counts(app, session)["acp_plates_stored"] == 1
