"""``pathway verify`` (issue 7): each check fires on a broken model with a replayable shortest
path, and stays quiet on the fixed one. Models: ``tests/fixtures/verify/small.py``."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from engine.cli import main
from engine.verify.report import as_json, text
from engine.verify.verifier import verify

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "verify"))
from small import SAFETY, pathway  # noqa: E402


def checks(report) -> list[tuple[str, str]]:
    return sorted((f.check, f.element) for f in report.findings)


def test_fixed_model_is_clean_and_exhaustive() -> None:
    report = verify({**pathway(), "small.safety.yaml": SAFETY}, workers=1)
    assert report.problems == [] and report.findings == []
    assert report.exhaustive and report.states > 5
    assert report.properties == ["review-after-referral", "one-urgent-task"]


def test_silent_wait_for_a_message_nobody_is_asked_to_send() -> None:
    report = verify(pathway(refer="message"), workers=1)
    assert checks(report) == [("silent", "W_Report")]
    finding = report.findings[0]
    assert "no task and no timer" in finding.message
    assert [s.kind for s in finding.trail] == ["start", "complete"]
    assert finding.trail[1].element == "U_Urgent" and finding.trail[1].values == {"outcome": "REFER"}
    assert finding.state == {"ready": [], "timers": [], "status": "running"}


def test_end_the_model_does_not_mark_as_a_clinical_endpoint() -> None:
    report = verify(pathway(refer="end"), workers=1)
    assert checks(report) == [("endpoint", "E_Referred")]
    # the chase branches end unmarked too, but they close a side branch, not the track
    assert verify(pathway(treated_endpoint=False), workers=1).findings[0].element == "E_Treated"


def test_task_without_an_escalation() -> None:
    report = verify(pathway(routine_chased=False), workers=1)
    assert checks(report) == [("escalation", "U_Routine")]
    assert "no escalation when it is overdue" in report.findings[0].message


def test_timer_on_an_enclosing_sub_process_escalates_the_task() -> None:
    """A late-dose timer on the sub-process around a check and a dose runs while either is open."""
    report = verify(pathway(routine_chased="scope"), workers=1)
    assert report.problems == [] and report.findings == []
    assert report.exhaustive


def test_response_property_broken_by_a_late_timer() -> None:
    report = verify({**pathway(review_after="P21D"), "small.safety.yaml": SAFETY}, workers=1)
    assert checks(report) == [("property", "review-after-referral")]
    finding = report.findings[0]
    assert "'U_Review ready' had not happened by 2026-03-16 09:00" in finding.message
    assert finding.state["ready"] == [] and finding.state["timers"] == ["T_Review"]


def test_yields_property_counts_tasks_made_in_one_step() -> None:
    twice = SAFETY.replace("exactly 1 U_Urgent ready", "exactly 2 U_Urgent ready")
    report = verify({**pathway(), "small.safety.yaml": twice}, workers=1)
    assert checks(report) == [("property", "one-urgent-task")]
    assert "gave 1 × 'U_Urgent ready', expected exactly 2" in report.findings[0].message


def test_property_file_mistakes_are_named() -> None:
    wrong = SAFETY.replace("expect: U_Review ready", "expect: U_Reveiw ready")
    report = verify({**pathway(), "small.safety.yaml": wrong}, workers=1)
    assert [(p.file, p.element) for p in report.errors] == [("small.safety.yaml", "review-after-referral")]
    assert "did you mean" in report.errors[0].message and report.groups == []


def test_counterexample_replays_in_the_scenario_runner(session_factory, tmp_path) -> None:
    from test_pathway_scenarios import run_scenario

    report = verify({**pathway(review_after="P21D"), "small.safety.yaml": SAFETY}, workers=1)
    spec = as_json(report)["findings"][0]["scenario"]
    assert spec["steps"][-1]["expect"] == {"ready": [], "timers": ["T_Review"], "status": "running"}
    spec = yaml.safe_load(yaml.safe_dump(spec))  # what a lead would paste into tests/scenarios/
    run_scenario(spec, pathway(review_after="P21D"), session_factory)


def test_cli_exit_codes_json_and_progress(tmp_path: Path) -> None:
    for name, content in pathway(refer="end").items():
        (tmp_path / name).write_bytes(content)
    runner = CliRunner()
    result = runner.invoke(main, ["verify", str(tmp_path), "--json", "--quiet"])
    assert result.exit_code == 1, result.output
    body = json.loads(result.output)
    assert body["violations"] == 1 and body["exhaustive"] and body["states"] > 0
    assert body["findings"][0]["element"] == "E_Referred"
    assert body["findings"][0]["scenario"]["files"] == str(tmp_path)
    for name, content in pathway().items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / "small.safety.yaml").write_text(SAFETY)
    result = runner.invoke(main, ["verify", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 violation(s)" in result.output and "exhaustive within these bounds" in result.output
    assert "verifying" in result.output  # the progress line (stderr, mixed in by the runner)
    assert re.search(r"\b(\d+)/\1 elements\b", result.output)  # every element reached, as the bar says
    capped = runner.invoke(main, ["verify", str(tmp_path), "--max-states", "3", "--quiet"])
    assert capped.exit_code == 2 and "NOT EXHAUSTIVE" in capped.output


def test_report_text_reads_as_a_finding() -> None:
    report = verify(pathway(refer="message"), workers=1)
    out = text(report, "tests/fixtures/verify")
    assert "A patient is left with nothing to do and nothing scheduled" in out
    assert "shortest path (2 steps): enrol → complete U_Urgent" in out
    assert "complete: U_Urgent" in out and "outcome: REFER" in out


@pytest.mark.parametrize("workers", [2])
def test_groups_run_in_parallel_processes_with_the_same_result(workers: int) -> None:
    one = verify(pathway(refer="end"), workers=1)
    many = verify(pathway(refer="end"), workers=workers)
    assert checks(one) == checks(many) and one.states == many.states


def test_never_property_allows_the_event_in_a_step_with_its_unless_event() -> None:
    from engine.verify.events import Event
    from engine.verify.properties import Monitor, StepFacts, load_properties, observe

    text = """properties:
  - id: stop-never-withdrawn
    says: The stop task is never withdrawn, except by a withdrawal that hands everything over.
    source: fixture
    never: U_Urgent cancelled
    unless: message Withdrew
"""
    [prop] = load_properties([("p.safety.yaml", text)], {"U_Urgent": {"small"}})
    cancelled = [Event("cancelled", "U_Urgent", "small", "small.bpmn")]

    def breaks(message):
        return observe([prop], Monitor(), StepFacts(cancelled, message, False, {}, None, None))

    assert breaks(None) and "U_Urgent cancelled" in breaks(None)[0].message
    assert breaks("Withdrew") == []


def test_elements_no_explored_path_reaches_are_named() -> None:
    """A branch behind a condition no answer satisfies is named (file and element), in the text a
    clinical lead reads and in the JSON; a model whose every branch is taken names none."""
    from small import dead_branch

    report = verify(dead_branch(), workers=1)
    assert report.exhaustive and report.findings == []
    assert report.unreached == [("dead.bpmn", e) for e in
                                ("BE_U_Never", "Chase_U_Never", "E_Never", "End_Chase_U_Never", "U_Never")]
    assert "not reached on any explored path" in text(report) and "dead.bpmn:U_Never" in text(report)
    assert {"file": "dead.bpmn", "element": "E_Never"} in as_json(report)["unreached"]
    clean = verify(pathway(), workers=1)
    assert clean.unreached == [] and "not reached" not in text(clean)


def test_coverage_order_reaches_more_of_a_model_within_the_same_bound() -> None:
    """Breadth first, a bounded run of the bone-therapy track spends its states on the answer
    combinations before the first prescription and reaches no drug course; exploring first the
    states where an element is active for the first time reaches courses within the same bound.
    Both stay sound: what they explore is checked, what they leave is named."""
    from engine.models.bundle import collect_files
    from engine.verify.explorer import Options

    root = Path(__file__).resolve().parents[1]
    files = collect_files([root / "pathways", root / "dmn"])
    courses = {("bone_health.bpmn", c) for c in ("CA_Denosumab", "CA_OralBP", "CA_PTH", "CA_Romo", "CA_Zoledronate")}

    def run(search):
        return verify(files, Options(max_states=300, search=search), workers=1, tracks=["CA_BoneHealth"])

    shortest, coverage = run("shortest"), run("coverage")
    assert not shortest.exhaustive and not coverage.exhaustive
    assert courses <= set(shortest.unreached)
    assert courses - set(coverage.unreached)
    assert len(coverage.unreached) < len(shortest.unreached)
    assert shortest.findings == coverage.findings == []


def test_coverage_order_finds_what_breadth_first_finds_with_as_short_a_path() -> None:
    from engine.verify.explorer import Options

    shortest = verify(pathway(refer="message"), workers=1)
    coverage = verify(pathway(refer="message"), Options(search="coverage"), workers=1)
    assert checks(coverage) == checks(shortest) == [("silent", "W_Report")]
    assert len(coverage.findings[0].trail) == len(shortest.findings[0].trail) == 2
