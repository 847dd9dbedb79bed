"""The verifier's state abstraction merges two states only when no later step can tell them apart
(README "What the abstraction guarantees"). Model: ``tests/fixtures/verify/later_answer.py``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine.models.bundle import load_bundle
from engine.verify.rulemask import rule_mask
from engine.verify.verifier import verify

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "verify"))
from later_answer import pathway  # noqa: E402


def test_an_intake_answer_a_later_answer_completes_is_not_merged_early() -> None:
    # before U_Check every age decides "usual"; only age > 80 with confirmed = true reaches E_Special
    report = verify(pathway(), workers=1)
    assert report.exhaustive
    [hole] = report.findings
    assert (hole.check, hole.element) == ("endpoint", "E_Special")
    start, check = hole.trail
    assert start.values["age"] > 80 and check.values == {"confirmed": True}


def test_rule_mask_keeps_which_rules_known_values_leave_in_play() -> None:
    decisions = load_bundle(pathway()).decisions

    def mask(age):
        return rule_mask(decisions, "Plan", {"age": age}, {"confirmed"}, None)

    assert mask(81) == mask(120)  # both leave "special" in play: same future
    assert mask(80) == mask(3)  # neither can be "special", whatever is confirmed
    assert mask(81) != mask(80)
    # with every input known there is nothing left open: a known "confirmed" fixes the rule
    assert rule_mask(decisions, "Plan", {"age": 81, "confirmed": False}, set(), None) == \
        rule_mask(decisions, "Plan", {"age": 50, "confirmed": True}, set(), None)


def test_rows_that_leave_the_same_choice_in_play_merge_whichever_row_it_is() -> None:
    # a second "special" row for ages 61..80: an age of 70 and one of 90 strike out different
    # rows, yet each leaves one choice in play ("special" if confirmed): the same future
    files = pathway()
    second = ('<rule id="Rule_special_younger"><inputEntry id="UT_y1"><text>[61..80]</text></inputEntry>'
              '<inputEntry id="UT_y2"><text>true</text></inputEntry>'
              '<outputEntry id="LE_y"><text>"special"</text></outputEntry></rule>\n      <rule id="Rule_usual">')
    files["plan.dmn"] = files["plan.dmn"].decode().replace('<rule id="Rule_usual">', second, 1).encode()
    decisions = load_bundle(files).decisions

    def mask(age):
        return rule_mask(decisions, "Plan", {"age": age}, {"confirmed"}, None)

    assert mask(70) == mask(90)
    assert mask(70) != mask(40)  # no "special" row is left for 40
    assert decisions.evaluate("Plan", {"age": 70, "confirmed": True}).value == "special"
    assert decisions.evaluate("Plan", {"age": 40, "confirmed": True}).value == "usual"


def test_a_column_that_adds_an_answer_to_come_to_a_known_value_keeps_the_known_value() -> None:
    # "age + extra > 80": with extra still to come, an age of 81 and one of 50 can decide apart
    files = pathway()
    files["plan.dmn"] = files["plan.dmn"].decode().replace("<text>age</text>", "<text>age + extra</text>").encode()
    decisions = load_bundle(files, lint=False).decisions  # the table alone: nothing in this pathway writes extra

    def mask(age):
        return rule_mask(decisions, "Plan", {"age": age}, {"extra", "confirmed"}, None)

    assert mask(81) != mask(50)
    assert mask(50) == mask(50)


def test_decision_memo_answers_as_the_registry_does_per_input_and_per_day_when_the_clock_is_read() -> None:
    from datetime import UTC, date, datetime, timedelta

    from engine.clock import SimulatedClock
    from engine.models.bundle import collect_files
    from engine.verify.memo import DecisionMemo

    plan = load_bundle(pathway()).decisions
    memo = DecisionMemo(plan)
    first = memo("Plan", {"age": 81, "confirmed": True, "unrelated": 1})
    assert first.value == plan.evaluate("Plan", {"age": 81, "confirmed": True}).value == "special"
    assert memo("Plan", {"age": 81, "confirmed": True, "unrelated": 2}) is first  # what it does not read
    assert memo("Plan", {"age": 80, "confirmed": True}).value == "usual"

    root = Path(__file__).resolve().parents[1]
    derived = load_bundle(collect_files([root / "pathways", root / "dmn"])).decisions
    memo = DecisionMemo(derived)
    clock = SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    inputs = {"fractureDate": date(2026, 2, 2)}
    before = memo("PathwayWeeksSinceFracture", inputs, clock=clock).value
    clock.set(clock.now() + timedelta(days=14))
    after = memo("PathwayWeeksSinceFracture", inputs, clock=clock).value  # today() moved: not the cached one
    assert after == derived.evaluate("PathwayWeeksSinceFracture", inputs, clock=clock).value
    assert after - before == 2


@pytest.fixture(scope="module")
def bundled():
    """The bundled pathway, loaded once for the tests that read it."""
    from engine.models.bundle import collect_files

    root = Path(__file__).resolve().parents[1]
    return load_bundle(collect_files([root / "pathways", root / "dmn"]))


def test_fields_one_decision_input_combines_are_tried_together(bundled) -> None:
    """The prescription check (DT4d) combines the therapy class and the agent in one input: tried
    one field at a time, no answer names a consistent pair other than the base one, so no drug
    course but the base class would ever be explored. Every combination is tried too."""
    from datetime import date

    from engine.verify.domains import Domains, answer_variants
    from engine.verify.explorer import Explorer

    bundle = bundled
    domains = Domains(bundle.model)
    assert frozenset({"therapyClass", "chosenAgent"}) in domains.together
    fields = Explorer(bundle, [])._fields("UT4_Prescribe")
    pairs = {(v.get("therapyClass"), v.get("chosenAgent"))
             for v in answer_variants(domains, fields, date(2026, 3, 2), {})}
    assert {("IV_ZOLEDRONATE", "zoledronic_acid"), ("DENOSUMAB", "denosumab"),
            ("ROMOSOZUMAB", "romosozumab"), ("PTH_ANALOG", "teriparatide")} <= pairs


def test_chases_nothing_reads_are_inert_and_a_chase_whose_answer_is_read_is_not(bundled) -> None:
    """An overdue chase whose answers are only kept for the record is left out of the state key
    (open or done, the future is the same); the critical denosumab review, whose action is read,
    and everything a property names are not."""
    from engine.verify.domains import Domains
    from engine.verify.escalation import inert_branches

    bundle = bundled
    domains = Domains(bundle.model)
    inert = {key[1] for key in inert_branches(bundle.model, domains.read, set())}
    assert {"UT_Chase_UT4_Prescribe", "End_Chase_UT4_Prescribe", "UT_ChaseUT6", "End_ChaseUT6"} <= inert
    assert "UT_CriticalDose" not in inert and "UT4_Prescribe" not in inert
    watched = {key[1] for key in inert_branches(bundle.model, domains.read, {"UT_ChaseUT6"})}
    assert "UT_ChaseUT6" not in watched and "End_ChaseUT6" not in watched


def test_what_a_property_reads_at_an_element_is_kept_only_where_that_element_may_still_come(bundled) -> None:
    """The prescribing property reads the agent when a course starts: a prescription about to be
    corrected (UT_Represcribe asks the agent again) does not keep the old agent apart, one waiting
    for endocrinology (which may let it through to a course) does; what a property reads at no
    one element ("pathway ends where ...") is kept everywhere."""
    from engine.verify.explorer import Explorer
    from engine.verify.properties import placed_reads

    explorer = Explorer(bundled, bundled.properties)
    placed, anywhere = placed_reads(bundled.model, bundled.properties)
    assert anywhere == {"denosumabLastDose"}
    by_id = {bundled.model.elements[key].id: names for key, names in placed.items()}
    assert by_id["CA_Denosumab"] >= {"chosenAgent", "contraindications"}
    live = explorer.keys.track_liveness

    def key(element):
        return next(e.key for e in bundled.model.elements.values() if e.id == element)

    assert "chosenAgent" not in live.live(key("UT_Represcribe"))
    assert "chosenAgent" in live.live(key("UT_PrescriptionReview"))
    # the answer a task gives is kept for a property on that task's own completion
    plan_live, _, _ = explorer.keys._plan(explorer.keys.liveness, [(key("UT_Calcitonin"), True)], None)
    assert "calcitoninPrescribed" in plan_live


def test_an_event_subprocess_start_waits_only_where_it_commutes_with_the_step_before(bundled) -> None:
    """A new fracture reported (NewFragilityFracture) starts a sub-process that reads only its own
    screen and writes nothing the tracks read first: after a step that wrote nothing it reads,
    starting it is the same as starting it before that step, so it waits. A red flag report is
    named by a property (and its sub-process throws a signal that cancels the acute track), so
    it keeps every order; so do starts after a clock move or after a step that wrote what it reads.
    The pre-fix regression (test_verify_regression) shows the signal case: treated as commuting,
    the lost calcitonin stop was no longer found."""
    from engine.verify.explorer import Explorer
    from engine.verify.tracks import groups

    bone = next(g for g in groups(bundled.model) if "CA_BoneHealth" in g.name)
    reduction = Explorer(bundled, bundled.properties, None, bone).reduction
    assert set(reduction.reads) == {"NewFragilityFracture"}
    reads = reduction.reads["NewFragilityFracture"]
    assert reduction.may_wait("NewFragilityFracture", "complete", "UT4_Prescribe", frozenset({"chosenAgent"}))
    assert not reduction.may_wait("NewFragilityFracture", "complete", "UT1_Intake", frozenset(reads))
    assert not reduction.may_wait("NewFragilityFracture", "time", None, frozenset())
    assert not reduction.may_wait("NewFragilityFracture", "complete", "UT_NewFxScreen", frozenset())
    assert not reduction.may_wait("RedFlagReported", "complete", "UT4_Prescribe", frozenset())


SHARED_CALL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="main" isExecutable="true">
    <bpmn:startEvent id="S"><bpmn:extensionElements><camunda:formData>
      <camunda:formField id="x" type="long"><camunda:validation><camunda:constraint name="required" />
      </camunda:validation></camunda:formField></camunda:formData></bpmn:extensionElements></bpmn:startEvent>
    <bpmn:callActivity id="C1" calledElement="shared" />
    <bpmn:userTask id="R" camunda:candidateGroups="clinician" camunda:dueDate="${now() + duration(&#34;P1D&#34;) * x}" />
    <bpmn:userTask id="A" camunda:candidateGroups="clinician" camunda:dueDate="P1D"><bpmn:extensionElements>
      <camunda:formData><camunda:formField id="x" type="long"><camunda:validation>
      <camunda:constraint name="required" /></camunda:validation></camunda:formField></camunda:formData>
    </bpmn:extensionElements></bpmn:userTask>
    <bpmn:userTask id="B" camunda:candidateGroups="clinician" camunda:dueDate="P1D" />
    <bpmn:callActivity id="C2" calledElement="shared" />
    <bpmn:endEvent id="E" />
    <bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="C1" />
    <bpmn:sequenceFlow id="f2" sourceRef="C1" targetRef="R" />
    <bpmn:sequenceFlow id="f3" sourceRef="R" targetRef="A" />
    <bpmn:sequenceFlow id="f4" sourceRef="A" targetRef="B" />
    <bpmn:sequenceFlow id="f5" sourceRef="B" targetRef="C2" />
    <bpmn:sequenceFlow id="f6" sourceRef="C2" targetRef="E" />
  </bpmn:process>
  <bpmn:process id="shared" isExecutable="true">
    <bpmn:startEvent id="QS" /><bpmn:endEvent id="QE" />
    <bpmn:sequenceFlow id="q1" sourceRef="QS" targetRef="QE" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_process_called_twice_returns_only_to_its_own_caller() -> None:
    """Liveness through a process called from two places: once past the second call nothing reads
    x, though the first call's continuation (R's due date) does; a walk that left the shared body
    to every caller's continuation would keep x apart for nothing."""
    from engine.verify.liveness import Liveness

    model = load_bundle({"shared.bpmn": SHARED_CALL.encode()}, lint=False).model
    live = Liveness(model)

    def at(element):
        return live.live(next(e.key for e in model.elements.values() if e.id == element))

    assert "x" in at("C1") and "x" in at("R")
    assert "x" not in at("B") and "x" not in at("C2")
    # inside the shared body, where a patient of either caller may stand, both continuations count
    assert "x" in at("QE")


def test_a_time_since_decision_still_to_come_keeps_the_date_distance_not_todays_answer() -> None:
    """Weeks since enrolment, read five weeks after the patient is ready: asked again a week
    later, "under 7 weeks" today either way, yet only the third visit ends late. Kept as today's
    answer (or as "a date before today"), the third visit merged into the second and the late
    end was never reached."""
    from clock_distance import weeks_since

    report = verify(weeks_since(), workers=1)
    assert report.exhaustive
    [hole] = report.findings
    assert (hole.check, hole.element) == ("endpoint", "E_Late")
    answers = [step.values["ready"] for step in hole.trail if step.kind == "complete"]
    assert answers[-1] is True and answers.count(False) >= 2  # ready only from the third visit
    waited = hole.trail[-1].at - hole.trail[0].at
    assert waited.days >= 49


def test_pending_timers_are_kept_by_how_far_off_they_are_not_only_their_order() -> None:
    """The same timers pending in the same order at days 7 and 14 (the 12-hour close, the chase,
    the three-week deadline): only at day 14 does the 8-day wait after "ready" outlast the
    deadline. Keyed by the order alone, day 14 merged into day 7 and the timeout was never
    reached."""
    from clock_distance import deadline

    report = verify(deadline(), workers=1)
    assert report.exhaustive
    [hole] = report.findings
    assert (hole.check, hole.element) == ("endpoint", "E_Timeout")
    assert (hole.trail[-1].at - hole.trail[0].at).days == 21


def test_a_date_only_time_since_decisions_read_is_kept_up_to_their_last_threshold() -> None:
    """Past the last crossing every threshold is behind it for good: 60 and 600 days merge, 30
    and 40 do not (the 7-week line is still ahead of one of them, and both can still cross it)."""
    from datetime import UTC, datetime, timedelta

    from clock_distance import weeks_since

    from engine.clock import SimulatedClock
    from engine.verify.domains import Domains
    from engine.verify.statekey import StateKeys

    bundle = load_bundle(weeks_since())
    domains = Domains(bundle.model)
    assert domains.date_caps == {"enrolledOn": 50}
    keys = StateKeys(bundle, domains, None)
    clock = SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    wait = next(key for key, e in bundle.model.elements.items() if e.id == "T_Wait")

    def key(days_ago):
        variables = {"enrolledOn": clock.today() - timedelta(days=days_ago)}
        return keys._project(keys.track_liveness, [(wait, False)], variables, None, clock)

    assert key(60) == key(600)
    assert key(30) != key(40) and key(49) != key(50)


def test_an_event_subprocess_another_group_signals_starts_here_at_any_time() -> None:
    """ESP_Found is started by a signal only the other track throws, and writes what this track
    reads: explored apart, the signal must still come in this group, or the flagged end is never
    reached. The counterexample says where the signal comes from."""
    from outside_signal import pathway as joined

    from engine.verify.report import as_json, describe

    report = verify(joined(), workers=1)
    assert report.exhaustive and [g.name for g in report.groups] == ["U_A", "U_B"]
    [hole] = report.findings
    assert (hole.check, hole.element) == ("endpoint", "E_Hole")
    assert [(s.kind, s.element) for s in hole.trail if s.kind in ("signal", "complete")] == [
        ("complete", "U_B"), ("signal", "Found"), ("complete", "U_Flag")]
    assert "signal Found (from a track explored apart)" in describe(hole.trail)
    [finding] = as_json(report)["findings"]
    assert {"signal": "Found", "variables": {}} in finding["scenario"]["steps"]


def test_an_answer_a_track_running_beside_reads_is_varied() -> None:
    """ESP_Found started by a message: nothing in its own flow reads ``flagged``, the track beside
    it does. Varied only for what its own flow reads, U_Flag was answered one way only."""
    from outside_signal import pathway as joined

    report = verify(joined(start="message"), workers=1)
    assert report.exhaustive
    [hole] = report.findings
    assert (hole.check, hole.element) == ("endpoint", "E_Hole")
    assert ("complete", "U_Flag", {"flagged": True}) in [(s.kind, s.element, s.values) for s in hole.trail]


def test_a_sub_process_only_an_open_chase_keeps_running_is_not_silent() -> None:
    """U_Flag answered a day late, after its chase opened: the sub-process's flow has ended and the
    chase alone keeps it running until it is answered. That was reported as a silent patient."""
    from outside_signal import pathway as joined

    report = verify(joined(start="message", flag_chased=True), workers=1)
    assert report.exhaustive
    assert [(f.check, f.element) for f in report.findings] == [("endpoint", "E_Hole")]
