"""Overdue timers after downtime: N OVCF pathways enrolled, the clock moved a week on, every
overdue timer fired by 1 worker process, then (on a fresh copy) by 2 on PostgreSQL. Prints the
time, the rate, its ratio to one worker, and the double fires (an instant fired twice: must be 0).
Issue 10's target: 10k overdue timers in 20 s with 2 workers on PostgreSQL.

    .venv/bin/python bench/bench_timers.py [--timers 2000] [--no-sqlite]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pgschema import fresh_schema
from sqlalchemy import select

from engine.clock import SimulatedClock
from engine.models.bundle import collect_files
from engine.store import AuditEvent
from engine.wiring import open_service

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=7)


def populate(url: str, count: int) -> None:
    runtime = open_service(url, clock=SimulatedClock(NOW))
    svc = runtime.service
    svc.deploy(collect_files([ROOT / "pathways", ROOT / "dmn"]), actor="bench")
    rows = [{"external_id": f"T{n:06d}", "variables": {"fractureDate": date(2026, 5, 1), "painScore": 6,
                                                        "neuroDeficit": False}} for n in range(count)]
    for start in range(0, count, 100):
        svc.enrol_new_patients(rows[start:start + 100], "ovcf_pathway", actor="bench")
    runtime.engine.dispose()


def worker(url: str, start: mp.Barrier, done: mp.Queue) -> None:  # type: ignore[type-arg]
    runtime = open_service(url, clock=SimulatedClock(LATER), migrate=False)
    start.wait()
    fired = runtime.service.fire_due_timers(batch=20)
    done.put(len(fired))
    runtime.engine.dispose()


def sweep(url: str, workers: int) -> tuple[float, int, int]:
    context = mp.get_context("spawn")
    start, done = context.Barrier(workers + 1), context.Queue()
    processes = [context.Process(target=worker, args=(url, start, done)) for _ in range(workers)]
    for process in processes:
        process.start()
    start.wait()
    began = time.perf_counter()
    steps = sum(done.get() for _ in processes)
    seconds = time.perf_counter() - began
    for process in processes:
        process.join()
    runtime = open_service(url, migrate=False)
    with runtime.service.ctx.session_factory() as session:
        fired = Counter((e.instance_id, f["elementId"], f["due"]) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "timer.fire")) for f in (e.details or {}).get("fired", []))
    runtime.engine.dispose()
    return seconds, steps, sum(n - 1 for n in fired.values() if n > 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timers", type=int, default=2000, help="pathways, each with an overdue timer")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    runs = [] if args.no_sqlite else [("SQLite", 1, f"sqlite:///{tempfile.mkdtemp()}/timers.db")]
    runs += [("PostgreSQL", 1, fresh_schema()), ("PostgreSQL", 2, fresh_schema())]
    baseline: dict[str, float] = {}
    print(f"{args.timers} pathways with overdue timers, clock moved {LATER - NOW} on")
    for name, workers, url in runs:
        populate(url, args.timers)
        seconds, steps, doubles = sweep(url, workers)
        rate = steps / seconds
        baseline.setdefault(name, rate)
        print(f"  {name:<10} {workers} worker(s): {steps} firings in {seconds:6.1f} s = {rate:6.1f}/s "
              f"(x{rate / baseline[name]:.2f} one worker; 10k would take {10_000 / rate:5.0f} s); "
              f"double fires: {doubles}")


if __name__ == "__main__":
    main()
