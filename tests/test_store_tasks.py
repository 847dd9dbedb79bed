"""The task projection: upserts, filters, ordering and cursor pagination, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.store import (
    Task,
    TaskCandidateGroup,
    TaskStatus,
    add_instance,
    add_patient,
    content_sha256,
    decode_cursor,
    get_task,
    query_tasks,
    replace_ready_tasks,
    store_definition,
)

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def _instance(session: Session, external_id: str = "P1") -> tuple[str, str]:
    sources = {"p.bpmn": "<x/>"}
    definition, _ = store_definition(session, "p", None, content_sha256(sources), {}, sources, None, T0)
    patient = add_patient(session, external_id=external_id, now=T0)
    instance = add_instance(
        session, definition=definition, state={}, serializer_version="1.5", now=T0, patient_id=patient.id
    )
    return instance.id, patient.id


def _task(task_id: str, **kw) -> dict:
    return {"id": task_id, "element_id": kw.pop("element_id", "Review"), "name": "Review", **kw}


def test_replace_ready_tasks_inserts_updates_and_closes(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        iid, pid = _instance(session)
        changes = replace_ready_tasks(
            session,
            iid,
            [
                _task(
                    "t1", candidate_groups=["nurse", "gp"], due_at=T0 + timedelta(days=1), form={"fields": []}
                ),
                _task("t2", assignee="bob", candidate_users=["bob"], priority=50),
                _task("t3"),
            ],
            T0,
        )
        assert sorted(changes.created) == ["t1", "t2", "t3"]

    with session_factory() as session:
        t1 = get_task(session, "t1")
        assert t1 is not None
        assert t1.patient_id == pid and t1.status == TaskStatus.READY and t1.version == 1
        assert t1.candidate_groups == ["gp", "nurse"] and t1.form == {"fields": []}
        assert t1.due_at == T0 + timedelta(days=1) and t1.created_at == T0
        t2 = get_task(session, "t2")
        assert t2 is not None and t2.candidate_users == ["bob"] and t2.priority == 50

    later = T0 + timedelta(hours=2)
    with session_factory.begin() as session:
        # A claim recorded only in the projection must survive a refresh that omits assignee.
        claimed = get_task(session, "t3")
        assert claimed is not None
        claimed.assignee = "carol"
        session.flush()
        changes = replace_ready_tasks(
            session,
            iid,
            [
                _task("t1", candidate_groups=["gp", "lead"], due_at=T0 + timedelta(days=2)),
                _task("t3"),
                _task("t4", due_at=None),
            ],
            later,
            completed_ids={"t2"},
            completed_by="bob",
        )
        assert changes.created == ["t4"] and changes.updated == ["t1"]
        assert changes.completed == ["t2"] and changes.cancelled == []

    with session_factory() as session:
        t1, t2, t3 = (get_task(session, i) for i in ("t1", "t2", "t3"))
        assert t1 is not None and t2 is not None and t3 is not None
        assert t1.candidate_groups == ["gp", "lead"] and t1.due_at == T0 + timedelta(days=2)
        assert t1.version == 2  # ETag moved
        assert (t2.status, t2.completed_by, t2.completed_at) == (TaskStatus.COMPLETED, "bob", later)
        assert t3.assignee == "carol" and t3.version == 2

    with session_factory.begin() as session:
        changes = replace_ready_tasks(session, iid, [], later)
        assert sorted(changes.cancelled) == ["t1", "t3", "t4"]
    with session_factory() as session:
        statuses = {tid: status for tid, status in session.execute(select(Task.id, Task.status))}
        assert statuses == {"t1": "cancelled", "t2": "completed", "t3": "cancelled", "t4": "cancelled"}
        # Group rows of a task stay with it; a reopened task keeps its groups.
        assert session.scalar(select(TaskCandidateGroup.group_name).where(TaskCandidateGroup.task_id == "t1"))

    with session_factory.begin() as session:
        changes = replace_ready_tasks(session, iid, [_task("t1")], later)
        assert changes.updated == ["t1"]
    with session_factory() as session:
        t1 = get_task(session, "t1")
        assert t1 is not None and t1.status == TaskStatus.READY and t1.completed_at is None


def test_priority_order_pages_by_its_own_cursor(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        due_order = _seed_worklist(session)
        iid, _ = _instance(session, "P9")
        # 80 and 20 around tasks without a priority (Camunda's default, 50)
        replace_ready_tasks(session, iid, [_task("hi", due_at=T0 + timedelta(days=9), priority=80),
                                           _task("lo", due_at=T0, priority=20),
                                           _task("mid", due_at=T0 + timedelta(days=5), priority=50)], T0)
    # the default-priority tasks keep due order among themselves: mid (day 5) after the day-2 ones
    defaults = [t for t in due_order if t in "cdbah"] + ["mid"] + [t for t in due_order if t in "egf"]
    with session_factory() as session:
        everything = query_tasks(session, limit=100, order="priority")
        assert [t.id for t in everything.items] == ["hi", *defaults, "lo"]
        seen, cursor = [], None
        while True:
            page = query_tasks(session, limit=2, order="priority", after_cursor=cursor)
            seen += [t.id for t in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == [t.id for t in everything.items]
        due_cursor = query_tasks(session, limit=2).next_cursor
        with pytest.raises(ValueError, match="another sort order"):
            query_tasks(session, order="priority", after_cursor=due_cursor)
        with pytest.raises(ValueError, match="unknown order"):
            query_tasks(session, order="name")


def _seed_worklist(session: Session) -> list[str]:
    """Tasks with due ties, no-due tasks and created_at ties; returns the expected order."""
    iid, _ = _instance(session)
    iid2, pid2 = _instance(session, "P2")
    d1, d2 = T0 + timedelta(days=1), T0 + timedelta(days=2)
    c0, c1 = T0, T0 + timedelta(minutes=1)
    specs = [
        # (id, due, created, groups, instance)
        ("a", d2, c0, ["nurse"], iid),
        ("b", d1, c1, ["nurse"], iid),
        ("c", d1, c0, ["gp"], iid),
        ("d", d1, c0, ["nurse", "gp"], iid2),
        ("e", None, c0, ["nurse"], iid2),
        ("f", None, c1, ["gp"], iid),
        ("g", None, c0, ["lead"], iid),
        ("h", d2, c0, ["nurse"], iid2),
    ]
    for instance_id in (iid, iid2):
        tasks = [
            _task(
                tid,
                due_at=due,
                created_at=created,
                candidate_groups=groups,
                assignee="zoe" if tid == "h" else None,
            )
            for tid, due, created, groups, owner in specs
            if owner == instance_id
        ]
        replace_ready_tasks(session, instance_id, tasks, T0)
    return ["c", "d", "b", "a", "h", "e", "g", "f"]


def test_query_order_filters_and_pagination(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        expected = _seed_worklist(session)
    with session_factory() as session:
        page = query_tasks(session, limit=100)
        assert [t.id for t in page.items] == expected and page.next_cursor is None

        for size in (1, 2, 3, 5):
            seen, cursor = [], None
            while True:
                page = query_tasks(session, limit=size, after_cursor=cursor)
                seen += [t.id for t in page.items]
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            assert seen == expected, size

        nurse = [t.id for t in query_tasks(session, candidate_group="nurse").items]
        assert nurse == ["d", "b", "a", "h", "e"]
        assert [t.id for t in query_tasks(session, candidate_group=["gp", "lead"]).items] == [
            "c",
            "d",
            "g",
            "f",
        ]
        assert [t.id for t in query_tasks(session, assignee="zoe").items] == ["h"]
        d1 = T0 + timedelta(days=1)
        assert [t.id for t in query_tasks(session, due_before=T0 + timedelta(days=2)).items] == [
            "c",
            "d",
            "b",
        ]
        assert [t.id for t in query_tasks(session, due_after=d1).items] == ["a", "h"]
        assert [t.id for t in query_tasks(session, overdue_at=d1 + timedelta(seconds=1)).items] == [
            "c",
            "d",
            "b",
        ]
        patient2 = get_task(session, "e")
        assert patient2 is not None
        assert [t.id for t in query_tasks(session, patient_id=patient2.patient_id).items] == ["d", "h", "e"]
        assert [t.id for t in query_tasks(session, instance_id=patient2.instance_id).items] == ["d", "h", "e"]
        assert query_tasks(session, status=TaskStatus.COMPLETED).items == []
        assert len(query_tasks(session, status=None).items) == 8

        # Pagination with a filter; the cursor carries the position, not the filter.
        first = query_tasks(session, candidate_group="nurse", limit=2)
        second = query_tasks(session, candidate_group="nurse", limit=2, after_cursor=first.next_cursor)
        assert [t.id for t in first.items + second.items] == ["d", "b", "a", "h"]
        # Groups come back with the page.
        assert query_tasks(session, limit=1).items[0].candidate_groups == ["gp"]


def test_cursor_survives_new_tasks_and_rejects_garbage(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        _seed_worklist(session)
    with session_factory() as session:
        first = query_tasks(session, limit=3)
        assert [t.id for t in first.items] == ["c", "d", "b"]
        assert first.next_cursor is not None
        priority, has_due, due, created, tid = decode_cursor(first.next_cursor)
        assert (priority, has_due, due, created, tid) == (None, True, T0 + timedelta(days=1),
                                                          T0 + timedelta(minutes=1), "b")
    with session_factory.begin() as session:
        # A task inserted before the cursor position does not shift the next page.
        iid, _ = _instance(session, "P3")
        replace_ready_tasks(session, iid, [_task("early", due_at=T0)], T0)
    with session_factory() as session:
        rest = query_tasks(session, limit=100, after_cursor=first.next_cursor)
        assert [t.id for t in rest.items] == ["a", "h", "e", "g", "f"]
        for bad in ("not-base64!", "WzFd", "eyJ4IjoxfQ"):
            with pytest.raises(ValueError, match="invalid cursor"):
                query_tasks(session, after_cursor=bad)
