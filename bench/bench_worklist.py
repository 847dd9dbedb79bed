"""Worklist pages at growing populations, in one run: the cost of a page must follow the page,
not the database (issue 10 target: p95 flat from 1k to 100k active pathways).

Each size is a fresh database holding N active pathways, each with 3 ready tasks (clinician,
coordinator, both) and 6 completed ones (months of history), inserted in bulk in the shape
``replace_ready_tasks`` keeps (tasks, their groups, the per-group index of ready tasks). A
coordinator's queries are then timed: the group's work due within a week, the next page by
cursor, a deep page (the 20th), and all ready work. Prints p50/p95 per size and the ratio of
each size's p95 to the smallest size's.

    .venv/bin/python bench/bench_worklist.py [--sizes 1000,10000] [--postgres] [--repeat 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.orm import Session, sessionmaker

from engine.store import (
    Instance,
    Patient,
    Task,
    TaskCandidateGroup,
    content_sha256,
    query_tasks,
    store_definition,
)
from engine.store.db import make_engine, make_session_factory, upgrade
from engine.store.models import UNDATED, ReadyTaskGroup

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
GROUPS = (["clinician"], ["coordinator"], ["clinician", "coordinator"])
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def seed(factory: sessionmaker[Session], pathways: int) -> None:
    with factory.begin() as session:
        sources = {"p.bpmn": "<x/>"}
        definition, _ = store_definition(session, "p", None, content_sha256(sources), {}, sources, None, NOW)
        definition_id = definition.id
    batch = 2000
    for start in range(0, pathways, batch):
        patients, instances, tasks, groups, ready = [], [], [], [], []
        for n in range(start, min(start + batch, pathways)):
            pid, iid = str(uuid.uuid4()), str(uuid.uuid4())
            patients.append({"id": pid, "external_id": f"MRN{n}", "created_at": NOW})
            instances.append({"id": iid, "definition_id": definition_id, "patient_id": pid, "status": "running",
                              "state": {}, "serializer_version": "1.5", "created_at": NOW, "updated_at": NOW,
                              "version": 1})
            for k in range(9):
                ready_now = k < 3
                due = None if (n + k) % 11 == 0 else NOW + timedelta(hours=(n * 7 + k * 13) % (24 * 60) - 24 * 10)
                tid = str(uuid.uuid4())
                created = NOW - timedelta(days=k)
                tasks.append({"id": tid, "instance_id": iid, "patient_id": pid, "element_id": f"UT{k}",
                              "name": f"Task {k}", "status": "ready" if ready_now else "completed",
                              "candidate_users": [], "priority": 50 + k, "due_at": due,
                              "due_order": due or UNDATED, "created_at": created, "version": 1,
                              "completed_at": None if ready_now else NOW})
                for group in GROUPS[k % 3]:
                    groups.append({"task_id": tid, "group_name": group})
                    if ready_now:
                        ready.append({"group_name": group, "due_order": due or UNDATED, "created_at": created,
                                      "task_id": tid})
        with factory.begin() as session:
            for table, rows in ((Patient, patients), (Instance, instances), (Task, tasks),
                                (TaskCandidateGroup, groups), (ReadyTaskGroup, ready)):
                session.execute(insert(table), rows)
    with factory.begin() as session:
        session.execute(text("ANALYZE"))


def timings(factory: sessionmaker[Session], query: Callable[[Session], object], repeat: int) -> list[float]:
    found = []
    with factory() as session:
        query(session)  # warm
        for _ in range(repeat):
            began = time.perf_counter()
            query(session)
            found.append((time.perf_counter() - began) * 1000)
    return found


def queries(factory: sessionmaker[Session]) -> dict[str, Callable[[Session], object]]:
    def group_week(session: Session) -> object:
        return query_tasks(session, candidate_group="clinician", due_before=NOW + timedelta(days=7), limit=50)

    with factory() as session:
        cursor = group_week(session).next_cursor
        deep = None
        for _ in range(19):
            deep = query_tasks(session, candidate_group="clinician", limit=50, after_cursor=deep).next_cursor
    return {
        "group, due within a week": group_week,
        "group, next page": lambda s: query_tasks(s, candidate_group="clinician", due_before=NOW + timedelta(days=7),
                                                  limit=50, after_cursor=cursor),
        "group, 20th page": lambda s: query_tasks(s, candidate_group="clinician", limit=50, after_cursor=deep),
        "all ready work": lambda s: query_tasks(s, limit=50),
        "overdue": lambda s: query_tasks(s, overdue_at=NOW, limit=50),
    }


def database(kind: str, folder: Path, size: int) -> tuple[str, Callable[[], None]]:
    if kind == "sqlite":
        return f"sqlite:///{folder / f'worklist{size}.db'}", lambda: None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return f"{PG_URL}?options=-csearch_path%3D{schema}", drop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL at 127.0.0.1:5432/test")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    folder = Path(tempfile.mkdtemp())
    for kind in ["sqlite"] + (["postgresql"] if args.postgres else []):
        base: dict[str, float] = {}
        print(f"-- {kind}: p50 / p95 ms per page of 50 (ratio of p95 to {sizes[0]} pathways)")
        for size in sizes:
            url, cleanup = database(kind, folder, size)
            engine = make_engine(url)
            try:
                upgrade(engine)
                factory = make_session_factory(engine)
                began = time.perf_counter()
                seed(factory, size)
                print(f"{size:>7} active pathways ({size * 9} tasks) seeded in {time.perf_counter() - began:.1f} s")
                for name, query in queries(factory).items():
                    found = sorted(timings(factory, query, args.repeat))
                    p50, p95 = statistics.median(found), found[int(len(found) * 0.95) - 1]
                    base.setdefault(name, p95)
                    print(f"    {name:<26} {p50:6.2f} / {p95:6.2f}   x{p95 / base[name]:.2f}")
            finally:
                engine.dispose()
                cleanup()


if __name__ == "__main__":
    main()
