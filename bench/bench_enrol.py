"""Bulk enrolment speed: rows per second through ``engine.bulk`` (patient + pathway start + state,
task projection and audit in one transaction per row) against starting the same pathway in memory
only, in the same run, on the bundled OVCF pathway. Issue 10's target: 100k rows in 10 minutes
(167 rows/s).

    .venv/bin/python bench/bench_enrol.py [--rows 1000] [--postgres]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pgschema import fresh_schema

from engine.bulk import enrol_file
from engine.clock import SimulatedClock
from engine.models.bundle import collect_files, load_bundle
from engine.runtime import PathwayRuntime
from engine.wiring import open_service

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def write_rows(path: Path, rows: int) -> None:
    lines = ["externalId,displayName,fractureDate,painScore,neuroDeficit"]
    for n in range(rows):
        fracture = date(2026, 5, 1) + timedelta(days=n % 30)
        lines.append(f"MRN{n:06d},Patient {n},{fracture},{n % 10},false")
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    files = collect_files([ROOT / "pathways", ROOT / "dmn"])
    bundle = load_bundle(files)
    folder = Path(tempfile.mkdtemp())
    source = folder / "population.csv"
    write_rows(source, args.rows)

    began = time.perf_counter()
    for n in range(args.rows):
        PathwayRuntime.start(bundle, SimulatedClock(NOW), {"fractureDate": date(2026, 5, 1), "painScore": n % 10,
                                                           "neuroDeficit": False})
    engine_rate = args.rows / (time.perf_counter() - began)
    print(f"engine only (start in memory): {engine_rate:8.1f} rows/s")

    targets = [("sqlite", f"sqlite:///{folder / 'enrol.db'}")]
    if args.postgres:
        targets.append(("postgresql", fresh_schema()))
    for name, url in targets:
        runtime = open_service(url, clock=SimulatedClock(NOW))
        runtime.service.deploy(files, actor="bench")
        began = time.perf_counter()
        report = enrol_file(runtime.service, source, "ovcf_pathway", actor="bench")
        seconds = time.perf_counter() - began
        assert report.enrolled == args.rows, report.refused[:3]
        rate = args.rows / seconds
        print(f"{name:<10} bulk enrolment: {rate:8.1f} rows/s  (x{engine_rate / rate:.1f} the engine's cost; "
              f"100k rows would take {100_000 / rate / 60:.1f} min)")
        runtime.engine.dispose()


if __name__ == "__main__":
    main()
