"""Killing the purge between a batch's commit and its file removal, then running it again,
leaves no orphan image file and no row pointing at a missing file."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import select

from app.reads.images import image_path
from app.retention.models import ImageTombstone
from tests.helpers import (
    add_image,
    aged_read,
    dangling_images,
    orphan_files,
    run_purge,
    surviving_ids,
)

KILLED_PURGE = textwrap.dedent(
    """
    import json, os, signal, sys
    from app import create_app
    from app.db import utcnow
    from app.retention.purge import destroy_expired_reads

    app = create_app(json.loads(sys.argv[1]))
    with app.app_context():
        def die(batch):
            os.kill(os.getpid(), signal.SIGKILL)  # after the commit, before any file goes
        destroy_expired_reads(
            app.extensions["alpr_sessionmaker"], "system:purge", utcnow(), 2,
            retention_days=60, after_commit=die,
        )
    """
)


def _expired_reads_with_pictures(session, count: int) -> tuple[list[str], int]:
    digests = []
    for n in range(count):
        read = aged_read(61 + n)
        digests.append(add_image(session, read))
    kept = aged_read(10)
    add_image(session, kept)
    return digests, kept.id


def test_sigkill_between_batches_then_rerun_leaves_nothing_behind(app, session, base_config):
    digests, kept = _expired_reads_with_pictures(session, 5)

    proc = subprocess.run(
        [sys.executable, "-c", KILLED_PURGE, json.dumps({**base_config, "TESTING": True})],
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]

    # The first batch committed: its rows are gone, its files are tombstoned but still there.
    session.commit()
    tombstoned = set(session.scalars(select(ImageTombstone.sha256)))
    assert len(tombstoned) == 2 and tombstoned <= set(digests)
    assert all(image_path(d).exists() for d in tombstoned)
    assert len(surviving_ids(session)) == 4
    assert dangling_images(session) == []

    result = run_purge(app, batch_size=2)

    assert result.leftover_files_removed == 2 and result.reads_destroyed == 3
    assert surviving_ids(session) == {kept}
    assert not any(image_path(d).exists() for d in digests)
    assert session.scalars(select(ImageTombstone)).all() == []
    assert orphan_files(app, session) == [] and dangling_images(session) == []


def test_failure_after_commit_is_finished_by_the_next_run(app, session):
    digests, kept = _expired_reads_with_pictures(session, 3)

    def fail(batch: int) -> None:
        raise RuntimeError("disk went away")

    with pytest.raises(RuntimeError):
        run_purge(app, batch_size=10, after_commit=fail)
    assert dangling_images(session) == []
    assert all(image_path(d).exists() for d in digests)

    run_purge(app)
    assert surviving_ids(session) == {kept}
    assert orphan_files(app, session) == [] and dangling_images(session) == []
