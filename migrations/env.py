"""Alembic environment.

The URL comes from ``engine.store.db.database_url()`` (``DATABASE_URL`` or the default SQLite
file), unless ``engine.store.db.upgrade()`` hands over an open connection in
``config.attributes["connection"]``. Engines are always made by ``make_engine`` so that the
CLI gets the same SQLite pragmas and BEGIN IMMEDIATE as the app.
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.pool import NullPool

from engine.store.db import database_url, make_engine
from engine.store.models import Base
from engine.store.types import UTCDateTime

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata

# Any fixed 64-bit number: PostgreSQL workers starting together take turns to migrate.
MIGRATION_LOCK_ID = 0x70617468776179  # "pathway"


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write our column types as plain SQLAlchemy ones in generated revisions.

    A revision that imports app types changes meaning when the app changes; the stored
    type is what matters (``timestamptz`` / SQLite DATETIME, ``json``).
    """
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTER goes via table copies
        # Our SQLite engine emits its own BEGIN (see make_engine), so DDL is transactional there too.
        transactional_ddl=True,
        compare_type=True,
        render_item=render_item,
    )


def _run(connection: Connection) -> None:
    """Run the migrations in one transaction on ``connection`` (which must not be in one yet)."""
    if connection.in_transaction():
        raise RuntimeError("migrations need a connection that has not begun a transaction")
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch migrations recreate tables; with foreign keys on, SQLite's DROP TABLE would
        # cascade-delete child rows. The pragma only works outside a transaction, hence the
        # driver-level call before SQLAlchemy begins one; the keys are checked before commit.
        driver = connection.connection.driver_connection
        driver.execute("PRAGMA foreign_keys=OFF")
    try:
        _configure(connection)
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Taken before Alembic reads alembic_version, so a second worker sees the first's result.
                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left broken foreign keys: {broken[:10]}")
    finally:
        if sqlite:
            driver.execute("PRAGMA foreign_keys=ON")


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or database_url()
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or database_url(), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
