"""FHIR R4 facade, first part (issue 12): metadata, Patient and Task read and search, paging that
holds while tasks are completed between pages, errors as OperationOutcome; every resource and
search bundle validated with fhir.resources (R4B models, which read R4 JSON)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from fhir.resources.R4B import get_fhir_model_class
from flask import Flask
from flask.testing import FlaskClient

from api.testkit import audit_count, bearer, bundle_files

pytest_plugins = ["api.testing"]

FHIR_JSON = "application/fhir+json"
MRN = "https://ovcf-pathway.invalid/fhir/sid/mrn"


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource, after fhir.resources accepted it (and each entry of a bundle)."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    for entry in resource.get("entry", []):
        valid(entry["resource"])
    return resource


def fhir_get(client: FlaskClient, url: str, token: str, status: int = 200) -> dict[str, Any]:
    r = client.get(url, headers=bearer(token))
    assert (r.status_code, r.content_type) == (status, FHIR_JSON), r.data[:500]
    return valid(r.json)


def pages(client: FlaskClient, url: str, token: str) -> Iterator[dict[str, Any]]:
    """Each page of a search, following its next links (the caller may change things between)."""
    while url:
        page = fhir_get(client, url, token)
        yield page
        nxt = [link["url"] for link in page["link"] if link["relation"] == "next"]
        url = urlsplit(nxt[0])._replace(scheme="", netloc="").geturl() if nxt else ""


def complete_each(client: FlaskClient, token: str, task_ids: list[str], done: set[str]) -> None:
    """A coordinator completes each task not done yet (between two pages of a search)."""
    for task_id in task_ids:
        if task_id not in done:
            r = client.post(f"/api/tasks/{task_id}/complete", json={"variables": {"painScore": 2}},
                            headers=bearer(token))
            assert r.status_code == 200, r.json
            done.add(task_id)


def _enrol(client: FlaskClient, token: str, mrn: str, name: str | None = None) -> tuple[str, str]:
    patient = client.post("/api/patients", json={"externalId": mrn, **({"displayName": name} if name else {}),
                                                  "birthDate": "1950-02-03"}, headers=bearer(token)).json["id"]
    r = client.post(f"/api/patients/{patient}/pathways", headers=bearer(token), json={
        "definition": "engine_acceptance", "variables": {"painScore": 4, "neuroDeficit": False,
                                                         "fractureDate": "2026-01-01"}})
    assert r.status_code == 201, r.json
    return patient, r.json["id"]


@pytest.fixture
def tasks_ready(client: FlaskClient, tokens: dict[str, str]) -> list[tuple[str, str]]:
    assert client.post("/api/definitions", data=bundle_files(), headers=bearer(tokens["admin"])).status_code == 201
    return [_enrol(client, tokens["coordinator"], f"MRN-F{n:03d}", f"Patient {n}") for n in range(12)]


def test_metadata_says_exactly_what_is_supported(client: FlaskClient) -> None:
    r = client.get("/fhir/metadata")
    assert (r.status_code, r.content_type) == (200, FHIR_JSON)
    statement = valid(r.json)
    assert statement["fhirVersion"] == "4.0.1"
    resources = {res["type"]: res for res in statement["rest"][0]["resource"]}
    assert set(resources) == {"Patient", "Task", "CarePlan", "Provenance"}
    assert {p["name"] for p in resources["Task"]["searchParam"]} == {
        "status", "patient", "owner", "performer", "period", "_sort", "_count", "_lastUpdated", "_summary"}
    assert [i["code"] for i in resources["Task"]["interaction"]] == ["read", "search-type", "update"]
    assert [i["code"] for i in resources["CarePlan"]["interaction"]] == ["read"]


def test_patient_read_and_search_by_identifier(client: FlaskClient, tokens: dict[str, str],
                                               tasks_ready: list[tuple[str, str]]) -> None:
    token = tokens["api_client"]
    patient_id, _ = tasks_ready[3]
    patient = fhir_get(client, f"/fhir/Patient/{patient_id}", token)
    assert patient["identifier"] == [{"system": MRN, "value": "MRN-F003"}]
    assert (patient["name"], patient["birthDate"]) == ([{"text": "Patient 3"}], "1950-02-03")
    for query in (f"identifier={MRN}|MRN-F003", "identifier=MRN-F003"):
        found = fhir_get(client, f"/fhir/Patient?{query}", token)
        assert [e["resource"]["id"] for e in found["entry"]] == [patient_id]
    assert fhir_get(client, "/fhir/Patient?identifier=MRN-NONE", token)["entry"] == []
    outcome = fhir_get(client, "/fhir/Patient?identifier=urn:other|MRN-F003", token, 400)
    assert outcome["issue"][0]["expression"] == ["identifier"]
    fhir_get(client, "/fhir/Patient/no-such-patient", token, 404)


def test_task_search_filters_and_maps_each_field(client: FlaskClient, tokens: dict[str, str],
                                                 tasks_ready: list[tuple[str, str]]) -> None:
    token, coordinator = tokens["api_client"], tokens["coordinator"]
    patient_id, pathway_id = tasks_ready[0]
    [mine] = client.get("/api/tasks", query_string={"pathwayId": pathway_id}, headers=bearer(coordinator)).json["items"]
    assert client.post(f"/api/tasks/{mine['id']}/claim", headers=bearer(coordinator)).status_code == 200

    task = fhir_get(client, f"/fhir/Task/{mine['id']}", token)
    assert (task["status"], task["intent"], task["for"], task["basedOn"]) == (
        "in-progress", "order", {"reference": f"Patient/{patient_id}"}, [{"reference": f"CarePlan/{pathway_id}"}])
    assert task["owner"]["identifier"]["value"] == "coordinator-user"
    assert {c["coding"][0]["code"] for c in task["performerType"]} == set(mine["candidateGroups"])
    assert task["restriction"]["period"]["end"] == mine["due"] and task["code"]["text"] == mine["name"]

    counted = fhir_get(client, "/fhir/Task?status=ready&_summary=count", token)
    assert (counted["total"], counted.get("entry")) == (11, None)
    assert fhir_get(client, f"/fhir/Task?performer={mine['candidateGroups'][0]}&_summary=count", token)["total"] == 12
    ready = fhir_get(client, "/fhir/Task?status=ready&_count=50", token)
    assert len(ready["entry"]) == 11 and all(e["resource"]["status"] == "ready" for e in ready["entry"])
    claimed = fhir_get(client, "/fhir/Task?status=in-progress", token)
    assert [e["resource"]["id"] for e in claimed["entry"]] == [mine["id"]]
    by_owner = fhir_get(client, "/fhir/Task?owner=coordinator-user", token)
    assert [e["resource"]["id"] for e in by_owner["entry"]] == [mine["id"]]
    by_patient = fhir_get(client, f"/fhir/Task?patient=Patient/{patient_id}", token)
    assert [e["resource"]["id"] for e in by_patient["entry"]] == [mine["id"]]
    group = mine["candidateGroups"][0]
    assert len(fhir_get(client, f"/fhir/Task?performer={group}", token)["entry"]) == 12
    assert fhir_get(client, "/fhir/Task?performer=nobody", token)["entry"] == []
    due = mine["due"][:10]
    assert len(fhir_get(client, f"/fhir/Task?period=le{due}", token)["entry"]) == 12
    assert fhir_get(client, f"/fhir/Task?period=lt{due}", token)["entry"] == []
    assert fhir_get(client, f"/fhir/Task?period=ge{due}&period=le{due}", token)["entry"] != []


def test_paging_while_tasks_are_completed_between_pages(client: FlaskClient, tokens: dict[str, str],
                                                        tasks_ready: list[tuple[str, str]]) -> None:
    token, coordinator = tokens["api_client"], tokens["coordinator"]
    all_ids = [e["resource"]["id"] for e in fhir_get(client, "/fhir/Task?status=ready&_count=200", token)["entry"]]
    assert len(all_ids) == 12
    seen: list[str] = []
    done: set[str] = set()
    for page in pages(client, "/fhir/Task?status=ready&_count=5", token):
        seen += [e["resource"]["id"] for e in page["entry"]]
        # between pages a coordinator completes a task not yet listed, and one already listed
        complete_each(client, coordinator, [i for i in all_ids if i not in seen][:1] + seen[-1:], done)
    assert len(seen) == len(set(seen))  # no duplicates
    still_ready = [i for i in all_ids if i not in done]
    assert set(still_ready) <= set(seen)  # no gaps: every task ready throughout was listed


def test_errors_are_operation_outcomes_and_change_nothing(app: Flask, client: FlaskClient,
                                                          tokens: dict[str, str]) -> None:
    before = audit_count(app)
    r = client.get("/fhir/Task")
    assert (r.status_code, r.content_type) == (401, FHIR_JSON) and valid(r.json)["issue"][0]["code"] == "login"
    token = tokens["api_client"]
    for url, status, where in (("/fhir/Task?foo=1", 400, "foo"), ("/fhir/Task?status=done", 400, "status"),
                               ("/fhir/Task?_count=0", 400, "_count"), ("/fhir/Task?period=2026-01-01", 400, "period"),
                               ("/fhir/Task?_sort=name", 400, "_sort"), ("/fhir/Task?_format=xml", 406, "_format")):
        outcome = fhir_get(client, url, token, status)
        assert outcome["issue"][0]["expression"] == [where], url
    fhir_get(client, "/fhir/Task/no-such-task", token, 404)
    fhir_get(client, "/fhir/Observation", token, 404)
    assert audit_count(app) == before


def _put(client: FlaskClient, token: str, task: dict[str, Any], etag: str | None, **changes: Any) -> Any:
    headers = {**bearer(token), **({"If-Match": f'W/"{etag}"'} if etag else {})}
    return client.put(f"/fhir/Task/{task['id']}", json={**task, **changes}, headers=headers,
                      content_type=FHIR_JSON)


def test_completing_a_task_through_fhir_validates_like_the_form_and_guards_the_version(
        app: Flask, client: FlaskClient, tokens: dict[str, str], tasks_ready: list[tuple[str, str]]) -> None:
    coordinator = tokens["coordinator"]
    _, pathway_id = tasks_ready[0]
    [row] = client.get("/api/tasks", query_string={"pathwayId": pathway_id}, headers=bearer(coordinator)).json["items"]
    r = client.get(f"/fhir/Task/{row['id']}", headers=bearer(coordinator))
    task, etag = valid(r.json), r.headers["ETag"].removeprefix("W/").strip('"')
    fields = {i["type"]["coding"][0]["code"]: i["valueString"] for i in task["input"]}
    assert fields == {"painScore": "long, required", "mobility": "enum (independent | assisted)"}

    before = audit_count(app)
    bad = _put(client, coordinator, task, etag, status="completed", output=[
        {"type": {"coding": [{"code": "painScore"}]}, "valueInteger": 11},
        {"type": {"coding": [{"code": "shoeSize"}]}, "valueInteger": 9}])
    assert (bad.status_code, bad.content_type) == (422, FHIR_JSON)
    assert set(valid(bad.json)["issue"][0]["expression"]) == {
        "Task.output.where(type.coding.code='painScore')", "Task.output.where(type.coding.code='shoeSize')"}
    stale = _put(client, coordinator, task, str(int(etag) + 7), status="completed",
                 output=[{"type": {"coding": [{"code": "painScore"}]}, "valueInteger": 3}])
    assert stale.status_code == 412 and valid(stale.json)["resourceType"] == "OperationOutcome"
    assert audit_count(app) == before  # nothing changed

    patched = client.patch(f"/fhir/Task/{task['id']}", json=[{"op": "replace", "path": "/status",
                                                             "value": "in-progress"}],
                           headers={**bearer(coordinator), "If-Match": f'W/"{etag}"'})
    assert patched.status_code == 200 and valid(patched.json)["status"] == "in-progress"
    fresh = patched.headers["ETag"].removeprefix("W/").strip('"')
    done = _put(client, coordinator, patched.json, fresh, status="completed", output=[
        {"type": {"coding": [{"code": "painScore"}]}, "valueInteger": 3},
        {"type": {"coding": [{"code": "mobility"}]}, "valueCode": "assisted"}])
    assert done.status_code == 200, done.json
    completed = valid(done.json)
    assert completed["status"] == "completed" and "end" in completed["executionPeriod"]
    assert {o["type"]["coding"][0]["code"]: o.get("valueInteger", o.get("valueString"))
            for o in completed["output"]} == {"painScore": 3, "mobility": "assisted"}
    provenance = fhir_get(client, f"/fhir/Provenance?target=Task/{task['id']}", tokens["api_client"])
    assert [e["resource"]["activity"]["text"] for e in provenance["entry"]] == ["task.claim", "task.complete"]
    assert {e["resource"]["agent"][0]["who"]["display"] for e in provenance["entry"]} == {"coordinator-user"}
    assert fhir_get(client, f"/fhir/Provenance?target=CarePlan/{pathway_id}", tokens["api_client"])["entry"]
    assert client.put(f"/fhir/Task/{task['id']}", json=task, headers=bearer(tokens["api_client"])).status_code == 403


def test_care_plan_lists_open_tasks_and_pending_timers(client: FlaskClient, tokens: dict[str, str],
                                                       tasks_ready: list[tuple[str, str]]) -> None:
    patient_id, pathway_id = tasks_ready[1]
    plan = fhir_get(client, f"/fhir/CarePlan/{pathway_id}", tokens["api_client"])
    assert (plan["status"], plan["intent"], plan["subject"]) == ("active", "plan", {"reference": f"Patient/{patient_id}"})
    assert plan["instantiatesUri"][0].endswith("/PlanDefinition/engine_acceptance|1")
    tasks = [a["reference"]["reference"] for a in plan["activity"] if "reference" in a]
    timers = [a["detail"]["scheduledPeriod"]["end"] for a in plan["activity"] if "detail" in a]
    assert len(tasks) == 1 and tasks[0].startswith("Task/") and timers
    [task_activity] = [a for a in plan["activity"] if "reference" in a]
    assert task_activity["progress"][0]["text"].startswith("due 2026-")
    fhir_get(client, "/fhir/CarePlan/no-such-pathway", tokens["api_client"], 404)


def test_polling_by_last_updated_returns_only_what_changed(client: FlaskClient, tokens: dict[str, str],
                                                           tasks_ready: list[tuple[str, str]]) -> None:
    token, coordinator = tokens["api_client"], tokens["coordinator"]
    first = fhir_get(client, "/fhir/Task?status=ready&_count=200", token)["entry"]
    polled_at = max(e["resource"]["meta"]["lastUpdated"] for e in first)
    assert fhir_get(client, f"/fhir/Task?_lastUpdated=gt{quote(polled_at)}", token)["entry"] == []
    client.post("/api/clock", json={"advance": "PT1H"}, headers=bearer(tokens["admin"]))
    changed = first[4]["resource"]["id"]
    assert client.post(f"/api/tasks/{changed}/claim", headers=bearer(coordinator)).status_code == 200
    since = fhir_get(client, f"/fhir/Task?_lastUpdated=gt{polled_at}", token)["entry"]
    assert [e["resource"]["id"] for e in since] == [changed]
    assert since[0]["resource"]["meta"]["lastUpdated"] > polled_at


def test_patient_search_by_name_and_birthdate_pages(client: FlaskClient, tokens: dict[str, str],
                                                    tasks_ready: list[tuple[str, str]]) -> None:
    token = tokens["api_client"]
    by_name = fhir_get(client, "/fhir/Patient?name=patient 1", token)  # Patient 1, 10, 11
    assert sorted(e["resource"]["identifier"][0]["value"] for e in by_name["entry"]) == [
        "MRN-F001", "MRN-F010", "MRN-F011"]
    seen = [e["resource"]["id"] for page in pages(client, "/fhir/Patient?birthdate=1950-02-03&_count=5", token)
            for e in page["entry"]]
    assert len(seen) == len(set(seen)) == 12
    assert fhir_get(client, "/fhir/Patient?birthdate=1951-01-01", token)["entry"] == []
    fhir_get(client, "/fhir/Patient?birthdate=soon", token, 400)
    fhir_get(client, "/fhir/Patient", token, 400)


def test_a_thousand_due_tasks_page_without_duplicates_or_gaps_while_tasks_complete(
        app: Flask, client: FlaskClient, tokens: dict[str, str]) -> None:
    svc = app.extensions["pathway"]["service"]
    assert client.post("/api/definitions", data=bundle_files(), headers=bearer(tokens["admin"])).status_code == 201
    rows = [{"external_id": f"MRN-T{n:04d}", "variables": {"painScore": 4, "neuroDeficit": False,
                                                          "fractureDate": f"2026-01-{1 + n % 28:02d}"}}
            for n in range(1000)]
    for start in range(0, 1000, 250):
        assert all(isinstance(r, tuple) for r in svc.enrol_new_patients(rows[start:start + 250], "engine_acceptance",
                                                                         actor="test"))
    token, coordinator = tokens["api_client"], tokens["coordinator"]
    seen: list[str] = []
    completed: set[str] = set()
    for page in pages(client, "/fhir/Task?status=ready&performer=coordinator&_sort=period&_count=100", token):
        ids = [e["resource"]["id"] for e in page["entry"]]
        seen += ids
        # complete one task already listed and one not yet reached, between pages
        ahead = svc.tasks(candidate_group="coordinator", limit=1, cursor=None)["items"]
        complete_each(client, coordinator, ids[-1:] + [t["id"] for t in ahead if t["id"] not in seen][:1], completed)
    assert len(seen) == len(set(seen))  # no duplicates
    ready_throughout = 1000 - len(completed)
    assert len(set(seen) - completed) == ready_throughout  # no gaps


def test_every_fhir_route_but_metadata_needs_a_token_with_a_role(app: Flask) -> None:
    guarded = {rule.endpoint: getattr(app.view_functions[rule.endpoint], "allowed_roles", None)
               for rule in app.url_map.iter_rules() if rule.rule.startswith("/fhir/")}
    assert {e for e, roles in guarded.items() if roles is None} == {"fhir.metadata", "fhir.unsupported"}
    assert guarded["fhir.task_update"] == guarded["fhir.task_patch"] == frozenset(
        {"coordinator", "clinical_lead", "admin"})
    assert len({e for e, roles in guarded.items() if roles}) == 8  # patient 2, task 4, care plan, provenance
