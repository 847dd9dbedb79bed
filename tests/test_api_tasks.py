"""Task detail with form and ETag; claim/unclaim; completion races, stale ETags and form errors."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from api.testkit import audit_count, bearer, bundle_files

pytest_plugins = ["api.testing"]


def _reassess(client: FlaskClient, tokens: dict[str, str]) -> dict[str, Any]:
    lead, coordinator = bearer(tokens["clinical_lead"]), bearer(tokens["coordinator"])
    assert client.post("/api/definitions", data=bundle_files(), headers=lead).status_code == 201
    patient = client.post("/api/patients", json={"externalId": "MRN-T"}, headers=coordinator).json["id"]
    pathway = client.post(f"/api/patients/{patient}/pathways", headers=coordinator, json={
        "definition": "engine_acceptance",
        "variables": {"painScore": 4, "neuroDeficit": False, "fractureDate": "2026-01-01"}}).json
    [task] = client.get("/api/tasks", query_string={"pathwayId": pathway["id"]}, headers=coordinator).json["items"]
    return task


def test_detail_has_form_and_etag(client: FlaskClient, tokens: dict[str, str]) -> None:
    task = _reassess(client, tokens)
    r = client.get(f"/api/tasks/{task['id']}", headers=bearer(tokens["api_client"]))
    assert r.status_code == 200
    assert r.headers["ETag"] == f'"{r.json["etag"]}"'
    fields = {f["id"]: f for f in r.json["form"]["fields"]}
    assert fields["painScore"]["type"] == "long" and fields["painScore"]["label"] == "Pain (0-10)"
    assert fields["painScore"]["constraints"] == {"required": None, "min": "0", "max": "10"} or \
        set(fields["painScore"]["constraints"]) == {"required", "min", "max"}
    assert [o["id"] for o in fields["mobility"]["options"]] == ["independent", "assisted"]
    assert client.get("/api/tasks/nope", headers=bearer(tokens["api_client"])).status_code == 404


def test_claim_unclaim_and_someone_elses_claim(client: FlaskClient, tokens: dict[str, str]) -> None:
    task = _reassess(client, tokens)
    coordinator, lead = bearer(tokens["coordinator"]), bearer(tokens["clinical_lead"])
    r = client.post(f"/api/tasks/{task['id']}/claim", headers=coordinator)
    assert r.status_code == 200 and r.json["assignee"] == "coordinator-user"
    assert client.get("/api/tasks", query_string={"assignee": "coordinator-user"},
                      headers=coordinator).json["items"][0]["id"] == task["id"]
    r = client.post(f"/api/tasks/{task['id']}/claim", headers=lead)
    assert r.status_code == 409 and r.content_type == "application/problem+json"
    r = client.post(f"/api/tasks/{task['id']}/complete", json={"variables": {"painScore": 2}}, headers=lead)
    assert r.status_code == 409
    assert client.post(f"/api/tasks/{task['id']}/unclaim", headers=coordinator).json["assignee"] is None
    assert client.post(f"/api/tasks/{task['id']}/claim", headers=lead).status_code == 200


def test_only_the_holder_a_lead_or_an_admin_releases_a_claim(app: Flask, client: FlaskClient,
                                                             tokens: dict[str, str]) -> None:
    task = _reassess(client, tokens)
    with app.app_context():
        from engine.store.tokens import create_token

        svc = app.extensions["pathway"]["service"]
        with svc.ctx.write() as session:
            other = create_token(session, "coordinator-two", "coordinator", svc.clock.now())
    coordinator, second = bearer(tokens["coordinator"]), bearer(other)
    assert client.post(f"/api/tasks/{task['id']}/claim", headers=coordinator).status_code == 200
    before = audit_count(app)
    r = client.post(f"/api/tasks/{task['id']}/unclaim", headers=second)
    assert r.status_code == 403 and "coordinator-user" in r.json["detail"]
    assert audit_count(app) == before
    assert client.get(f"/api/tasks/{task['id']}", headers=second).json["assignee"] == "coordinator-user"
    r = client.post(f"/api/tasks/{task['id']}/unclaim", headers=bearer(tokens["clinical_lead"]))
    assert r.status_code == 200 and r.json["assignee"] is None  # a lead may reassign work
    assert client.post(f"/api/tasks/{task['id']}/claim", headers=coordinator).status_code == 200
    assert client.post(f"/api/tasks/{task['id']}/unclaim", headers=bearer(tokens["admin"])).status_code == 200


def test_two_completions_one_wins(app: Flask, tokens: dict[str, str]) -> None:
    client = app.test_client()
    task = _reassess(client, tokens)
    results: list[int] = []
    barrier = threading.Barrier(2)

    def complete() -> None:
        own = app.test_client()
        barrier.wait()
        r = own.post(f"/api/tasks/{task['id']}/complete", json={"variables": {"painScore": 3}},
                     headers=bearer(tokens["coordinator"]))
        results.append(r.status_code)

    threads = [threading.Thread(target=complete) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == [200, 409]
    # The instance is intact: the task is completed once and the pathway moved on once.
    state = client.get(f"/api/pathways/{task['pathwayId']}", headers=bearer(tokens["api_client"])).json
    assert "Timer_3m" in state["activeElements"] and "Task_reassess" not in state["activeElements"]
    events = client.get(f"/api/pathways/{task['pathwayId']}/timeline", headers=bearer(tokens["api_client"])).json
    assert [e["action"] for e in events["items"]].count("task.complete") == 1
    detail = client.get(f"/api/tasks/{task['id']}", headers=bearer(tokens["api_client"])).json
    assert detail["status"] == "completed" and detail["completedBy"] == "coordinator-user"


def test_stale_etag_is_412_and_changes_nothing(app: Flask, client: FlaskClient, tokens: dict[str, str]) -> None:
    task = _reassess(client, tokens)
    coordinator = bearer(tokens["coordinator"])
    etag = client.get(f"/api/tasks/{task['id']}", headers=coordinator).headers["ETag"]
    claimed = client.post(f"/api/tasks/{task['id']}/claim", headers={**coordinator, "If-Match": etag})
    assert claimed.status_code == 200 and claimed.headers["ETag"] != etag
    before = audit_count(app)
    r = client.post(f"/api/tasks/{task['id']}/complete", json={"variables": {"painScore": 3}},
                    headers={**coordinator, "If-Match": etag})
    assert r.status_code == 412 and r.json["status"] == 412
    assert audit_count(app) == before
    r = client.post(f"/api/tasks/{task['id']}/complete", json={"variables": {"painScore": 3}},
                    headers={**coordinator, "If-Match": claimed.headers["ETag"]})
    assert r.status_code == 200
    r = client.post(f"/api/tasks/{task['id']}/complete", json={"variables": {"painScore": 3}}, headers=coordinator)
    assert r.status_code == 409


def test_form_errors_are_422_per_field_and_change_nothing(app: Flask, client: FlaskClient,
                                                          tokens: dict[str, str]) -> None:
    task = _reassess(client, tokens)
    coordinator = bearer(tokens["coordinator"])
    before = audit_count(app)
    cases = [
        ({}, {("painScore", "required")}),
        ({"painScore": "high"}, {("painScore", "type")}),
        ({"painScore": 11}, {("painScore", "max")}),
        ({"painScore": -1}, {("painScore", "min")}),
        ({"painScore": 2.5}, {("painScore", "type")}),
        ({"painScore": 2, "mobility": "flying"}, {("mobility", "type")}),
        ({"painScore": 2, "colour": "red"}, {("colour", "unknown")}),
    ]
    for variables, expected in cases:
        r = client.post(f"/api/tasks/{task['id']}/complete", json={"variables": variables}, headers=coordinator)
        assert r.status_code == 422, (variables, r.json)
        assert r.content_type == "application/problem+json"
        assert {(e["field"], e["code"]) for e in r.json["errors"]} == expected, variables
    assert audit_count(app) == before
    assert client.get(f"/api/tasks/{task['id']}", headers=coordinator).json["status"] == "ready"
