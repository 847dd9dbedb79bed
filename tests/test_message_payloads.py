"""Issue 7: a message declares what it must carry (``payload`` on its catch events). Correlating
without it is a 422 naming the missing variables and nothing changes; before, a denosumab
discontinuation correlated with ``{}`` reused the stale ``false`` of the last dose form and DT10
recommended continuing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.testkit import bearer
from engine.clock import SimulatedClock
from engine.forms import validate_submission
from engine.service import InvalidInput, Service
from engine.store import AuditEvent

pytest_plugins = ["api.testing"]
ROOT = Path(__file__).resolve().parents[1]


def bundle() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for folder in ("pathways", "dmn") for p in sorted((ROOT / folder).glob("*"))
            if p.suffix in (".bpmn", ".dmn")}


def answers(svc: Service, task: dict, **given) -> dict:
    """Every required field of the task's form, with neutral answers unless ``given``."""
    today = svc.clock.now().date().isoformat()
    neutral = {"boolean": False, "date": today, "string": "noted", "long": 0, "double": 1, "enum": None}
    form = svc.task(task["id"])["form"]
    values = {}
    for spec in form["fields"]:
        if spec["id"] in given:
            values[spec["id"]] = given[spec["id"]]
        elif spec["required"] and spec.get("default") is None:
            values[spec["id"]] = neutral[spec["type"]] if spec["type"] != "enum" else spec["options"][0]["id"]
            if spec["type"] in ("long", "double") and spec["constraints"].get("min") is not None:
                values[spec["id"]] = float(spec["constraints"]["min"])
    validate_submission(form, values)
    return values


def complete(svc: Service, pid: str, element: str, **given) -> None:
    [task] = [t for t in svc.tasks(pathway_id=pid)["items"] if t["elementId"] == element]
    svc.complete(task["id"], answers(svc, task, **given), actor="test")


def audit_count(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent))


def test_a_discontinuation_without_its_answer_is_refused_and_changes_nothing(
        session_factory: sessionmaker[Session]) -> None:
    svc = Service(session_factory, SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    svc.deploy(bundle(), actor="lead")
    pid = svc.enroll("ovcf_pathway", actor="test")
    complete(svc, pid, "UT1_Intake", mechanism="LOW_ENERGY_FALL", priorAgent="NONE", miOrStrokeHistory="NONE",
             painScore=4, fractureLevel="L2")
    complete(svc, pid, "UT3_Workup", crCl=60, eGFR=70, vitD25OH=30, uprightMinutesTolerated=60, age=70,
             lowestTScore=-2.2, fraxMOF=12, fraxHip=1.5)
    complete(svc, pid, "UT4_Prescribe", therapyClass="DENOSUMAB", chosenAgent="denosumab")
    complete(svc, pid, "UT_FirstPreDoseCheck", eGFR=70, hypocalcemiaUncorrected=False)
    complete(svc, pid, "UT11_FirstDose", doseDate=svc.clock.now().date().isoformat())
    assert "DenosumabDiscontinuationRequested" in svc.pathway(pid)["waitingMessages"]
    before, version = audit_count(session_factory), svc.pathway(pid)["version"]

    with pytest.raises(InvalidInput) as refused:
        svc.correlate_message(pid, "DenosumabDiscontinuationRequested", actor="gp", variables={})
    assert [(e.field, e.code) for e in refused.value.errors] == [("discontinuationRequested", "required")]
    assert audit_count(session_factory) == before and svc.pathway(pid)["version"] == version

    svc.correlate_message(pid, "DenosumabDiscontinuationRequested", actor="gp",
                          variables={"discontinuationRequested": True})
    complete(svc, pid, "UT_ExitLabs", crCl=60, eGFR=70, vitD25OH=30)  # the exit plan runs on current labs
    assert svc.pathway(pid)["variables"]["transitionPlan"]["plan"] != "DO_NOT_STOP_CONTINUE_DENOSUMAB"
    assert "UT12_ExitPlan" in [t["elementId"] for t in svc.tasks(pathway_id=pid)["items"]]


def test_the_api_answers_422_naming_the_missing_variable(client: FlaskClient, tokens: dict[str, str]) -> None:
    lead, coordinator = bearer(tokens["clinical_lead"]), bearer(tokens["coordinator"])
    files = {name: (__import__("io").BytesIO(content), name) for name, content in bundle().items()}
    assert client.post("/api/definitions", data=files, headers=lead,
                       content_type="multipart/form-data").status_code == 201
    patient = client.post("/api/patients", json={"externalId": "MRN-PAYLOAD"}, headers=coordinator).json["id"]
    pathway = client.post(f"/api/patients/{patient}/pathways", headers=coordinator,
                          json={"definition": "ovcf_pathway"}).json
    # RedFlagReported carries nothing ('-'): accepted as it is
    r = client.post(f"/api/pathways/{pathway['id']}/messages/RedFlagReported", json={}, headers=coordinator)
    assert r.status_code == 200, r.json
    # a message the pathway is not waiting for is still a 409, not a payload error
    r = client.post(f"/api/pathways/{pathway['id']}/messages/DenosumabDiscontinuationRequested", json={},
                    headers=coordinator)
    assert r.status_code == 409
