"""Typed times: local by default, UTC when stored, refused (not crashed on) outside sane years."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.core.timeutil import parse_local_datetime


def test_a_typed_local_time_is_stored_in_utc():
    assert parse_local_datetime("2026-07-01T08:00") == datetime(2026, 7, 1, 13, 0, tzinfo=UTC)
    assert parse_local_datetime("2026-01-01T08:00+00:00") == datetime(2026, 1, 1, 8, tzinfo=UTC)


@pytest.mark.parametrize("typed", ["9999-12-31T23:00", "0001-01-01T00:00", "1999-12-31T23:59"])
def test_a_year_outside_the_typed_range_is_a_value_error_not_an_overflow(typed):
    with pytest.raises(ValueError, match="Enter a year from 2000 to 2100"):
        parse_local_datetime(typed)
