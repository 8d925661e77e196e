"""Every audit detail key the code writes is classified for the public copy (§ 13.824 subd. 7).

The redaction fails closed (an unknown key is withheld as "not yet classified"), so a key left
out of app/public/classification.py would hide a public value. Two nets: a scan of the source
for the literal keys each `record` / `PendingEntry` / step call writes under its action, and
the keys the demo seed (every domain's data) actually stores.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from sqlalchemy import select

from app.audit.actions import AuditAction
from app.audit.models import AuditEntry
from app.public.classification import CLASSIFICATION, STEP, classify

ROOT = Path(__file__).resolve().parents[2]
WRITERS = {"record", "PendingEntry", "take_step", "_hit_step"}


def _action(node: ast.AST) -> AuditAction | None:
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "AuditAction"
    ):
        return AuditAction[node.attr]
    return None


def _literal_keys(node: ast.AST | None) -> set[str]:
    if not isinstance(node, ast.Dict):
        return set()
    return {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}


def written_keys() -> set[tuple[AuditAction, str]]:
    """(action, key) for each literal detail key next to a literal action in app/ and workers/."""
    found: set[tuple[AuditAction, str]] = set()
    for path in [*ROOT.joinpath("app").rglob("*.py"), *ROOT.joinpath("workers").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in WRITERS and not (name == "record" and node.args):
                continue
            actions = [a for a in map(_action, node.args) if a is not None]
            actions += [a for kw in node.keywords if (a := _action(kw.value)) is not None]
            dicts = [*node.args, *(kw.value for kw in node.keywords if kw.arg == "details")]
            for action in actions:
                found.update((action, key) for d in dicts for key in _literal_keys(d))
    return found


def test_every_action_has_a_row_and_steps_name_their_states():
    assert set(CLASSIFICATION) == set(AuditAction)
    assert all(classify(AuditAction.HIT_CLOSED.value, key) is not None for key in STEP)


def test_every_literal_detail_key_in_the_code_is_classified():
    keys = written_keys()
    assert len(keys) > 100, "the scan should find the detail keys of most actions"
    missing = sorted((a.value, k) for a, k in keys if classify(a.value, k) is None)
    assert missing == []


def test_every_detail_key_the_demo_stores_is_classified(app, session):
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    session.rollback()
    missing = set()
    for entry in session.scalars(select(AuditEntry)):
        stored = json.loads(entry.detail.details_json) if entry.detail.details_json else {}
        missing |= {(entry.action, k) for k in stored if classify(entry.action, k) is None}
    assert missing == set()
