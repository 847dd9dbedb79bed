"""The declared property ``no-denosumab-dose-without-a-passed-pre-dose-check`` (issue 8 finding 4)
watches a real path: quiet on the bundled pathway, and it names the step when the pre-dose gate
is broken. The exploration reaches the denosumab course only deep in the bone group, so this
replays the path directly through the monitor the verifier uses."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.clock import SimulatedClock
from engine.forms import validate_submission
from engine.isotime import parse_duration
from engine.models.bundle import collect_files, load_bundle
from engine.runtime import PathwayRuntime
from engine.verify.events import step_events, task_states
from engine.verify.properties import Monitor, StepFacts, load_for_model, observe

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = yaml.safe_load((ROOT / "tests" / "scenarios" / "_defaults.yaml").read_text())
PROPERTY = "no-denosumab-dose-without-a-passed-pre-dose-check"
GIVE = '${preDoseCheck.doseCheck = "GIVE"}'


def on(clock: SimulatedClock, value: Any) -> Any:
    """The scenario defaults' relative dates (``today``, ``today+P7D``) on the simulated clock."""
    if not (isinstance(value, str) and value.startswith("today")):
        return value
    midnight = datetime.combine(clock.now().date(), time(), UTC)
    if value == "today":
        return midnight.date().isoformat()
    assert value.startswith("today+"), value
    return parse_duration(value[6:]).add_to(midnight, UTC).date().isoformat()


def files(broken: bool) -> dict[str, bytes]:
    found = collect_files([ROOT / "pathways", ROOT / "dmn"])
    if broken:  # a lead's slip: everything but "check first" counts as "give", a held dose included
        text = found["denosumab.bpmn"].decode()
        assert text.count(GIVE) == 2
        found["denosumab.bpmn"] = text.replace(GIVE, '${preDoseCheck.doseCheck != "CHECK_FIRST"}').encode()
    return found


def breaches_along_the_path(broken: bool) -> list[str]:
    sources = files(broken)
    bundle = load_bundle(sources, lint=False)
    properties = [p for p in load_for_model({n: t.decode() for n, t in sources.items() if n.endswith(".safety.yaml")},
                                            bundle.model) if p.id == PROPERTY]
    assert properties, "the property is declared"
    clock = SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    runtime = PathwayRuntime.start(bundle, clock, {})
    monitor, found = Monitor(), []
    answers = {
        **DEFAULTS,
        "UT4_Prescribe": {**DEFAULTS["UT4_Prescribe"], "therapyClass": "DENOSUMAB", "chosenAgent": "denosumab"},
        # uncorrected hypocalcaemia: DT10c says CORRECT_FIRST, the dose must not be offered
        "UT_FirstPreDoseCheck": {"eGFR": 25, "preDoseCalcium": 7.2, "hypocalcemiaUncorrected": True},
    }
    for element in ("UT1_Intake", "UT3_Workup", "UT4_Prescribe", "UT_PrescriptionReview", "UT_FirstPreDoseCheck"):
        task = next((t for t in runtime.ready_human_tasks() if t["elementId"] == element), None)
        if task is None:
            continue  # e.g. no prescription review when DT4d finds the prescription consistent
        before = task_states(runtime.workflow)
        form_ids = {f["id"] for f in (task["form"] or {}).get("fields", [])}
        submitted = {k: on(clock, v) for k, v in answers.get(element, {}).items() if k in form_ids}
        runtime.complete_task(task["id"], validate_submission(task["form"], submitted))
        facts = StepFacts(step_events(before, task_states(runtime.workflow)), None,
                          runtime.status != "running", runtime.data, clock.now(), clock)
        found += [f"{element}: {b.message}" for b in observe(properties, monitor, facts)]
    ready = {t["elementId"] for t in runtime.ready_human_tasks()}
    assert ("UT11_FirstDose" in ready) == broken and ("UT_FirstDoseHeld" in ready) != broken
    return found


def test_the_bundled_pathway_holds_the_dose_and_the_property_stays_quiet() -> None:
    assert breaches_along_the_path(broken=False) == []


def test_a_broken_gate_is_caught_at_the_check_that_let_the_dose_through() -> None:
    found = breaches_along_the_path(broken=True)
    assert len(found) == 1 and found[0].startswith("UT_FirstPreDoseCheck: 'UT11_FirstDose ready or UT11_Dose ready")


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
