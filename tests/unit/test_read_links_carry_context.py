"""Every link a template renders to a read or its pictures carries its context (``via=``).

A read opens only in a context that documents why (app.alpr.read_access); a link without one
would lead to the page that asks for the purpose, or to a picture that is not found.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READ_VIEWS = re.compile(r"url_for\(\s*'alpr\.(read_detail|read_image)'[^)]*\)")


def links_without_context(source: str) -> list[str]:
    """Each url_for of a read view in `source` that names no ``via``."""
    return [m.group(0) for m in READ_VIEWS.finditer(source) if "via=" not in m.group(0)]


def test_every_read_link_in_the_templates_carries_its_context():
    found = {
        str(path.relative_to(ROOT)): links_without_context(path.read_text())
        for path in (ROOT / "templates").rglob("*.html")
    }
    assert {path: links for path, links in found.items() if links} == {}
    assert any(READ_VIEWS.search(p.read_text()) for p in (ROOT / "templates").rglob("*.html"))


def test_the_scan_finds_a_link_without_context():
    assert links_without_context("{{ url_for('alpr.read_detail', read_id=r.id) }}") != []
    assert links_without_context("{{ url_for('alpr.read_image', read_id=1, kind=k, via=v) }}") == []
