"""Definitions, audit trail and API tokens, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from engine.store import (
    ApiToken,
    AuditEvent,
    add_audit,
    content_sha256,
    create_token,
    find_token,
    get_definition,
    latest_definition,
    list_audit,
    list_definitions,
    revoke_token,
    store_definition,
)

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
SPEC = {"spec": {"name": "fracture"}, "subprocess_specs": {}}


def _store(session: Session, key: str, xml: str, at: datetime = T0):
    sources = {f"{key}.bpmn": xml}
    return store_definition(session, key, key.title(), content_sha256(sources), SPEC, sources, "alice", at)


def test_versions_count_per_key_and_duplicates_are_filtered(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        d1, created1 = _store(session, "fracture", "<v1/>")
        d1_again, created_again = _store(session, "fracture", "<v1/>", T0 + timedelta(hours=1))
        d2, created2 = _store(session, "fracture", "<v2/>")
        other, _ = _store(session, "falls", "<v1/>")
        # Going back to earlier content after a change is version 3: the latest is what new
        # patients get, so it must be what was deployed last (Camunda compares with the latest too).
        d1_back, created_back = _store(session, "fracture", "<v1/>")
        assert (d1.version, created1) == (1, True)
        assert (d1_again.id, created_again) == (d1.id, False)
        assert (d2.version, created2) == (2, True)
        assert other.version == 1
        assert (d1_back.version, created_back) == (3, True)

    with session_factory() as session:
        latest = latest_definition(session, "fracture")
        assert latest is not None and latest.version == 3
        assert latest.spec_json == SPEC and latest.sources == {"fracture.bpmn": "<v1/>"}
        assert latest.created_at == T0
        v2 = get_definition(session, "fracture", 2)
        assert v2 is not None and v2.sources == {"fracture.bpmn": "<v2/>"}
        assert get_definition(session, "fracture") is not None
        assert get_definition(session, "fracture", 4) is None
        assert latest_definition(session, "nope") is None
        assert [(d.key, d.version) for d in list_definitions(session)] == [
            ("falls", 1),
            ("fracture", 1),
            ("fracture", 2),
            ("fracture", 3),
        ]
        assert [(d.key, d.version) for d in list_definitions(session, latest_only=True)] == [
            ("falls", 1),
            ("fracture", 3),
        ]
        assert [d.version for d in list_definitions(session, "fracture")] == [1, 2, 3]


def test_unique_constraints_hold_in_the_database(session_factory: sessionmaker[Session]) -> None:
    from engine.store import Definition

    with session_factory() as session:
        _store(session, "fracture", "<v1/>")
        session.add(
            Definition(key="fracture", version=1, sha256="0" * 64, spec_json={}, sources={}, created_at=T0)
        )
        with pytest.raises(IntegrityError):
            session.flush()


def test_content_hash_is_order_independent() -> None:
    assert content_sha256({"a.bpmn": "x", "b.dmn": "y"}) == content_sha256({"b.dmn": "y", "a.bpmn": "x"})
    assert content_sha256({"a.bpmn": "x"}) != content_sha256({"a.bpmn": "x "})
    assert len(content_sha256({"a.bpmn": b"x"})) == 64


def test_audit_is_append_only(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        add_audit(
            session,
            at=T0,
            actor="alice",
            action="task.complete",
            instance_id="i1",
            task_id="t1",
            before={"status": "ready"},
            after={"status": "completed"},
            reason="done",
            details={"variables": {"score": 3}},
        )
        add_audit(session, at=T0, actor="system", action="timer.fire", instance_id="i1")

    with session_factory() as session:
        events = list_audit(session, instance_id="i1")
        assert [e.action for e in events] == ["task.complete", "timer.fire"]
        assert events[0].after == {"status": "completed"} and events[0].at == T0
        assert events[1].before is None  # SQL NULL, not JSON null
        assert session.scalar(select(AuditEvent.id).where(AuditEvent.before.is_(None))) == events[1].id

    for statement in (
        update(AuditEvent).values(actor="mallory"),
        delete(AuditEvent),
    ):
        with session_factory() as session:
            with pytest.raises(IntegrityError, match="append-only"):
                session.execute(statement)
    with session_factory() as session:
        with pytest.raises(IntegrityError, match="append-only"):
            event = session.scalars(select(AuditEvent)).first()
            assert event is not None
            event.reason = "rewritten"
            session.flush()
    with session_factory() as session:
        assert session.scalar(select(AuditEvent.actor).where(AuditEvent.action == "task.complete")) == "alice"
        assert len(list_audit(session)) == 2


def test_audit_truncate_refused_on_postgres(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("TRUNCATE exists only on PostgreSQL")
        with pytest.raises(IntegrityError, match="append-only"):
            session.execute(text("TRUNCATE audit_events"))


def test_tokens_store_only_a_hash(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        token = create_token(session, "ward-3", "coordinator", T0)
        other = create_token(session, "lead", "clinical_lead", T0)
    assert token != other and len(token) >= 40

    with session_factory() as session:
        rows = session.scalars(select(ApiToken)).all()
        assert all(token not in (r.token_hash, r.name) for r in rows)
        found = find_token(session, token)
        assert found is not None and (found.name, found.role) == ("ward-3", "coordinator")
        assert found.token_hash != token and len(found.token_hash) == 64
        assert find_token(session, token + "x") is None
        assert find_token(session, "") is None
        assert revoke_token(session, found.id, T0 + timedelta(days=1))
        assert not revoke_token(session, found.id, T0 + timedelta(days=2))
        session.commit()
    with session_factory() as session:
        assert find_token(session, token) is None
        assert find_token(session, other) is not None
