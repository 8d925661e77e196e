"""Long work shows progress (issue 15 item 9): the job row's done/total, and the pages polling."""

from __future__ import annotations

import pytest

from app.auth.models import Role
from app.jobs.models import JobRun, JobStatus
from app.jobs.services import create_run, latest_run, mark_done, report_progress
from app.retention.acp.lifecycle import verify_acp_request
from app.retention.models import AcpStatus
from tests.factories import AcpRequestFactory, ReadFactory
from tests.helpers import CONFIRMED, enter_acp_request, form_csrf


def test_progress_counts_done_of_total_and_stops_short_of_100_until_done(session):
    run = create_run(session, "build_release", request_id=1)
    report_progress(run, 250, 1000)
    assert (run.done, run.total, run.progress) == (250, 1000, 25)
    report_progress(run, 1000, 1000)
    assert run.progress == 99, "100 % only once the result is committed"
    mark_done(session, run, {"ok": True})
    assert (run.done, run.total, run.progress, run.result) == (1000, 1000, 100, {"ok": True})
    report_progress(run, 0, 0)
    assert run.progress == 0


def test_latest_run_finds_the_newest_run_asked_with_those_arguments(session):
    create_run(session, "destroy_acp_existing_data", acp_request_id=7)
    newest = create_run(session, "destroy_acp_existing_data", acp_request_id=7)
    create_run(session, "destroy_acp_existing_data", acp_request_id=17)
    create_run(session, "other_job", acp_request_id=7)
    assert latest_run(session, "destroy_acp_existing_data", acp_request_id=7) is newest
    assert latest_run(session, "destroy_acp_existing_data", acp_request_id=8) is None


def test_the_destruction_started_from_the_page_shows_its_result(client, session, login_as):
    ReadFactory(plate="ACP123")
    ReadFactory(plate="ACP123")
    ReadFactory(plate="OTHER1")
    request = enter_acp_request(session, "ACP123")
    clerk = login_as(Role.RECORDS)
    verify_acp_request(session, clerk, request)
    session.commit()
    page = f"/retention/acp/{request.id}"
    before = client.get(page).get_data(as_text=True)
    assert 'data-testid="acp-destruction"' not in before
    assert "Destroy existing data</button>" in before
    fields = {"csrf_token": form_csrf(client, page), **CONFIRMED}
    assert client.post(f"{page}/destroy-existing", data=fields).status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert 'data-testid="acp-destruction-progress-text">done: 2 of 2 reads<' in html
    assert "2 reads and 0 pictures destroyed, 0 deferred" in html
    assert "hx-trigger" not in html.split('data-testid="acp-destruction"')[1].split(">")[0]
    session.expire_all()
    assert session.get(type(request), request.id).status == AcpStatus.EXISTING_DESTROYED.value


def test_the_destruction_poll_shows_the_bar_then_reloads_the_page_when_done(
    client, session, login_as
):
    request = AcpRequestFactory(status=AcpStatus.VERIFIED.value)
    run = create_run(session, "destroy_acp_existing_data", acp_request_id=request.id)
    run.status = JobStatus.RUNNING.value
    report_progress(run, 3, 10)
    session.commit()
    login_as(Role.RECORDS)
    poll = f"/retention/acp/{request.id}/destruction"
    running = client.get(poll, headers={"HX-Request": "true"})
    body = running.get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in body and "3 of 10 reads (30%)" in body
    assert 'value="3"' in body and 'max="10"' in body
    assert "HX-Refresh" not in running.headers
    mark_done(session, session.get(JobRun, run.id), {"destroyed": 10, "images": 0, "deferred": 0})
    session.commit()
    done = client.get(poll, headers={"HX-Request": "true"})
    assert done.headers.get("HX-Refresh") == "true"
    assert "done: 10 of 10 reads" in done.get_data(as_text=True)


@pytest.mark.parametrize("request_id", [0, 2**63, 2**31])
def test_the_destruction_poll_of_an_unknown_request_or_run_is_404(
    client, session, login_as, request_id
):
    AcpRequestFactory()
    login_as(Role.RECORDS)
    assert client.get(f"/retention/acp/{request_id}/destruction").status_code == 404
    assert client.get("/retention/acp/1/destruction").status_code == 404, "no run yet"


def test_the_destruction_poll_is_closed_to_roles_outside_retention(client, session, login_as):
    request = AcpRequestFactory()
    create_run(session, "destroy_acp_existing_data", acp_request_id=request.id)
    session.commit()
    login_as(Role.OPERATOR)
    assert client.get(f"/retention/acp/{request.id}/destruction").status_code == 403


def test_a_destruction_under_way_is_not_offered_or_queued_twice(client, session, login_as):
    request = AcpRequestFactory(status=AcpStatus.VERIFIED.value)
    create_run(session, "destroy_acp_existing_data", acp_request_id=request.id)
    session.commit()
    login_as(Role.RECORDS)
    page = f"/retention/acp/{request.id}"
    html = client.get(page).get_data(as_text=True)
    assert "Destroy existing data</button>" not in html
    fields = {"csrf_token": form_csrf(client, page), **CONFIRMED}
    again = client.post(f"{page}/destroy-existing", data=fields, follow_redirects=True)
    assert "already under way" in again.get_data(as_text=True)
    runs = session.query(JobRun).filter_by(name="destroy_acp_existing_data").count()
    assert runs == 1
