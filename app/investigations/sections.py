"""What a case page lists of the records that name the case: holds, searches, hits, requests.

Those records belong to packages above this one (retention, alpr, requests), so each of them
registers a section here (:func:`register_case_section`), as read contexts are registered in
app.alpr.read_access; the case page shows every registered section, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.investigations.models import Investigation

#: How many of each kind a case page lists (newest first); the count says how many there are.
CASE_SECTION_LIMIT = 50


@dataclass(frozen=True)
class CaseItem:
    """One record on a case page: what it is, its page for this viewer (if any), a note."""

    label: str
    url: str | None = None
    note: str = ""


@dataclass(frozen=True)
class CaseSection:
    """A kind of record a case page lists: its heading, and the query that finds them.

    `items` takes the session, the viewer and the case, and answers (how many there are in
    all, the newest :data:`CASE_SECTION_LIMIT` as items).
    """

    key: str
    order: int
    title: str
    empty: str
    items: Callable[[Session, Any, Investigation], tuple[int, list[CaseItem]]]


#: The registered sections, by key, in the order the page shows them.
CASE_SECTIONS: dict[str, CaseSection] = {}


def register_case_section(section: CaseSection) -> None:
    """Let the case page list `section` (registering a key again replaces it)."""
    CASE_SECTIONS[section.key] = section


@dataclass(frozen=True)
class FilledSection:
    """A section as one viewer sees it on one case."""

    section: CaseSection
    total: int
    items: list[CaseItem]


def case_sections(
    session: Session, viewer: Any, investigation: Investigation
) -> list[FilledSection]:
    """Every registered section, filled for `investigation` as `viewer` may see it."""
    filled = []
    for section in sorted(CASE_SECTIONS.values(), key=lambda s: s.order):
        total, items = section.items(session, viewer, investigation)
        filled.append(FilledSection(section, total, items))
    return filled


def count_and_newest(
    session: Session, stmt: Select[Any], *newest_first: Any
) -> tuple[int, list[Any]]:
    """How many rows `stmt` finds, and the first :data:`CASE_SECTION_LIMIT` in that order."""
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(*newest_first).limit(CASE_SECTION_LIMIT)).unique()
    return total, list(rows)
