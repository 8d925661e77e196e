"""Alembic environment: the URL from DATABASE_URL (SQLite under instance/ by default)."""

from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, text
from sqlalchemy.types import TypeDecorator

from app.config import database_url, default_instance_path
from app.db import make_engine
from app.models import Base
from app.reads.partitions import is_partition_table

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata

#: On PostgreSQL the primary key (id, captured_at) of the partitioned `reads` is the key the
#: pictures and hits refer to; this constraint is its stand-in on SQLite's plain table.
SQLITE_ONLY_CONSTRAINTS = frozenset({"uq_reads_id_captured_at"})


def _url() -> str:
    return config.attributes.get("database_url") or database_url(default_instance_path())


def _include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """Leave the day partitions of `reads` out: they are managed by app.reads.partitions."""
    return not (type_ == "table" and name is not None and is_partition_table(name))


def _include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Skip what PostgreSQL's partitioning shapes on its own (see app.reads.partitions).

    Each day partition gets a clone of the pictures' and hits' foreign keys; the SQLite-only
    reference key is not made there.
    """
    if context.get_bind().dialect.name != "postgresql":
        return True
    if type_ == "unique_constraint" and name in SQLITE_ONLY_CONSTRAINTS:
        return False
    if type_ == "foreign_key_constraint" and reflected:
        return not is_partition_table(obj.referred_table.name)
    return True


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write an app column type (a TypeDecorator such as app.db.UTCDateTime) as its `impl`.

    A revision then names only SQLAlchemy types and never imports app code, which moves; the
    DDL is the same, since the decorator only converts values. One that picks its type per
    dialect (its own `load_dialect_impl`) has no single plain type: that column is refused.
    """
    if type_ != "type" or not isinstance(obj, TypeDecorator):
        return False
    if type(obj).load_dialect_impl is not TypeDecorator.load_dialect_impl:
        raise NotImplementedError(
            f"{type(obj).__name__} chooses its type per dialect: write its column by hand"
        )
    impl = obj.impl_instance
    if isinstance(impl, TypeDecorator):
        return _render_item(type_, impl, autogen_context)
    module = type(impl).__module__
    if module.startswith("sqlalchemy.dialects."):
        dialect = module.split(".")[2]
        autogen_context.imports.add(f"from sqlalchemy.dialects import {dialect}")
        return f"{dialect}.{impl!r}"
    return f"sa.{impl!r}"


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=_include_name,
        include_object=_include_object,
        render_item=_render_item,
    )


def _check_sqlite_foreign_keys(connection: Connection) -> None:
    """SQLite migrates with foreign keys off (app.db.make_engine): prove none was broken."""
    broken = connection.execute(text("PRAGMA foreign_key_check")).all()
    if broken:
        raise RuntimeError(f"the migration left rows with broken foreign keys: {broken[:10]}")


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url(), enforce_foreign_keys=False)
    with engine.connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
            if connection.dialect.name == "sqlite":
                _check_sqlite_foreign_keys(connection)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
