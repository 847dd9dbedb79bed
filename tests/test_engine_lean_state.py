"""The saved state keeps what execution and "why this task" need, not every decision's full trace.

Before: each run of a decision kept its whole DRD trace (every required decision's inputs and
outputs) on its task for ever; on the OVCF pathway a year of sample care grew the state to
about 3 MB. The audit trail is the history.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from SpiffWorkflow.util.task import TaskState

from engine.clock import SimulatedClock
from engine.explain import explain
from engine.models.bundle import load_bundle
from engine.runtime import PathwayRuntime

DMN = Path(__file__).parent / "fixtures" / "dmn"

LOOP = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="http://example.org/loop">
  <bpmn:process id="densitometry" name="Repeat densitometry" isExecutable="true">
    <bpmn:startEvent id="Enrolled"/>
    <bpmn:sequenceFlow id="f1" sourceRef="Enrolled" targetRef="Rescan"/>
    <bpmn:businessRuleTask id="Decide" name="Choose therapy" camunda:decisionRef="Decision_Therapy"
        camunda:resultVariable="therapy" camunda:mapDecisionResult="singleEntry"/>
    <bpmn:sequenceFlow id="f2" sourceRef="Decide" targetRef="Offer"/>
    <bpmn:exclusiveGateway id="Offer" name="Therapy?"/>
    <bpmn:sequenceFlow id="f3" sourceRef="Offer" targetRef="Start_drug">
      <bpmn:conditionExpression>${therapy = "start bisphosphonate"}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="Offer" targetRef="Rescan">
      <bpmn:conditionExpression>${therapy != "start bisphosphonate"}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:userTask id="Start_drug" name="Start the bisphosphonate" camunda:candidateGroups="clinician"/>
    <bpmn:sequenceFlow id="f5" sourceRef="Start_drug" targetRef="Done"/>
    <bpmn:endEvent id="Done"/>
    <bpmn:userTask id="Rescan" name="Record the new T-score" camunda:candidateGroups="coordinator">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="tScore" label="T-score" type="long">
          <camunda:validation><camunda:constraint name="required"/></camunda:validation>
        </camunda:formField>
      </camunda:formData></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f6" sourceRef="Rescan" targetRef="Decide"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_each_decision_keeps_only_its_latest_run_and_its_own_trace_entry() -> None:
    files = {"loop.bpmn": LOOP, "bone_density.dmn": (DMN / "bone_density.dmn").read_bytes(),
             "therapy.dmn": (DMN / "therapy.dmn").read_bytes()}
    bundle = load_bundle(files, key="densitometry")
    runtime = PathwayRuntime.start(bundle, SimulatedClock(datetime(2026, 1, 5, 9, tzinfo=UTC)), )
    sizes = []
    for score in (-1, -2, -1, -2, 0, -1):
        (rescan,) = runtime.ready_human_tasks()
        runtime = PathwayRuntime.load(runtime.dump(), bundle, runtime.clock)  # as the service does
        runtime.complete_task(rescan["id"], {"tScore": score})
        sizes.append(len(json.dumps(runtime.dump())))

    records = [t._get_internal_data("decision") for t in runtime.workflow.get_tasks()
               if t.task_spec.name == "Decide" and t.state == TaskState.COMPLETED]
    kept = [r for r in records if r]
    assert len(records) == 6 and len(kept) == 1  # six runs, the latest one recorded
    (record,) = kept
    assert record["decision"] == "Decision_Therapy" and len(record["trace"]) == 1
    assert record["trace"][0]["decision"] == "Decision_Therapy"  # the required decision is not kept here

    # each loop adds the same few tasks, no decision record: growth is the task tree only
    steps = [b - a for a, b in zip(sizes, sizes[1:], strict=False)]
    assert max(steps) - min(steps) < 200, steps

    # "why this task" still names the decision behind the branch, from the record kept
    (rescan,) = runtime.ready_human_tasks()
    reason = explain(runtime.workflow, bundle.model, rescan["id"])
    assert reason["via"]["element"] == "Offer"
    assert reason["decision"]["id"] == "Decision_Therapy" and reason["decision"]["trace"][0]["inputs"]


def parallel_loop() -> bytes:
    """LOOP with the decision inside a parallel split and join, as the bone-health work-up has:
    SpiffWorkflow's join compares its ancestors with earlier runs, recursively."""
    bpmn = LOOP.replace(
        b'<bpmn:sequenceFlow id="f6" sourceRef="Rescan" targetRef="Decide"/>',
        b'<bpmn:sequenceFlow id="f6" sourceRef="Rescan" targetRef="Split"/>'
        b'<bpmn:parallelGateway id="Split"/>'
        b'<bpmn:sequenceFlow id="p1" sourceRef="Split" targetRef="Decide"/>'
        b'<bpmn:sequenceFlow id="p2" sourceRef="Split" targetRef="Join"/>'
        b'<bpmn:parallelGateway id="Join"/>'
        b'<bpmn:sequenceFlow id="p3" sourceRef="Join" targetRef="Offer"/>')
    return bpmn.replace(b'<bpmn:sequenceFlow id="f2" sourceRef="Decide" targetRef="Offer"/>',
                        b'<bpmn:sequenceFlow id="f2" sourceRef="Decide" targetRef="Join"/>')


def test_a_pathway_looping_for_years_keeps_a_bounded_state_and_keeps_running() -> None:
    # Without pruning, the task tree deepens by each visit; after about 150 visits SpiffWorkflow's
    # recursive ancestor walk exceeds Python's recursion limit and the task can no longer be
    # completed (on the OVCF pathway: week 28 of a weekly work-up chase). The audit trail keeps
    # the history; the state keeps what execution reads.
    files = {"loop.bpmn": parallel_loop(), "bone_density.dmn": (DMN / "bone_density.dmn").read_bytes(),
             "therapy.dmn": (DMN / "therapy.dmn").read_bytes()}
    bundle = load_bundle(files, key="densitometry")
    clock = SimulatedClock(datetime(2026, 1, 5, 9, tzinfo=UTC))
    state = PathwayRuntime.start(bundle, clock).dump()
    sizes = []
    for visit in range(260):
        runtime = PathwayRuntime.load(state, bundle, clock)
        (rescan,) = runtime.ready_human_tasks()
        runtime.complete_task(rescan["id"], {"tScore": -1 - visit % 2})
        state = runtime.dump()
        sizes.append(len(json.dumps(state)))

    assert max(sizes[50:]) <= 1.01 * max(sizes[:50])  # bounded: after 260 visits as after 50
    runtime = PathwayRuntime.load(state, bundle, clock)
    assert {"Rescan", "Decide", "Split", "Join", "Offer"} <= set(runtime.completed_elements())
    (rescan,) = runtime.ready_human_tasks()
    reason = explain(runtime.workflow, bundle.model, rescan["id"])
    assert reason["via"]["element"] == "Offer" and reason["decision"]["id"] == "Decision_Therapy"
    runtime.complete_task(rescan["id"], {"tScore": -3})  # osteoporosis: on to the drug
    assert [t["elementId"] for t in runtime.ready_human_tasks()] == ["Start_drug"]


def test_elements_done_in_pruned_history_stay_done_after_a_migration() -> None:
    from engine.migration import migrate_runtime

    files = {"loop.bpmn": parallel_loop(), "bone_density.dmn": (DMN / "bone_density.dmn").read_bytes(),
             "therapy.dmn": (DMN / "therapy.dmn").read_bytes()}
    bundle = load_bundle(files, key="densitometry")
    clock = SimulatedClock(datetime(2026, 1, 5, 9, tzinfo=UTC))
    runtime = PathwayRuntime.start(bundle, clock)
    for _ in range(40):
        (rescan,) = runtime.ready_human_tasks()
        runtime.complete_task(rescan["id"], {"tScore": -1})
        runtime = PathwayRuntime.load(runtime.dump(), bundle, clock)
    assert "Enrolled" in runtime.pruned_done  # the start event's task is long gone from the state

    moved, report = migrate_runtime(runtime, load_bundle(files, key="densitometry"))
    assert report.possible
    assert "Enrolled" in moved.completed_elements()
    assert "Enrolled" in PathwayRuntime.load(moved.dump(), bundle, clock).completed_elements()
