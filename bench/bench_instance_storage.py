"""Instance storage: our spec-less state vs SpiffWorkflow's own serializer, in the same run.

Measures bytes per stored instance and the time to save and load one, for the engine's
acceptance pathway paused mid-way (sub-process running, boundary timers waiting). Prints
ratios (ours / library), so the numbers compare like with like on whatever machine runs it.

    .venv/bin/python bench/bench_instance_storage.py [--rounds 2000]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, date, datetime
from pathlib import Path

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG

from engine.clock import SimulatedClock
from engine.models.bundle import load_bundle_from_paths
from engine.models.serializer import make_serializer
from engine.runtime import PathwayRuntime

BUNDLE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "bundle"


def library_serializer() -> BpmnWorkflowSerializer:
    # Our registry (it knows our spec classes and value types) with the library's own workflow
    # converter put back: the baseline embeds and restores the spec with every instance.
    serializer = make_serializer()
    CAMUNDA_CONFIG[BpmnWorkflow](BpmnWorkflow, serializer.registry)
    return serializer


def timed(rounds: int, action) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        action()
    return (time.perf_counter() - start) / rounds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2000)
    rounds = parser.parse_args().rounds

    clock = SimulatedClock(datetime(2026, 1, 5, 9, tzinfo=UTC))
    bundle = load_bundle_from_paths([BUNDLE])
    runtime = PathwayRuntime.start(bundle, clock, {"painScore": 4, "neuroDeficit": False,
                                                   "fractureDate": date(2026, 1, 1)})
    theirs = library_serializer()

    ours_state = json.dumps(runtime.dump())
    their_state = theirs.serialize_json(runtime.workflow)
    spec_once = json.dumps(bundle.spec_state())

    save_ours = timed(rounds, lambda: json.dumps(runtime.dump()))
    save_theirs = timed(rounds, lambda: theirs.serialize_json(runtime.workflow))
    load_ours = timed(rounds, lambda: PathwayRuntime.load(json.loads(ours_state), bundle, clock))
    load_theirs = timed(rounds, lambda: theirs.deserialize_json(their_state))

    print(f"bytes per instance: ours {len(ours_state)}, library {len(their_state)}, "
          f"ratio {len(ours_state) / len(their_state):.2f} (spec stored once per definition: {len(spec_once)})")
    print(f"save: ours {save_ours * 1e3:.3f} ms, library {save_theirs * 1e3:.3f} ms, ratio {save_ours / save_theirs:.2f}")
    print(f"load: ours {load_ours * 1e3:.3f} ms, library {load_theirs * 1e3:.3f} ms, ratio {load_ours / load_theirs:.2f}")


if __name__ == "__main__":
    main()
