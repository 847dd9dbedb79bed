"""A patient followed from enrollment over simulated months, entirely through HTTP."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from api.testkit import bearer, bundle_files

pytest_plugins = ["api.testing"]  # fixtures: app, client, tokens

KEY = "engine_acceptance"


def deploy(client: FlaskClient, tokens: dict[str, str]) -> dict[str, Any]:
    r = client.post("/api/definitions", data=bundle_files(), headers=bearer(tokens["clinical_lead"]),
                    content_type="multipart/form-data")
    assert r.status_code == 201, r.json
    return r.json


def enroll(client: FlaskClient, tokens: dict[str, str], mrn: str, **variables: Any) -> dict[str, Any]:
    coordinator = bearer(tokens["coordinator"])
    r = client.post("/api/patients", json={"externalId": mrn, "displayName": f"Patient {mrn}"}, headers=coordinator)
    assert r.status_code == 201, r.json
    patient_id = r.json["id"]
    r = client.post(f"/api/patients/{patient_id}/pathways", json={"definition": KEY, "variables": variables},
                    headers=coordinator)
    assert r.status_code == 201, r.json
    assert r.headers["Location"] == f"/api/pathways/{r.json['id']}"
    found = client.get("/api/patients", query_string={"externalId": mrn}, headers=coordinator).json
    assert found["id"] == patient_id and found["pathways"] == [{"id": r.json["id"], "status": "running"}]
    assert client.get(f"/api/patients/{patient_id}", headers=coordinator).json["displayName"] == f"Patient {mrn}"
    return r.json


def tasks(client: FlaskClient, token: str, **query: Any) -> list[dict[str, Any]]:
    r = client.get("/api/tasks", query_string=query, headers=bearer(token))
    assert r.status_code == 200, r.json
    return r.json["items"]


def advance(client: FlaskClient, token: str, duration: str) -> dict[str, Any]:
    r = client.post("/api/clock", json={"advance": duration}, headers=bearer(token))
    assert r.status_code == 200, r.json
    return r.json


def test_patient_followed_over_months(client: FlaskClient, tokens: dict[str, str]) -> None:
    definition = deploy(client, tokens)
    assert (definition["key"], definition["version"]) == (KEY, 1)
    coordinator, lead, poller = tokens["coordinator"], tokens["clinical_lead"], tokens["api_client"]

    routine = enroll(client, tokens, "MRN-1", painScore=5, neuroDeficit=False, fractureDate="2026-01-01")
    assert routine["status"] == "running"
    assert routine["definition"] == {"key": KEY, "version": 1}
    assert routine["variables"]["urgency"] == "routine"
    assert "Task_reassess" in routine["activeElements"]
    assert routine["nextDueAt"] == "2026-02-16T09:00:00+00:00"  # the 6-week boundary timer
    later = enroll(client, tokens, "MRN-2", painScore=4, neuroDeficit=False, fractureDate="2026-01-03")
    urgent = enroll(client, tokens, "MRN-3", painScore=9, neuroDeficit=False, fractureDate="2026-01-02")
    assert urgent["variables"]["urgency"] == "urgent"

    # The coordinator worklist: reassessments due fracture date + 4 weeks, soonest first.
    work = tasks(client, coordinator, candidateGroup="coordinator")
    assert [(t["pathwayId"], t["elementId"], t["due"]) for t in work] == [
        (routine["id"], "Task_reassess", "2026-01-29T00:00:00+00:00"),
        (later["id"], "Task_reassess", "2026-01-31T00:00:00+00:00"),
    ]
    assert work[0]["followUp"] == "2026-01-19T09:00:00+00:00"
    assert work[0]["overdue"] is False
    # The clinician's urgent review is due within 4 hours; dueBefore is strict and filters exactly.
    clinician = tasks(client, poller, candidateGroup="clinician")
    assert [t["elementId"] for t in clinician] == ["Task_urgent_review", "Task_reassess", "Task_reassess"]
    assert clinician[0]["due"] == "2026-01-05T13:00:00+00:00"
    # Cursor pagination walks the same order one page at a time.
    paged, cursor = [], None
    while True:
        query = {"candidateGroup": "clinician", "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/tasks", query_string=query, headers=bearer(poller)).json
        paged.extend(page["items"])
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert [t["id"] for t in paged] == [t["id"] for t in clinician]
    by_patient = tasks(client, poller, patientId=urgent["patientId"])
    assert [(t["pathwayId"], t["elementId"]) for t in by_patient] == [(urgent["id"], "Task_urgent_review")]
    due_soon = tasks(client, poller, candidateGroup="coordinator", dueBefore="2026-01-30T00:00:00Z")
    assert [t["pathwayId"] for t in due_soon] == [routine["id"]]
    assert tasks(client, poller, dueAfter="2026-01-30T00:00:00Z", dueBefore="2026-02-01T00:00:00Z")[0][
        "pathwayId"] == later["id"]

    # Six weeks on: the overdue boundary fired at its due time and a chase task appeared.
    moved = advance(client, coordinator, "P6W")
    assert moved["now"] == "2026-02-16T09:00:00+00:00"
    assert {f["pathwayId"] for f in moved["fired"]} == {routine["id"], later["id"]}
    assert {t["elementId"] for f in moved["fired"] for t in f["fired"]} == {"Boundary_overdue"}
    chase = tasks(client, coordinator, candidateGroup="coordinator", pathwayId=routine["id"])
    assert [t["elementId"] for t in chase] == ["Task_reassess", "Task_chase"]
    overdue = tasks(client, poller, overdue="true", candidateGroup="coordinator")
    assert [t["pathwayId"] for t in overdue] == [routine["id"], later["id"]]
    assert all(t["overdue"] for t in overdue)

    # Completing the reassessment moves the pathway on to the 3-month timer.
    reassess = chase[0]
    r = client.post(f"/api/tasks/{reassess['id']}/complete", json={"variables": {"painScore": 3, "mobility": "independent"}},
                    headers=bearer(coordinator))
    assert r.status_code == 200, r.json
    state = client.get(f"/api/pathways/{routine['id']}", headers=bearer(poller)).json
    assert "Timer_3m" in state["activeElements"] and "Task_reassess" in state["completedElements"]
    assert state["variables"]["painScore"] == 3
    assert state["nextDueAt"] == "2026-05-16T09:00:00+00:00"

    # Three months later the 3-month review is there for the clinician.
    advance(client, lead, "P3M")
    review = tasks(client, lead, candidateGroup="clinician", pathwayId=routine["id"])
    assert [t["elementId"] for t in review] == ["Task_three_month"]
    remaining = tasks(client, coordinator, pathwayId=routine["id"])
    assert {t["elementId"] for t in remaining} == {"Task_three_month", "Task_chase"}
    for task in remaining:
        r = client.post(f"/api/tasks/{task['id']}/complete", json={}, headers=bearer(lead))
        assert r.status_code == 200, r.json
    final = client.get(f"/api/pathways/{routine['id']}", headers=bearer(poller)).json
    assert final["status"] == "completed" and final["nextDueAt"] is None
    assert tasks(client, poller, pathwayId=routine["id"]) == []

    # The timeline tells the whole story with actors and times.
    events = client.get(f"/api/pathways/{routine['id']}/timeline", headers=bearer(poller)).json["items"]
    steps = [(e["action"], e["actor"], e["at"]) for e in events]
    assert steps[0] == ("pathway.enroll", "coordinator-user", "2026-01-05T09:00:00+00:00")
    assert ("timer.fire", "system:timer", "2026-02-16T09:00:00+00:00") in steps
    assert ("timer.fire", "system:timer", "2026-05-16T09:00:00+00:00") in steps
    completions = [(e["actor"], e["details"]["elementId"]) for e in events if e["action"] == "task.complete"]
    assert completions[0] == ("coordinator-user", "Task_reassess")
    assert {c[1] for c in completions} == {"Task_reassess", "Task_three_month", "Task_chase"}
    assert steps == sorted(steps, key=lambda s: s[2])


def test_pathway_variables_show_the_latest_completion(client: FlaskClient, tokens: dict[str, str]) -> None:
    """Submitted form values show in the pathway's variables (the engine used to read a stale
    ``last_task`` after a task inside a sub-process with a boundary event)."""
    deploy(client, tokens)
    started = enroll(client, tokens, "MRN-9", painScore=5, neuroDeficit=False, fractureDate="2026-01-01")
    [task] = tasks(client, tokens["coordinator"], pathwayId=started["id"])
    r = client.post(f"/api/tasks/{task['id']}/complete", json={"variables": {"painScore": 3}},
                    headers=bearer(tokens["coordinator"]))
    assert r.status_code == 200
    state = client.get(f"/api/pathways/{started['id']}", headers=bearer(tokens["api_client"])).json
    assert state["variables"]["painScore"] == 3
