"""Completions and stored bytes: the service layer against the engine's own step, in one run.

1. Completions per second of the OVCF intake task with the same answers:
   - the engine's in-memory step (``PathwayRuntime.complete_task`` on a workflow already loaded);
   - the engine with its state loaded and saved as JSON around the step (what any persistent
     engine pays);
   - the service layer (``Service.complete``: lock, load, fire what is due, step, save the state,
     the task projection and the audit event, one transaction) on SQLite and PostgreSQL.
2. Bytes stored per active pathway after enrolment and after a simulated year of weekly care
   (every open task answered with the demo's sample answers): pathway state and task rows, and
   the audit trail (the history) apart.

    .venv/bin/python bench/bench_commands.py [--pathways 200] [--year-pathways 10] [--postgres]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pgschema import fresh_schema
from sqlalchemy import text

from api.demo import sample_answer
from engine.clock import SimulatedClock
from engine.forms import validate_submission
from engine.models.bundle import collect_files, load_bundle
from engine.runtime import PathwayRuntime
from engine.wiring import open_service

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
START = {"fractureDate": date(2026, 5, 1), "painScore": 6, "neuroDeficit": False}
TABLES = ("instances", "tasks", "task_candidate_groups", "ready_task_groups")


def engine_rates(bundle, answers: dict, count: int) -> tuple[float, float]:
    clock = SimulatedClock(NOW)
    runtimes = [PathwayRuntime.start(bundle, clock, dict(START)) for _ in range(count)]
    states = [r.dump() for r in runtimes]
    began = time.perf_counter()
    for runtime in runtimes:
        (task,) = runtime.ready_human_tasks()
        runtime.complete_task(task["id"], answers)
    in_memory = count / (time.perf_counter() - began)
    began = time.perf_counter()
    for state in states:
        runtime = PathwayRuntime.load(json.loads(json.dumps(state)), bundle, clock)
        (task,) = runtime.ready_human_tasks()
        runtime.complete_task(task["id"], answers)
        json.dumps(runtime.dump())
    persisted = count / (time.perf_counter() - began)
    return in_memory, persisted


def service_rate(url: str, files: dict, count: int) -> tuple[float, float]:
    runtime = open_service(url, clock=SimulatedClock(NOW))
    svc = runtime.service
    svc.deploy(files, actor="bench")
    rows = [{"external_id": f"MRN{n:06d}", "variables": dict(START)} for n in range(count)]
    for batch in range(0, count, 100):
        svc.enrol_new_patients(rows[batch:batch + 100], "ovcf_pathway", actor="bench")
    tasks = svc.tasks(limit=1000)["items"]
    answers = sample_answer(svc.task(tasks[0]["id"])["form"], NOW.date())
    times = []
    for task in tasks[:count]:
        began = time.perf_counter()
        svc.complete(task["id"], answers, actor="bench")
        times.append(time.perf_counter() - began)
    runtime.engine.dispose()
    return count / sum(times), statistics.median(times) * 1000


def table_bytes(runtime, tables: tuple[str, ...]) -> int:
    with runtime.engine.connect() as conn:
        if runtime.engine.dialect.name == "sqlite":
            return sum(conn.execute(text("SELECT COALESCE(SUM(d.pgsize), 0) FROM dbstat d JOIN sqlite_master m "
                                         "ON d.name = m.name WHERE m.tbl_name = :t"), {"t": t}).scalar()
                       for t in tables)
        return sum(conn.execute(text("SELECT pg_total_relation_size(to_regclass(:t))"), {"t": t}).scalar() or 0
                   for t in tables)


def year_of_care(url: str, files: dict, count: int) -> list[tuple[str, float, float, float]]:
    clock = SimulatedClock(NOW)
    runtime = open_service(url, clock=clock)
    svc = runtime.service
    svc.deploy(files, actor="bench")
    svc.enrol_new_patients([{"external_id": f"Y{n}", "variables": dict(START)} for n in range(count)],
                           "ovcf_pathway", actor="bench")
    found = [("after enrolment", *_per_pathway(runtime, svc, count))]
    for week in range(1, 53):
        clock.advance(timedelta(days=7))
        svc.fire_due_timers()
        for task in svc.tasks(limit=1000)["items"]:
            try:
                svc.complete(task["id"], sample_answer(svc.task(task["id"])["form"], clock.today()), actor="bench")
            except Exception:  # noqa: BLE001, S112 - a sample answer a later rule refuses: leave it open
                continue
        if runtime.engine.dialect.name == "postgresql":
            # a simulated week passes in seconds; a real one has autovacuum visit these tables
            # many times (migration 0006: after 1% of their rows are dead), so vacuum as it would
            _vacuum(runtime, "VACUUM")
        if week in (13, 52):
            found.append((f"after {week} weeks", *_per_pathway(runtime, svc, count)))
    if runtime.engine.dialect.name == "postgresql":  # the live rows alone, packed
        _vacuum(runtime, "VACUUM FULL")
        found.append(("  (VACUUM FULL)", *_per_pathway(runtime, svc, count)))
    runtime.engine.dispose()
    return found


def _vacuum(runtime, command: str) -> None:
    with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in (*TABLES, "audit_events"):
            conn.execute(text(f"{command} {table}"))


def _per_pathway(runtime, svc, count: int) -> tuple[float, float, float]:
    with svc.ctx.session_factory() as session:
        states = [len(s) if isinstance(s, str) else len(json.dumps(s))
                  for (s,) in session.execute(text("SELECT state FROM instances"))]
    return (statistics.mean(states) / 1024, table_bytes(runtime, TABLES) / count / 1024,
            table_bytes(runtime, ("audit_events",)) / count / 1024)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pathways", type=int, default=200)
    parser.add_argument("--year-pathways", type=int, default=10)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    files = collect_files([ROOT / "pathways", ROOT / "dmn"])
    bundle = load_bundle(files)
    probe = PathwayRuntime.start(bundle, SimulatedClock(NOW), dict(START))
    form = probe.ready_human_tasks()[0]["form"]
    answers = validate_submission(form, sample_answer(form, NOW.date()))  # typed, as the service passes them

    targets = [("SQLite", lambda: f"sqlite:///{tempfile.mkdtemp()}/bench.db")]
    if args.postgres:
        targets.append(("PostgreSQL", fresh_schema))

    in_memory, persisted = engine_rates(bundle, answers, args.pathways)
    print(f"completion of the intake task, {args.pathways} pathways")
    print(f"  engine in memory          {in_memory:7.1f} /s   1.00x")
    print(f"  engine + JSON load/save   {persisted:7.1f} /s   {in_memory / persisted:.2f}x")
    for name, url in targets:
        rate, median_ms = service_rate(url(), files, args.pathways)
        print(f"  service, {name:<16} {rate:7.1f} /s   {in_memory / rate:.2f}x   (median {median_ms:.1f} ms)")
    for name, url in targets:
        print(f"bytes per pathway, {name}, {args.year_pathways} pathways: state (JSON) / state+task tables / audit")
        for label, state_kb, live_kb, audit_kb in year_of_care(url(), files, args.year_pathways):
            print(f"  {label:<16} {state_kb:7.1f} KB  {live_kb:7.1f} KB  {audit_kb:7.1f} KB")


if __name__ == "__main__":
    main()
