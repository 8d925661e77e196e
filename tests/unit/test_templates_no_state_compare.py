"""No template compares a workflow state: what a state allows is its machine's to say.

Pages list their next steps through ``next_step_views`` and the ``next_steps`` macro, show a
state through the ``state`` filter, and read facts from the data (``r.decline_reason``) or from
booleans their view computes. A ``status == 'new'`` in a template would be a second, silent
copy of the workflow that the machine's tests never see.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))

#: ``x.status == ...``, ``status != ...``, ``status in (...)``, ``status not in``, and the same
#: with the value first (``'new' == hit.status``), for any ``*status`` attribute.
STATE_COMPARISON = re.compile(
    r"\w*status\s*(?:==|!=|\bnot\s+in\b|\bin\b)"
    r"|(?:==|!=)\s*[\w.]*status\b"
    r"|\bin\s+[\w.]*status\b"
)


def state_comparisons(source: str) -> list[str]:
    """Every state comparison inside the Jinja tags of `source` (markup text is not code)."""
    found: list[str] = []
    for tag in re.finditer(r"\{\{.*?\}\}|\{%.*?%\}", source, re.S):
        found.extend(m.group(0) for m in STATE_COMPARISON.finditer(tag.group(0)))
    return found


def test_there_are_templates_to_scan():
    assert len(TEMPLATES) > 20


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_compares_a_state(template: Path):
    assert state_comparisons(template.read_text()) == [], (
        f"{template.relative_to(ROOT)} compares a state: list steps with next_step_views, show "
        "states with the 'state' filter, and pass other facts from the view"
    )


@pytest.mark.parametrize(
    "source",
    [
        "{% if hit.status == 'new' %}",
        "{% if hit.status != 'closed' and x %}",
        "{% if hit.status in ('confirmed', 'not_confirmed') %}",
        "{% if r.status not in ('ended',) %}",
        "{{ 'ok' if read.plate_status == 'needs_review' }}",
        "{% if 'new' == hit.status %}",
        "{% if 'released' in hold.status %}",
    ],
)
def test_the_scan_finds_each_form_of_comparison(source: str):
    assert state_comparisons(source)


@pytest.mark.parametrize(
    "source",
    [
        "{{ hit.status|replace('_', ' ') }}",
        '<p role="status">{{ message }}</p>',
        "{% set state = hit|state %}{{ state.label }}",
        "{% if r.decline_reason %}",
    ],
)
def test_the_scan_lets_a_state_be_shown(source: str):
    assert state_comparisons(source) == []
