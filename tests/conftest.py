"""Shared database fixtures: every store test runs on SQLite and on PostgreSQL.

Other test modules can use them too:

- ``db_url``: a SQLAlchemy URL for an empty database, parametrized ``sqlite`` (a file in
  ``tmp_path``) and ``postgresql`` (a fresh schema in the ``test`` database, dropped after the
  test; the URL selects it via ``search_path``, so any engine made from it is isolated).
- ``engine``: ``make_engine(db_url)`` migrated to head, disposed afterwards.
- ``session_factory``: a ``sessionmaker`` on that engine.

PostgreSQL cases carry the ``postgres`` marker (``-m "not postgres"`` skips them). The server
comes from ``$TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``);
if it is down we try to start the local cluster once, and skip with the reason if that fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

# The project is not necessarily pip-installed in the venv: make `import engine`/`import api`
# work from a plain `pytest` run at the repository root.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.store.db import make_engine, make_session_factory, upgrade  # noqa: E402

PG_BASE_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

_pg_unavailable: list[str | None] = []  # memo: [None] when reachable, [reason] when not


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: runs against the PostgreSQL test server")


def _admin_engine() -> Engine:
    return create_engine(PG_BASE_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")


def _can_connect() -> str | None:
    try:
        engine = _admin_engine()
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as exc:  # any failure means "not usable", the reason goes in the skip
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return None


def _start_local_cluster() -> None:
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not versions:
        return
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
        capture_output=True,
        timeout=60,
        check=False,
    )


def postgres_unavailable() -> str | None:
    """None when the PostgreSQL test server answers, else why not (checked once per run)."""
    if not _pg_unavailable:
        reason = _can_connect()
        if reason is not None:
            _start_local_cluster()
            reason = _can_connect()
        _pg_unavailable.append(
            None if reason is None else f"PostgreSQL not reachable at {PG_BASE_URL}: {reason}"
        )
    return _pg_unavailable[0]


def _schema_url(schema: str) -> str:
    # psycopg passes ``options`` to the server: every connection from any engine built on
    # this URL sees only the test's schema. application_name lets teardown find leftovers.
    url = make_url(PG_BASE_URL).update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema}
    )
    return url.render_as_string(hide_password=False)


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A URL whose connections live in a brand-new PostgreSQL schema (dropped afterwards)."""
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _schema_url(schema)
    finally:
        with admin.connect() as conn:
            # A test that forgot to close a session must not make DROP SCHEMA hang.
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": schema},
            )
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (not migrated), once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("postgres_schema_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on ``db_url`` with the schema migrated to head."""
    eng = make_engine(db_url)
    upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)
