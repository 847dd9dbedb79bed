"""The declared property ``no-denosumab-dose-without-a-passed-pre-dose-check`` (issue 8 finding 4)
watches a real path: quiet on the bundled pathway, and it names the step when the pre-dose gate
is broken. The exploration reaches the denosumab course only deep in the bone group, so this
replays the path directly through the monitor the verifier uses."""

from __future__ import annotations

from datetime import UTC, datetime

from test_pathway_scenarios import ROOT, bundle_files, task_answers

from engine.clock import SimulatedClock
from engine.models.bundle import load_bundle
from engine.runtime import PathwayRuntime
from engine.verify.events import step_events, task_states
from engine.verify.properties import Monitor, StepFacts, load_for_model, observe

PROPERTY = "no-denosumab-dose-without-a-passed-pre-dose-check"
GIVE = '${preDoseCheck.doseCheck = "GIVE"}'
SAFETY = ROOT / "pathways" / "ovcf_pathway.safety.yaml"
# the path: a denosumab prescription, then uncorrected hypocalcaemia at the first pre-dose check,
# where DT10c says CORRECT_FIRST and the dose must not be offered
PATH = (("UT1_Intake", {}), ("UT3_Workup", {}),
        ("UT4_Prescribe", {"therapyClass": "DENOSUMAB", "chosenAgent": "denosumab"}),
        ("UT_PrescriptionReview", {}),
        ("UT_FirstPreDoseCheck", {"eGFR": 25, "preDoseCalcium": 7.2, "hypocalcemiaUncorrected": True}))


def breaches_along_the_path(broken: bool) -> list[str]:
    files = bundle_files()
    if broken:  # a lead's slip: everything but "check first" counts as "give", a held dose included
        text = files["denosumab.bpmn"].decode()
        assert text.count(GIVE) == 2
        files["denosumab.bpmn"] = text.replace(GIVE, '${preDoseCheck.doseCheck != "CHECK_FIRST"}').encode()
    bundle = load_bundle(files, lint=False)
    properties = [p for p in load_for_model({SAFETY.name: SAFETY.read_text()}, bundle.model) if p.id == PROPERTY]
    assert properties, "the property is declared"
    clock = SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    runtime = PathwayRuntime.start(bundle, clock, {})
    monitor, found = Monitor(), []
    for element, extra in PATH:
        task = next((t for t in runtime.ready_human_tasks() if t["elementId"] == element), None)
        if task is None:
            continue  # e.g. no prescription review when DT4d finds the prescription consistent
        before = task_states(runtime.workflow)
        runtime.complete_task(task["id"], task_answers(task, clock, extra))
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
