"""Templates show devices, people and agencies by name, never by their row id (issue 15 item 3).

The pages themselves are checked in tests/integration/test_names_and_zones.py; this scan keeps
a template from printing an id where a name exists.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: "Device #{{ … }}", "#{{ x.device_id }}", a list of device ids joined, a user's or agency's id
#: printed rather than linked.
RAW_IDS = re.compile(
    r"Device #|#\{\{\s*[\w.]*_id\s*\}\}"
    r"|attribute='device_id'"
    r"|\{\{\s*[\w.]*\.(device_id|user_id|agency_id|lead_id|actor_user_id)\s*\}\}"
)


def raw_ids(source: str) -> list[str]:
    """Each place in `source` that prints a device, user or agency id as text."""
    return [m.group(0) for m in RAW_IDS.finditer(source)]


def test_no_template_prints_a_raw_id_where_a_name_exists():
    found = {
        str(path.relative_to(ROOT)): raw_ids(path.read_text())
        for path in (ROOT / "templates").rglob("*.html")
    }
    assert {path: ids for path, ids in found.items() if ids} == {}


def test_the_scan_finds_printed_ids():
    assert raw_ids("<dd>#{{ criteria.device_id }}</dd>") != []
    assert raw_ids("{{ h.devices|map(attribute='device_id')|join(', ') }}") != []
    assert raw_ids("{{ d.device_id }}") != []
    assert raw_ids("{{ url_for('alpr.device_detail', device_id=d.device_id) }}") == []
    assert raw_ids("{{ h.devices|map(attribute='device.serial')|join(', ') }}") == []
