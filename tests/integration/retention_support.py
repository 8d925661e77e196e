"""The retention helpers now live in tests/helpers.py; this name stays for the test files
that still import it from here (test_retention_*.py, being changed elsewhere)."""

from tests.helpers import (  # noqa: F401
    add_image,
    aged_read,
    dangling_images,
    orphan_files,
    run_purge,
    surviving_ids,
)
