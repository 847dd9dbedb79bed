"""Engine, sessions and schema upgrades.

SQLite is the single-process default; PostgreSQL is for several workers. Both go through
:func:`make_engine` so that every connection gets the same settings, whether it is opened by
the app, the CLI, Alembic or a test.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

ENV_VAR = "DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 30_000
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"

# Execution option read by the ``begin`` hook below: "IMMEDIATE" (default) or "DEFERRED".
SQLITE_BEGIN_OPTION = "sqlite_begin"


def database_url(explicit: str | None = None) -> str:
    """The database to use: the argument, else ``$DATABASE_URL``, else ``<cwd>/instance/pathway.db``."""
    url = explicit or os.environ.get(ENV_VAR)
    if not url:
        folder = Path.cwd() / "instance"
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / 'pathway.db'}"
    return normalize_url(url)


def normalize_url(url: str) -> str:
    """Point bare ``postgres://``/``postgresql://`` URLs at psycopg 3, the driver we ship.

    Hosting platforms hand out ``postgres://...``; SQLAlchemy would pick psycopg2 for
    ``postgresql://``, which is not installed.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine with our per-dialect settings (extra ``kwargs`` go to ``create_engine``)."""
    url = database_url(url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)  # workers outlive server restarts and idle timeouts
        return create_engine(url, **kwargs)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    """SQLAlchemy's documented pysqlite recipe, with ``BEGIN IMMEDIATE``.

    The sqlite3 driver's legacy mode starts transactions lazily and only for DML. Two
    workers that both read and then write then deadlock on the lock upgrade and one fails
    at once with "database is locked" (the busy timeout is not applied to upgrades). We
    take over BEGIN and take the write lock up front, so concurrent writers queue on
    ``busy_timeout`` instead. Read-only sessions can ask for ``DEFERRED`` (see
    :func:`make_session_factory`); under WAL they never wait for writers.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # stop sqlite3 from emitting BEGIN itself
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, far fewer fsyncs
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
        if mode not in ("IMMEDIATE", "DEFERRED", "EXCLUSIVE"):
            raise ValueError(f"bad {SQLITE_BEGIN_OPTION} option {mode!r}")
        conn.exec_driver_sql(f"BEGIN {mode}")


def is_postgres(bind: Engine | Connection | Session) -> bool:
    """True when ``bind`` (an engine, a connection or a session) talks to PostgreSQL."""
    if isinstance(bind, Session):
        return bind.get_bind().dialect.name == "postgresql"
    return bind.dialect.name == "postgresql"


def make_session_factory(engine: Engine, *, read_only: bool = False, **kwargs: Any) -> sessionmaker[Session]:
    """A ``sessionmaker`` bound to ``engine``.

    ``read_only=True`` is for queries only (worklists, GETs): on SQLite it starts deferred
    transactions that never wait for writers; on PostgreSQL the transaction is READ ONLY.
    """
    bind = engine
    if read_only:
        if engine.dialect.name == "sqlite":
            bind = engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
        elif engine.dialect.name == "postgresql":
            bind = engine.execution_options(postgresql_readonly=True)
    return sessionmaker(bind=bind, **kwargs)


def upgrade(url_or_engine: str | Engine | None = None, revision: str = "head") -> None:
    """Run the Alembic migrations up to ``revision`` (the app and the CLI call this at start-up).

    Given an engine, migrations run on one of its connections (needed for in-memory
    SQLite); given a URL or nothing, on a short-lived engine for :func:`database_url`.
    """
    from alembic import command  # local: keeps alembic off the import path of plain queries
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["configure_logger"] = False  # leave the application's logging alone
    if isinstance(url_or_engine, Engine):
        engine, owned = url_or_engine, False
    else:
        engine, owned = make_engine(database_url(url_or_engine)), True
    try:
        # env.py runs everything in one transaction on this connection and commits it.
        with engine.connect() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    finally:
        if owned:
            engine.dispose()
