"""Worklist queries read in index order: the database never sorts the tasks to find a page, so
a page costs the same at 1k and 100k tasks (bench/bench_worklist.py measures it). Checked on the
query plans of both databases; on PostgreSQL with sequential and bitmap scans priced out, so the test asks
"can an index give this order", not "does the planner like it on a tiny table"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session, sessionmaker

from engine.store import (
    add_instance,
    add_patient,
    content_sha256,
    query_tasks,
    replace_ready_tasks,
    store_definition,
)

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def _seed(session: Session, pathways: int = 60) -> None:
    sources = {"p.bpmn": "<x/>"}
    definition, _ = store_definition(session, "p", None, content_sha256(sources), {}, sources, None, T0)
    for n in range(pathways):
        patient = add_patient(session, external_id=f"P{n}", now=T0)
        instance = add_instance(session, definition=definition, state={}, serializer_version="1.5", now=T0,
                                patient_id=patient.id)
        tasks = [{"id": f"{n}-{k}", "element_id": "Review", "candidate_groups": [["nurse"], ["gp"], ["nurse", "gp"]][k],
                  "due_at": None if (n + k) % 7 == 0 else T0 + timedelta(hours=n * 3 + k), "created_at": T0}
                 for k in range(3)]
        replace_ready_tasks(session, instance.id, tasks, T0)
        if n % 2:  # history: half the pathways' first task is done
            replace_ready_tasks(session, instance.id, tasks[1:], T0, completed_ids=[tasks[0]["id"]])


@contextmanager
def captured(session: Session) -> Iterator[list[tuple[str, Any]]]:
    found: list[tuple[str, Any]] = []
    engine = session.get_bind()

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT") and "FROM tasks" in statement:
            found.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plan(session: Session, statement: str, parameters: Any) -> str:
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        return "\n".join(str(r[-1]) for r in rows)
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
    found = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
    return json.dumps(found if not isinstance(found, str) else json.loads(found))


def sorts(session: Session, explained: str) -> bool:
    if session.connection().dialect.name == "sqlite":
        return "TEMP B-TREE FOR ORDER BY" in explained
    return '"Node Type": "Sort"' in explained or '"Node Type": "Incremental Sort"' in explained


CASES = {
    "all ready work": {},
    "one group": {"candidate_group": "nurse"},
    "one group, overdue": {"candidate_group": "gp", "overdue_at": T0 + timedelta(days=2)},
    "one group, due window": {"candidate_group": "nurse", "due_after": T0, "due_before": T0 + timedelta(days=3)},
    "ready, due before": {"due_before": T0 + timedelta(days=1)},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_worklist_page_is_read_in_index_order(session_factory: sessionmaker[Session], case: str) -> None:
    with session_factory.begin() as session:
        _seed(session)
        if session.connection().dialect.name == "postgresql":
            session.execute(text("ANALYZE"))
    with session_factory.begin() as session:
        with captured(session) as seen:
            first = query_tasks(session, limit=5, **CASES[case])
            query_tasks(session, limit=5, after_cursor=first.next_cursor, **CASES[case])
        assert len(seen) >= 2 and first.next_cursor
        for statement, parameters in seen[:2]:  # the first page and the next (keyset) one
            explained = plan(session, statement, parameters)
            assert not sorts(session, explained), f"{case}: the database sorts the tasks\n{explained}"
            assert "ix_tasks_worklist" in explained or "ready_task_groups" in explained, explained
        if session.connection().dialect.name == "sqlite":  # the next page enters the index at the cursor
            assert "due_order>?" in plan(session, *seen[1]).replace(" ", ""), plan(session, *seen[1])
