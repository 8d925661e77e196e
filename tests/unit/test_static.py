"""The vendored htmx is the recorded version, and pages load it from this origin only."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_vendored_htmx_matches_the_recorded_version_and_digest():
    record = (ROOT / "static/js/VENDORED.md").read_text()
    row = re.search(r"\| htmx\.min\.js \| .* \| (2\.\d+\.\d+) \| ([0-9a-f]{64}) \|", record)
    assert row, "static/js/VENDORED.md records htmx's version and sha256"
    body = (ROOT / "static/js/htmx.min.js").read_bytes()
    assert hashlib.sha256(body).hexdigest() == row.group(2)
    assert f'version:"{row.group(1)}"'.encode() in body


def test_templates_have_no_inline_script_or_style():
    for template in (ROOT / "templates").rglob("*.html"):
        html = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), template
        assert " style=" not in html, template
        assert "hx-on" not in html, template
