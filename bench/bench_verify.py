"""Verifying the bundled pathway: time, states and steps per track group, on this machine.

Issue 7 asks for the whole bundled pathway to be verified exhaustively in under 60 s on two
cores. This prints, per track group, the states and steps explored and how long it took, with a
progress bar, then the ratio of the explorer's cost per step to the engine's own cost for one
step (one task completed on a restored snapshot, measured in the same run): what the search adds
over SpiffWorkflow. A bound hit is printed as NOT EXHAUSTIVE, never as a pass.

    .venv/bin/python bench/bench_verify.py [--max-states 200000] [--horizon P10Y] [--track GM_Triage]
                                           [--search shortest|coverage]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from engine.clock import SimulatedClock
from engine.isotime import parse_duration
from engine.models.bundle import collect_files, load_bundle
from engine.runtime import PathwayRuntime
from engine.verify.explorer import Options
from engine.verify.progress import Bar
from engine.verify.report import bounds
from engine.verify.snapshot import Snapshots
from engine.verify.verifier import verify

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 60.0


def engine_step_seconds(files: dict[str, bytes], rounds: int = 200) -> float:
    """One engine step as the explorer takes it: restore a snapshot after intake, complete a task."""
    bundle = load_bundle(files)
    clock = SimulatedClock(Options().start)
    runtime = PathwayRuntime.start(bundle, clock, {})
    snapshots = Snapshots(bundle)
    snapshot = snapshots.take(runtime)
    began = time.perf_counter()
    for _ in range(rounds):
        copy = snapshots.restore(snapshot, SimulatedClock(Options().start))
        task = copy.ready_human_tasks()[0]
        try:
            copy.complete_task(task["id"], {})
        except Exception:  # noqa: BLE001 - a refused empty form still costs the step
            pass
    return (time.perf_counter() - began) / rounds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-states", type=int, default=200_000)
    parser.add_argument("--horizon", default="P10Y")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--track", action="append", default=[])
    parser.add_argument("--search", choices=("shortest", "coverage"), default="shortest")
    args = parser.parse_args()
    files = collect_files([ROOT / "pathways", ROOT / "dmn"])
    options = Options(horizon=parse_duration(args.horizon), max_states=args.max_states, search=args.search)
    with Bar() as bar:
        report = verify(files, options, workers=args.workers, progress=bar.update, tracks=args.track)
    step = engine_step_seconds(files)
    print(f"{'track group':40} {'states':>8} {'steps':>8} {'seconds':>8} {'ms/step':>8}")
    for group in report.groups:
        r = group.result
        per = 1000 * r.seconds / max(1, r.transitions)
        print(f"{group.name[:40]:40} {r.states:8} {r.transitions:8} {r.seconds:8.1f} {per:8.2f}"
              f"{'  NOT EXHAUSTIVE' if r.capped else ''}")
    steps = sum(g.result.transitions for g in report.groups)
    busy = sum(g.result.seconds for g in report.groups)
    print(f"engine step alone: {1000 * step:.2f} ms; explorer per step / engine step: "
          f"{busy / max(1, steps) / step:.2f}x")
    print(bounds(report))
    total = len(report.elements)
    print(f"elements reached: {total - len(report.unreached)} of {total} ({args.search} order)")
    verdict = "within" if report.exhaustive and report.seconds <= TARGET_SECONDS else "NOT within"
    print(f"wall clock {report.seconds:.1f} s: {verdict} the {TARGET_SECONDS:.0f} s exhaustive target; "
          f"{len(report.findings)} violation(s), {len(report.errors)} error(s)")


if __name__ == "__main__":
    main()
