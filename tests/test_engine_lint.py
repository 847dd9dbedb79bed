"""Deploy-time lint: what cannot run as the clinician reads it is refused, with file + element + message.

``tests/fixtures/lint/broken`` is one Camunda-Modeler style model with five defects (an
unparsable FEEL condition, a decisionRef missing from the bundle, an unreachable task, a script
task, an empty timer) next to a DMN file that holds a different decision. A refused deploy
writes nothing: no definition row, no audit event.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SimulatedClock
from engine.models.bundle import lint_paths, load_bundle
from engine.problems import ModelError, Problem
from engine.service import Service
from engine.store import AuditEvent, Definition

FIXTURES = Path(__file__).parent / "fixtures"
BROKEN = FIXTURES / "lint" / "broken"
BARE_TIMER = FIXTURES / "lint" / "bare_timer"
CYCLE_BOUNDARY = FIXTURES / "lint" / "cycle_boundary"

# (element id, words the message must contain) for every defect planted in broken.bpmn.
EXPECTED = [
    ("Flow_bad", ("condition", "${score >= }", "not valid FEEL")),
    ("Activity_score", ("decision", "MissingDecision", "not in this deployment")),
    ("Task_orphan", ("unreachable",)),
    ("Task_script", ("script tasks are not run",)),
    ("Timer_empty", ("timeDuration", "empty")),
]


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix in (".bpmn", ".dmn")}


def find(problems: list[Problem], element: str) -> list[Problem]:
    return [p for p in problems if p.element == element]


def row_counts(session_factory: sessionmaker[Session]) -> tuple[int, int]:
    with session_factory() as session:
        return (session.scalar(select(func.count()).select_from(Definition)),
                session.scalar(select(func.count()).select_from(AuditEvent)))


# -- lint_paths --------------------------------------------------------------------------------
@pytest.mark.parametrize(("element", "words"), EXPECTED, ids=[e for e, _ in EXPECTED])
def test_lint_names_file_element_and_problem(element: str, words: tuple[str, ...]) -> None:
    found = find(lint_paths([BROKEN]), element)
    assert len(found) == 1, f"expected one finding for {element}, got {found}"
    (problem,) = found
    assert problem.file == "broken.bpmn"
    for word in words:
        assert word in problem.message
    assert str(problem).startswith(f"broken.bpmn:{element}: ")


def test_lint_reports_nothing_beyond_the_planted_defects() -> None:
    problems = lint_paths([BROKEN])
    planted = {e for e, _ in EXPECTED}
    # The end event after the unreachable task is unreachable too; nothing else is reported.
    assert {p.element for p in problems} == planted | {"End_orphan"}
    assert all(p.file == "broken.bpmn" for p in problems)  # the DMN file itself is fine


def test_lint_by_file_path_equals_lint_by_folder() -> None:
    by_files = lint_paths([BROKEN / "broken.bpmn", BROKEN / "other.dmn"])
    assert sorted(map(str, by_files)) == sorted(map(str, lint_paths([BROKEN])))


def test_decision_ref_resolves_only_against_the_bundle() -> None:
    # Without the DMN file the missing decision is still the only decision problem.
    problems = lint_paths([BROKEN / "broken.bpmn"])
    assert [p.element for p in problems if "decision" in p.message] == ["Activity_score"]


def test_timer_with_no_type_chosen_is_refused() -> None:
    (problem,) = lint_paths([BARE_TIMER])
    assert (problem.file, problem.element) == ("bare_timer.bpmn", "Timer_untyped")
    assert "timeDate, timeDuration or timeCycle" in problem.message


def test_non_interrupting_cycle_on_a_boundary_event_is_refused() -> None:
    # SpiffWorkflow would cancel the reminders it spawned when the task completes; lint says so and
    # points to the alternative (tests/fixtures/timers/cycle.bpmn uses a timer event sub-process).
    (problem,) = lint_paths([CYCLE_BOUNDARY])
    assert (problem.file, problem.element) == ("cycle_boundary.bpmn", "Timer_cycle")
    assert "cycle" in problem.message and "non-interrupting" in problem.message


def test_timer_with_no_type_is_reported_together_with_other_findings() -> None:
    problems = lint_paths([BROKEN, BARE_TIMER])
    assert {p.element for p in problems} >= {e for e, _ in EXPECTED}
    assert find(problems, "Timer_untyped")


@pytest.mark.parametrize("folder", [FIXTURES / "bundle", FIXTURES / "timers"], ids=["bundle", "timers"])
def test_clean_models_lint_clean(folder: Path) -> None:
    for path in sorted(folder.glob("*.bpmn")):
        assert lint_paths([path, *folder.glob("*.dmn")]) == [], path.name


# -- deploy refuses and writes nothing -----------------------------------------------------------
def test_deploy_refuses_the_broken_bundle_and_stores_nothing(session_factory: sessionmaker[Session]) -> None:
    svc = Service(session_factory, SimulatedClock())
    good = svc.deploy(files_in(FIXTURES / "bundle"), actor="lead:dana")
    before = row_counts(session_factory)
    assert before == (1, 1)

    with pytest.raises(ModelError) as refused:
        svc.deploy(files_in(BROKEN), actor="lead:dana")
    problems = refused.value.problems
    for element, words in EXPECTED:
        (problem,) = find(problems, element)
        assert problem.file == "broken.bpmn" and all(w in problem.message for w in words)
    assert sorted(map(str, problems)) == sorted(map(str, lint_paths([BROKEN])))

    assert row_counts(session_factory) == before
    assert [d["key"] for d in svc.definitions()] == [good["key"]]


@pytest.mark.parametrize("folder", [BROKEN, BARE_TIMER, CYCLE_BOUNDARY], ids=["broken", "bare_timer", "cycle"])
def test_refused_deploy_of_an_existing_key_does_not_add_a_version(
    session_factory: sessionmaker[Session], folder: Path
) -> None:
    # The same defects under the key of a deployed pathway: version 1 stays the only version.
    svc = Service(session_factory, SimulatedClock())
    svc.deploy(files_in(FIXTURES / "bundle"), actor="lead:dana")
    before = row_counts(session_factory)
    broken = {name: content.replace(b'id="lint_broken"', b'id="engine_acceptance"')
              .replace(b'id="bare_timer"', b'id="engine_acceptance"')
              .replace(b'id="cycle_boundary"', b'id="engine_acceptance"')
              for name, content in files_in(folder).items()}
    with pytest.raises(ModelError) as refused:
        svc.deploy(broken, actor="lead:dana")
    assert refused.value.problems and all(p.file.endswith(".bpmn") for p in refused.value.problems)
    assert row_counts(session_factory) == before
    assert [d["version"] for d in svc.definitions("engine_acceptance")] == [1]


def test_a_message_event_subprocess_in_a_called_process_is_refused(tmp_path: Path) -> None:
    """SpiffWorkflow starts message and signal event sub-processes only in the process the pathway
    runs, never in one a call activity starts: such a model would deploy and never react."""
    root = Path(__file__).resolve().parents[1]
    course = (root / "pathways" / "pth_analog.bpmn").read_text(encoding="utf-8")
    esp = ('<bpmn:subProcess id="ESP_Stop" triggeredByEvent="true">'
           '<bpmn:startEvent id="ESP_Stop_Start"><bpmn:outgoing>Flow_ESP_Stop</bpmn:outgoing>'
           '<bpmn:messageEventDefinition id="Def_ESP_Stop" messageRef="Message_AnabolicStop" /></bpmn:startEvent>'
           '<bpmn:endEvent id="ESP_Stop_End"><bpmn:incoming>Flow_ESP_Stop</bpmn:incoming></bpmn:endEvent>'
           '<bpmn:sequenceFlow id="Flow_ESP_Stop" sourceRef="ESP_Stop_Start" targetRef="ESP_Stop_End" />'
           '</bpmn:subProcess>\n  </bpmn:process>')
    (tmp_path / "pth_analog.bpmn").write_text(course.replace("  </bpmn:process>", esp, 1), encoding="utf-8")
    caller = (root / "pathways" / "bone_health.bpmn").read_text(encoding="utf-8")
    (tmp_path / "bone_health.bpmn").write_text(caller, encoding="utf-8")
    found = [p for p in lint_paths([tmp_path, root / "dmn", root / "pathways" / "pathway_derived.dmn"])
             if p.element == "ESP_Stop"]
    assert [(p.file, p.severity) for p in found] == [("pth_analog.bpmn", "error")]
    assert "called process" in found[0].message
    # the same event sub-process in the pathway's own process is what the engine runs
    alone = [p for p in lint_paths([tmp_path / "pth_analog.bpmn", root / "dmn"]) if p.element == "ESP_Stop"]
    assert alone == []


# -- D6: what a file may not contain, and broken links named ------------------------------------
BUNDLE = FIXTURES / "bundle"


def bundle_problems(**edits: tuple[str, bytes, bytes]) -> list[Problem]:
    files = files_in(BUNDLE)
    for _, (name, old, new) in edits.items():
        assert old in files[name], old
        files[name] = files[name].replace(old, new, 1)
    with pytest.raises(ModelError) as raised:
        load_bundle(files)
    return raised.value.problems


DOCTYPE = b'<!DOCTYPE definitions [<!ENTITY who "clinician">]>\n'


@pytest.mark.parametrize("name", ["engine_acceptance.bpmn", "triage.dmn"])
def test_a_doctype_is_refused_even_when_nothing_is_resolved(name: str) -> None:
    declaration = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    (problem,) = bundle_problems(doctype=(name, declaration, declaration + DOCTYPE))
    assert problem.file == name and "DOCTYPE" in problem.message


def test_an_external_dtd_and_xinclude_are_refused() -> None:
    declaration = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    (problem,) = bundle_problems(dtd=("engine_acceptance.bpmn", declaration,
                                      declaration + b'<!DOCTYPE definitions SYSTEM "http://example.org/x.dtd">\n'))
    assert "DOCTYPE" in problem.message
    problems = bundle_problems(xi=("engine_acceptance.bpmn", b'<bpmn:sequenceFlow id="Flow_s1"',
                                   b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd"/>'
                                   b'<bpmn:sequenceFlow id="Flow_s1"'))
    assert [p.message for p in problems if "XInclude" in p.message]


def test_a_flow_without_its_target_is_named_not_a_cascade_of_unreachable_elements() -> None:
    problems = bundle_problems(flow=("engine_acceptance.bpmn", b' targetRef="Timer_3m" />', b" />"))
    assert [(p.element, "no targetRef" in p.message) for p in problems] == [("Flow_s2", True)]
    problems = bundle_problems(flow=("engine_acceptance.bpmn", b'targetRef="Timer_3m"', b'targetRef="Timer_3x"'))
    assert [(p.element, "'Timer_3x' is not an element" in p.message) for p in problems] == [("Flow_s2", True)]


def test_a_boundary_event_without_its_activity_is_named() -> None:
    problems = bundle_problems(attach=("engine_acceptance.bpmn", b' attachedToRef="Task_reassess"', b""))
    assert [(p.element, "not attached to an activity" in p.message) for p in problems] == [("Boundary_overdue", True)]
