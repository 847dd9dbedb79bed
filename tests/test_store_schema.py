"""Schema, migrations, engine settings and column types, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from engine.store import Base, Patient, database_url, is_postgres, make_engine, upgrade
from engine.store.db import normalize_url

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def test_migration_matches_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diffs == []


def test_upgrade_is_idempotent_and_downgrade_is_clean(db_url: str, engine: Engine) -> None:
    upgrade(db_url)  # second run, via a URL this time: nothing to do
    from alembic import command
    from alembic.config import Config

    from engine.store.db import MIGRATIONS_DIR

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["configure_logger"] = False
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    upgrade(engine)
    assert "audit_events" in inspect(engine).get_table_names()


def test_engine_settings(engine: Engine) -> None:
    with engine.connect() as conn:
        if is_postgres(engine):
            assert engine.pool._pre_ping  # type: ignore[attr-defined]
        else:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def test_foreign_keys_enforced(session_factory: sessionmaker[Session]) -> None:
    from sqlalchemy.exc import IntegrityError

    from engine.store import Instance

    with session_factory() as session:
        session.add(
            Instance(definition_id=999, state={}, serializer_version="1.5", created_at=T0, updated_at=T0)
        )
        with pytest.raises(IntegrityError):
            session.flush()


def test_aware_utc_round_trip(session_factory: sessionmaker[Session]) -> None:
    paris = timezone(timedelta(hours=2))
    with session_factory.begin() as session:
        session.add(
            Patient(id="p1", external_id="E1", created_at=T0.astimezone(paris), birth_date=date(1950, 2, 3))
        )
    with session_factory() as session:
        patient = session.get(Patient, "p1")
        assert patient is not None
        assert patient.created_at == T0
        assert patient.created_at.tzinfo is not None and patient.created_at.utcoffset() == timedelta(0)
        assert patient.created_at.microsecond == 123456
        assert patient.birth_date == date(1950, 2, 3)
        # Comparisons in SQL use the same conversion, whatever zone the parameter is in.
        found = session.scalars(select(Patient.id).where(Patient.created_at == T0.astimezone(paris))).all()
        assert found == ["p1"]
        assert session.scalars(select(Patient.id).where(Patient.created_at > T0)).all() == []


def test_naive_datetime_refused(session_factory: sessionmaker[Session]) -> None:
    from sqlalchemy.exc import StatementError

    with session_factory() as session:
        session.add(Patient(external_id="E2", created_at=datetime(2026, 1, 1, 9, 0)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()


def test_database_url_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert database_url() == f"sqlite:///{tmp_path / 'instance' / 'pathway.db'}"
    assert (tmp_path / "instance").is_dir()
    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.db")
    assert database_url() == "sqlite:///x.db"
    assert database_url("sqlite:///y.db") == "sqlite:///y.db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_in_memory_sqlite_upgrade_via_engine() -> None:
    eng = make_engine("sqlite://")
    try:
        upgrade(eng)
        assert "tasks" in inspect(eng).get_table_names()
    finally:
        eng.dispose()


def test_read_only_session_factory(engine: Engine) -> None:
    from sqlalchemy.exc import DBAPIError

    from engine.store import make_session_factory

    reader = make_session_factory(engine, read_only=True)
    writer = make_session_factory(engine)
    with reader() as session:
        assert session.execute(text("SELECT 1")).scalar() == 1
        if not is_postgres(engine):
            # A real (deferred) transaction, and it does not hold the write lock: a writer
            # can commit meanwhile (WAL), while the reader keeps its snapshot.
            assert session.connection().connection.driver_connection.in_transaction
            before = session.scalar(text("SELECT count(*) FROM patients"))
            with writer.begin() as other:
                other.add(Patient(external_id="E4", created_at=T0))
            assert session.scalar(text("SELECT count(*) FROM patients")) == before
    if is_postgres(engine):
        with reader() as session:
            session.add(Patient(external_id="E3", created_at=T0))
            with pytest.raises(DBAPIError, match="read-only"):
                session.flush()


@pytest.mark.postgres
def test_rewritten_tables_are_vacuumed_early_and_keep_room_for_same_page_updates(postgres_schema_url: str) -> None:
    """The defaults would let 20% of the states go dead before autovacuum; ours reclaim at 1%."""
    eng = make_engine(postgres_schema_url)
    upgrade(eng)
    try:
        with eng.connect() as conn:
            options = dict(conn.execute(text(
                "SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r'")).all())
            toast = conn.execute(text(
                "SELECT t.reloptions FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid "
                "WHERE c.oid = to_regclass('instances')")).scalar()
            compression = conn.execute(text(
                "SELECT attcompression FROM pg_attribute WHERE attrelid = to_regclass('instances') "
                "AND attname = 'state'")).scalar()
            has_lz4 = conn.execute(text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                                        "WHERE name = 'default_toast_compression'")).scalar()
    finally:
        eng.dispose()
    assert "fillfactor=70" in options["instances"] and "fillfactor=80" in options["tasks"]
    for table in ("instances", "tasks", "ready_task_groups", "task_candidate_groups"):
        assert "autovacuum_vacuum_scale_factor=0.01" in options[table], table
    assert "autovacuum_vacuum_scale_factor=0.01" in toast
    assert options["audit_events"] is None  # append-only: nothing to reclaim
    assert compression == ("l" if has_lz4 else "")
