from flask import url_for
import pytest
from app.alpr.read_access import hit_context
from tests.e2e.conftest import sign_in
from tests.e2e.test_phone_widths import seed
from tests.factories import HitFactory, HotlistSourceFactory, ReadFactory, SearchFactory, AgencyRequestFactory
from app.reads.models import Hit, Search
from app.retention.models import AcpRequest, ExculpatoryRequest
from app.investigations.models import Investigation

pytestmark = pytest.mark.e2e


def test_shots(browser, live_server, session, app):
    users, path_for = seed(session)
    inv = session.query(Investigation).order_by(Investigation.id).first()
    HitFactory(source=HotlistSourceFactory(kind="investigation", investigation_id=inv.id), read=ReadFactory(plate="CASE777"))
    SearchFactory(user=users["deputy_chief"], case_number=inv.case_number, purpose="Burglary series canvass")
    AgencyRequestFactory(active_investigation=inv.case_number)
    session.commit()
    hit = session.query(Hit).order_by(Hit.id).first()
    search = session.query(Search).filter_by(user_id=users["operator"].id).first()
    acp = session.query(AcpRequest).first()
    exc = session.query(ExculpatoryRequest).first()
    pages = {
        "operator": [
            ("read", f"/alpr/reads/{hit.read_id}?via=hit:{hit.id}"),
            ("search-results", f"/alpr/searches/{search.id}"),
        ],
        "auditor": [("audit", "/audit/")],
        "records": [
            ("acp-list", "/retention/acp"),
            ("exculpatory-list", "/retention/exculpatory"),
            ("acp-detail", f"/retention/acp/{acp.id}"),
            ("exculpatory-detail", f"/retention/exculpatory/{exc.id}"),
        ],
        "deputy_chief": [("case", f"/investigations/{inv.id}"), ("retention", "/retention/")],
    }
    for role, items in pages.items():
        for width, height in ((1280, 800), (390, 844)):
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            sign_in(page, live_server, users[role].email)
            for name, path in items:
                page.goto(f"{live_server}{path}")
                page.screenshot(path=f"/tmp/shots/findable-{name}-{width}.png", full_page=True)
            context.close()
