"""A staff list downloaded as CSV: the download is audited before the file leaves.

The requests queue, the holds, the cameras and the BCA notices each export the same way: a
``list.exported`` entry naming the list and how many rows it had, committed before the response
is built, so a download that reached someone is always in the chain. One helper keeps the four
from drifting apart (a fifth list gets the same audit by calling it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from flask import Response
from sqlalchemy.orm import Session

from app.audit.actions import AuditAction
from app.audit.services import record
from app.core.csv_export import csv_response

Item = TypeVar("Item")


def exported_list_csv(
    session: Session,
    actor: Any,
    list_name: str,
    filename: str,
    header: Sequence[str],
    items: Sequence[Item],
    cells: Callable[[Item], Sequence[object]],
) -> Response:
    """Record and commit `list_name`'s export of `items`, then `items` as a CSV attachment.

    `cells` turns one item into its row; it runs after the commit, so it may load what it needs.
    """
    record(
        session, actor, AuditAction.LIST_EXPORTED, None, {"list": list_name, "count": len(items)}
    )
    session.commit()
    return csv_response(filename, header, (cells(item) for item in items))
