"""Set-at-a-time SQL for the ingest path that stays fast however many reads a batch holds.

psycopg parses every statement's placeholders in Python and caches only short statements, so a
500-item ``IN (...)`` or a 500-row multi-VALUES insert costs tens of milliseconds before the
server sees it (measured: most of a batch's time). On PostgreSQL the same statements bind ONE
array per column instead (``= ANY(:array)``, ``unnest``): short, cached, adapted in C. SQLite
keeps the portable forms.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import String


def on_postgresql(session: Session) -> bool:
    """Whether the session's database takes the array forms."""
    return session.get_bind().dialect.name == "postgresql"


def text_in(session: Session, column: Any, values: Collection[str]) -> ColumnElement[bool]:
    """``column IN values`` for a text column, as one array parameter on PostgreSQL."""
    if on_postgresql(session):
        return column == any_(bindparam(None, list(values), type_=ARRAY(String())))
    return column.in_(list(values))
