"""Optimistic versions, row claiming and concurrent writers, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from engine.store import (
    Instance,
    InstanceStatus,
    add_instance,
    claim_due_instances,
    content_sha256,
    due_instance_ids,
    get_task,
    is_postgres,
    lock_instance,
    next_due_at,
    replace_ready_tasks,
    store_definition,
)

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def _seed(session: Session, count: int, due: datetime | None = T0) -> list[str]:
    sources = {"p.bpmn": "<x/>"}
    definition, _ = store_definition(session, "p", None, content_sha256(sources), {}, sources, None, T0)
    return [
        add_instance(
            session,
            definition=definition,
            state={"n": 0},
            serializer_version="1.5",
            now=T0,
            next_due_at=None if due is None else due + timedelta(minutes=i),
        ).id
        for i in range(count)
    ]


def test_second_writer_with_stale_version_fails(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        (iid,) = _seed(session, 1)

    # Reader keeps its objects across commit, as a request that read, then writes later.
    slow = session_factory(expire_on_commit=False)
    mine = slow.get(Instance, iid)
    assert mine is not None and mine.version == 1
    slow.commit()

    with session_factory.begin() as fast:
        theirs = fast.get(Instance, iid)
        assert theirs is not None
        theirs.state = {"n": 1}
        theirs.updated_at = T0 + timedelta(seconds=1)
    with session_factory() as check:
        assert check.get(Instance, iid).version == 2  # type: ignore[union-attr]

    mine.state = {"n": 99}
    with pytest.raises(StaleDataError):
        slow.commit()
    slow.close()
    with session_factory() as check:
        row = check.get(Instance, iid)
        assert row is not None and row.state == {"n": 1} and row.version == 2


def test_truly_concurrent_loads_on_postgres(session_factory: sessionmaker[Session]) -> None:
    """Two open transactions load version 1; the later UPDATE matches no row and fails."""
    with session_factory.begin() as session:
        if not is_postgres(session):
            pytest.skip("SQLite write transactions cannot overlap (BEGIN IMMEDIATE)")
        (iid,) = _seed(session, 1)
    first, second = session_factory(), session_factory()
    try:
        a, b = first.get(Instance, iid), second.get(Instance, iid)
        assert a is not None and b is not None
        b.state = {"n": 2}
        second.commit()
        a.state = {"n": 1}
        with pytest.raises(StaleDataError):
            first.flush()
    finally:
        first.close()
        second.close()


def test_task_version_is_the_etag(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        (iid,) = _seed(session, 1)
        replace_ready_tasks(session, iid, [{"id": "t1", "element_id": "Review"}], T0)
    stale = session_factory(expire_on_commit=False)
    task = get_task(stale, "t1")
    assert task is not None and task.version == 1
    stale.commit()
    with session_factory.begin() as other:
        other.get_one(type(task), "t1").assignee = "bob"
    task.assignee = "alice"
    with pytest.raises(StaleDataError):
        stale.commit()
    stale.close()


def test_due_ids_and_lock(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        ids = _seed(session, 3)
        _seed_not_due = _seed(session, 1, due=None)
        session.get_one(Instance, ids[2]).status = InstanceStatus.SUSPENDED
    with session_factory() as session:
        assert due_instance_ids(session, T0 + timedelta(minutes=1), limit=10) == ids[:2]
        assert due_instance_ids(session, T0 + timedelta(hours=1), limit=1) == ids[:1]
        assert due_instance_ids(session, T0 - timedelta(seconds=1), limit=10) == []
        assert next_due_at(session) == T0
        locked = lock_instance(session, ids[0])
        assert locked is not None and locked.id == ids[0]
        assert lock_instance(session, "missing") is None
        assert _seed_not_due


def test_skip_locked_gives_disjoint_claims(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        if not is_postgres(session):
            pytest.skip("SKIP LOCKED is PostgreSQL only; SQLite serializes writers instead")
        ids = _seed(session, 6)
    now = T0 + timedelta(hours=1)
    a, b = session_factory(), session_factory()
    try:
        claimed_a = {i.id for i in claim_due_instances(a, now, limit=4)}
        claimed_b = {i.id for i in claim_due_instances(b, now, limit=10)}
        assert len(claimed_a) == 4 and len(claimed_b) == 2
        assert claimed_a.isdisjoint(claimed_b) and claimed_a | claimed_b == set(ids)
        # The single-row claim skips too: B cannot take one of A's rows, nor wait for it.
        assert lock_instance(b, next(iter(claimed_a))) is None
        assert lock_instance(b, next(iter(claimed_b))) is not None
        a.rollback()
        assert lock_instance(b, next(iter(claimed_a))) is not None
    finally:
        a.close()
        b.close()


def test_concurrent_timer_workers_fire_each_instance_once(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        ids = _seed(session, 12)
    now = T0 + timedelta(hours=1)
    fired: list[tuple[int, str]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker(n: int) -> None:
        try:
            start.wait(timeout=10)
            while True:
                with session_factory.begin() as session:
                    batch = claim_due_instances(session, now, limit=2)
                    if not batch:
                        return
                    for instance in batch:
                        fired.append((n, instance.id))
                        instance.next_due_at = None
                        instance.updated_at = now
                    time.sleep(0.01)  # hold the claim a moment so the workers overlap
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(i for _, i in fired) == sorted(ids)  # each exactly once


def test_concurrent_read_modify_write_never_loses_an_update(session_factory: sessionmaker[Session]) -> None:
    """SQLite: BEGIN IMMEDIATE queues the writers, both succeed. PostgreSQL: the loser gets StaleDataError."""
    with session_factory.begin() as session:
        (iid,) = _seed(session, 1)
        postgres = is_postgres(session)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def bump() -> None:
        start.wait(timeout=10)
        try:
            with session_factory.begin() as session:
                row = session.get_one(Instance, iid)
                n = row.state["n"]
                time.sleep(0.2)  # both have read before either writes (when they can overlap)
                row.state = {"n": n + 1}
            outcomes.append("ok")
        except StaleDataError:
            outcomes.append("stale")
        except Exception as exc:  # e.g. "database is locked" if the SQLite recipe were missing
            outcomes.append(f"error: {exc}")

    threads = [threading.Thread(target=bump) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    with session_factory() as session:
        final = session.get_one(Instance, iid)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    assert final.state["n"] == outcomes.count("ok")
    if postgres:
        assert sorted(outcomes) == ["ok", "stale"]
    else:
        assert outcomes == ["ok", "ok"]
