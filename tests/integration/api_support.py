"""Helpers for the tests of the token-authenticated JSON read APIs (devices and agencies)."""

from __future__ import annotations

import json

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session


def post_json(client: FlaskClient, token: str, body: object, raw: bool = False, *, url: str):
    """POST `body` (JSON-encoded unless `raw`) to `url` with `token` as the bearer token."""
    return client.post(
        url,
        data=body if raw else json.dumps(body),
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/json",
    )


def count_rows(session: Session, model: type) -> int:
    """Rows of `model` as requests committed them (the test's own snapshot is ended first)."""
    session.rollback()
    return session.scalar(select(func.count()).select_from(model))
