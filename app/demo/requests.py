"""Demo agency requests (425.7): the demo agency's head on record, and one request to review."""

from __future__ import annotations

import io
from datetime import timedelta

from flask import current_app
from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.agencies import agency_by_name
from app.auth.models import User
from app.db import utcnow
from app.reads.models import Read
from app.requests.letters import inspect_letter
from app.requests.models import AgencyRequest
from app.requests.services import agency_profile, record_agency_profile, submit_request

DEMO_ACTOR = "system:demo-seed"


def _letter() -> bytes:
    """A one-page signed letter, as the agency would scan it."""
    page = Image.new("RGB", (850, 1100), "white")
    draw = ImageDraw.Draw(page)
    draw.text((80, 120), "I authorise this request for ALPR data. Col. Dana Ortiz", fill="black")
    buffer = io.BytesIO()
    page.save(buffer, "PDF")
    return buffer.getvalue()


def seed_requests(session: Session) -> list[str]:
    """Record the demo agency's head and designee, and submit one request as its user."""
    agency = agency_by_name(session, "Minnesota State Patrol")
    requester = session.scalars(select(User).where(User.email == "agency@demo.alpr")).first()
    if agency is None or requester is None:
        return []
    if agency_profile(session, agency.id) is None:
        record_agency_profile(
            session,
            DEMO_ACTOR,
            agency,
            kind="law_enforcement",
            head_name="Col. Dana Ortiz",
            head_title="Chief of the State Patrol",
            designee_name="Maj. Lee Brandt",
        )
    if session.scalars(select(AgencyRequest.id)).first() is not None:
        return ["Demo agency request already present."]
    plate = session.scalars(
        select(Read.plate)
        .where(Read.plate.is_not(None), Read.captured_at > utcnow() - timedelta(days=2))
        .limit(1)
    ).first()
    if plate is None:
        return []
    request = submit_request(
        session,
        requester,
        requester_name=requester.name,
        purpose="Locate a vehicle seen leaving a hit-and-run on Highway 61",
        factual_basis="A witness gave the plate; State Patrol crash report 26-004417.",
        case_number="MSP-26-004417",
        authorised_by="head",
        letter=inspect_letter(_letter(), "msp-letter.pdf"),
        window_start=utcnow() - timedelta(days=2),
        window_end=utcnow(),
        plates=[plate],
        device_ids=[],
        box=None,
        now=utcnow(),
        retention_days=current_app.config["RETENTION_DAYS"],
    )
    return [f"Demo agency request {request.id} submitted by agency@demo.alpr."]
