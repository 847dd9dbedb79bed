"""The ``pathway`` command line as outside users call it: real subprocesses, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


def pathway(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def test_decide_prints_result_and_matched_rules() -> None:
    run = pathway("decide", str(FIXTURES / "bundle" / "triage.dmn"), "--decision", "Triage",
                  "--input", '{"neuroDeficit": false, "painScore": 8}')
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"result": "urgent", "matchedRules": ["Rule_pain"]}


def test_decide_three_level_drd_by_name() -> None:
    run = pathway("decide", str(FIXTURES / "dmn" / "pathway_drd.dmn"), "--decision", "Next step",
                  "--input", '{"vas": 7, "weeksSinceFracture": 13, "neuroDeficit": false}')
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert set(out) == {"result", "matchedRules"} and out["matchedRules"]


def test_decide_unique_violation_exits_2_naming_the_rules() -> None:
    # score 7 matches both "[4..7]" and ">= 7" in the UNIQUE table.
    run = pathway("decide", str(FIXTURES / "dmn" / "hit_policies.dmn"), "--decision", "Decision_Unique",
                  "--input", '{"score": 7}')
    assert run.returncode == 2
    assert "UNIQUE" in (run.stderr + run.stdout).upper()


def test_decide_bad_input_json_exits_2() -> None:
    run = pathway("decide", str(FIXTURES / "bundle" / "triage.dmn"), "--decision", "Triage", "--input", "{oops")
    assert run.returncode == 2
    assert "JSON" in run.stderr


def test_lint_clean_bundle_exits_0() -> None:
    run = pathway("lint", str(FIXTURES / "bundle"))
    assert run.returncode == 0, run.stdout
    assert run.stdout == ""


BROKEN_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  id="Definitions_broken" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="broken" isExecutable="true">
    <bpmn:startEvent id="Start"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="Gw" default="F3"><bpmn:incoming>F1</bpmn:incoming>
      <bpmn:outgoing>F2</bpmn:outgoing><bpmn:outgoing>F3</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:businessRuleTask id="Rules" camunda:decisionRef="NoSuchDecision" camunda:resultVariable="r">
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:businessRuleTask>
    <bpmn:endEvent id="End"><bpmn:incoming>F3</bpmn:incoming><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:userTask id="Orphan" name="Never reached" />
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Gw" />
    <bpmn:sequenceFlow id="F2" sourceRef="Gw" targetRef="Rules">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${pain &gt;= (3.5}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F3" sourceRef="Gw" targetRef="End" />
    <bpmn:sequenceFlow id="F4" sourceRef="Rules" targetRef="End" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_lint_names_file_and_element_for_each_problem(tmp_path: Path) -> None:
    (tmp_path / "broken.bpmn").write_text(BROKEN_BPMN)
    run = pathway("lint", str(tmp_path))
    assert run.returncode == 1
    lines = run.stdout.strip().splitlines()
    assert any(line.startswith("broken.bpmn:F2: condition") and "not valid FEEL" in line for line in lines), lines
    assert any(line.startswith("broken.bpmn:Rules: decision 'NoSuchDecision'") for line in lines), lines
    assert any(line.startswith("broken.bpmn:Orphan: is unreachable") for line in lines), lines


def test_users_add_prints_only_the_token_and_stores_its_hash(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    run = pathway("users", "add", "alice", "--role", "coordinator", env={"DATABASE_URL": url})
    assert run.returncode == 0, run.stderr
    token = run.stdout.strip()
    assert len(token) >= 20 and "\n" not in token
    from engine.store import find_token, make_engine, make_session_factory

    with make_session_factory(make_engine(url))() as session:
        row = find_token(session, token)
        assert row is not None and row.role == "coordinator" and row.name == "alice"
        assert row.token_hash != token


def test_users_add_rejects_unknown_role(tmp_path: Path) -> None:
    run = pathway("users", "add", "bob", "--role", "superuser", env={"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert run.returncode == 2


@pytest.mark.parametrize("args", [("timers", "--once")])
def test_timers_once_on_empty_database_fires_nothing(tmp_path: Path, args: tuple[str, ...]) -> None:
    run = pathway(*args, env={"DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}"})
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""


def test_timers_once_in_a_new_process_fires_each_overdue_timer_once_in_due_order(tmp_path: Path) -> None:
    """Enrol in the past on a simulated clock, then let a fresh process catch up on the wall clock."""
    from datetime import date, datetime

    from engine.clock import SimulatedClock
    from engine.wiring import open_service

    url = f"sqlite:///{tmp_path / 'restart.db'}"
    clock = SimulatedClock(datetime(2020, 1, 6, 9, 0, tzinfo=UTC))
    service = open_service(url, clock).service
    files = {p.name: p.read_bytes() for p in (FIXTURES / "bundle").iterdir()}
    service.deploy(files, actor="lead")
    pathway_id = service.enroll("engine_acceptance", actor="coordinator",
                                variables={"painScore": 3, "neuroDeficit": False, "fractureDate": date(2020, 1, 1)})
    reassess = service.tasks(pathway_id=pathway_id)["items"][0]
    service.complete(reassess["id"], {"painScore": 4}, actor="coordinator")  # starts the P3M timer

    first = pathway("timers", "--once", env={"DATABASE_URL": url})
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"{pathway_id}: Timer_3m@2020-04-06T09:00:00+00:00"

    second = pathway("timers", "--once", env={"DATABASE_URL": url})
    assert second.returncode == 0 and second.stdout == ""
    names = [t["elementId"] for t in service.tasks(pathway_id=pathway_id)["items"]]
    assert names == ["Task_three_month"]


def test_users_add_with_groups(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'groups.db'}"
    run = pathway("users", "add", "dr-li", "--role", "coordinator", "--group", "clinician",
                  "--group", "endocrinology", env={"DATABASE_URL": url})
    assert run.returncode == 0, run.stderr
    from engine.store import find_token, make_engine, make_session_factory

    with make_session_factory(make_engine(url))() as session:
        assert find_token(session, run.stdout.strip()).groups == ["clinician", "endocrinology"]
