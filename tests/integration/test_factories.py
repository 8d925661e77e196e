"""Every factory builds a row its table accepts, on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from app.reads.models import ReadImage
from app.retention.models import ExculpatoryRequest, Hold, HoldKind
from tests import factories

NEW_FACTORIES = [
    factories.StoredDocumentFactory,
    factories.ExculpatoryRequestFactory,
    factories.AcpRequestFactory,
    factories.HoldFactory,
    factories.ExculpatoryHoldFactory,
    factories.ReadImageFactory,
    factories.ActiveUsePeriodFactory,
    factories.HotlistEntryFactory,
    factories.SearchFactory,
    factories.JobRunFactory,
    factories.PurgeRunFactory,
    factories.AgencyProfileFactory,
    factories.AgencyRequestFactory,
    factories.BcaNoticeFactory,
]


@pytest.mark.parametrize("factory_class", NEW_FACTORIES, ids=lambda f: f.__name__)
def test_each_new_factory_builds_a_row_that_flushes(session, factory_class):
    first, second = factory_class(), factory_class()  # flushed and committed, each its own row
    session.flush()
    keys = [inspect(first).identity, inspect(second).identity]
    assert None not in keys and keys[0] != keys[1]
    session.expire_all()
    assert all(session.get(type(first), key) is not None for key in keys)


def test_hold_factories_carry_their_scope_and_reason(session):
    device = factories.DeviceFactory()
    hold = factories.HoldFactory(held_plates=["ABC123"], held_devices=[device])
    request = factories.ExculpatoryRequestFactory()
    excul = factories.ExculpatoryHoldFactory(request=request)
    session.expire_all()
    stored = session.get(Hold, hold.id)
    assert stored.kind == HoldKind.INVESTIGATION.value and stored.investigation is not None
    assert [p.plate for p in stored.plates] == ["ABC123"]
    assert [d.device_id for d in stored.devices] == [device.id]
    assert session.get(ExculpatoryRequest, request.id).holds[0].id == excul.id


def test_a_read_image_row_points_at_its_read(session):
    image = factories.ReadImageFactory()
    session.expire_all()
    (stored,) = session.scalars(select(ReadImage))
    assert stored.read.id == image.read.id
