"""Revisions stand alone: no file in migrations/versions imports application code.

A revision is frozen history; app and workers modules move and change. A revision that
imports them (e.g. `import app.db` for a column type) breaks when they do, and then every
fresh database fails to build. Revisions name plain SQLAlchemy types instead (env.py renders
the app's own types that way for autogenerate, and script.py.mako imports no app module).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = ROOT / "migrations" / "versions"
APPLICATION_PACKAGES = frozenset({"app", "workers"})
IMPORT_FUNCTIONS = frozenset({"import_module", "__import__"})


def _is_application(module: str | None) -> bool:
    return module is not None and module.split(".")[0] in APPLICATION_PACKAGES


def application_imports(source: str, filename: str = "<revision>") -> list[str]:
    """Every import of an application module in `source`, at any depth, as `line: module`."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module] if node.level == 0 else []
        elif (
            isinstance(node, ast.Call)
            and (getattr(node.func, "id", None) or getattr(node.func, "attr", None))
            in IMPORT_FUNCTIONS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            modules = [node.args[0].value]
        else:
            continue
        found += [f"{node.lineno}: {module}" for module in modules if _is_application(module)]
    return found


REVISIONS = sorted(VERSIONS.glob("*.py"))


def test_there_are_revisions_to_check():
    assert REVISIONS, f"no revision files found in {VERSIONS}"


@pytest.mark.parametrize("revision", REVISIONS, ids=lambda path: path.name)
def test_a_revision_imports_no_application_module(revision: Path):
    found = application_imports(revision.read_text(), str(revision))
    assert not found, f"{revision.name} imports application code: {found}"


def test_the_revision_template_imports_no_application_module():
    template = (ROOT / "migrations" / "script.py.mako").read_text()
    imports = re.findall(r"^\s*(?:import|from)\s+([\w.]+)", template, flags=re.MULTILINE)
    assert imports, "the template's imports were not found"
    assert not [module for module in imports if _is_application(module)]


@pytest.mark.parametrize(
    "source",
    [
        "import app.db",
        "import sqlalchemy as sa, app",
        "from app.db import UTCDateTime",
        "from app import db",
        "from workers.jobs import run",
        "def upgrade():\n    import app.alpr.partitions\n",
        "import importlib\nimportlib.import_module('app.db')",
        "__import__('workers')",
    ],
)
def test_the_check_finds_an_application_import(source: str):
    assert application_imports(source)


@pytest.mark.parametrize(
    "source",
    [
        "import sqlalchemy as sa\nfrom alembic import op",
        "import apple\nfrom application import x\nfrom appdirs import y",
        "from . import helpers",
        "op.execute('UPDATE app SET x = 1')",
    ],
)
def test_the_check_lets_other_imports_through(source: str):
    assert application_imports(source) == []
