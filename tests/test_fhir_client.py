"""A real FHIR client from PyPI (fhirpy, over HTTP) drives the facade the way an integration
engine would (issue 12): find a patient by identifier, list a group's due tasks sorted by due,
complete one with a stale version (412) and then a fresh one, read the CarePlan and Provenance."""

from __future__ import annotations

import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import MultipleResourcesFound, OperationOutcome
from flask import Flask

from api.testkit import audit_count, bearer, bundle_files
from tests.web_support import live_server

pytest_plugins = ["api.testing"]

MRN = "https://ovcf-pathway.invalid/fhir/sid/mrn"


def test_an_integration_engine_polls_and_completes_tasks_with_fhirpy(app: Flask, tokens: dict[str, str]) -> None:
    client = app.test_client()
    assert client.post("/api/definitions", data=bundle_files(), headers=bearer(tokens["admin"])).status_code == 201
    for n in range(4):
        patient = client.post("/api/patients", json={"externalId": f"MRN-C{n}", "displayName": f"Client {n}"},
                              headers=bearer(tokens["coordinator"])).json["id"]
        assert client.post(f"/api/patients/{patient}/pathways", headers=bearer(tokens["coordinator"]), json={
            "definition": "engine_acceptance", "variables": {"painScore": 4, "neuroDeficit": False,
                                                             "fractureDate": f"2026-01-0{n + 1}"}}).status_code == 201

    with live_server(app) as url:
        auth = f"Bearer {tokens['coordinator']}"
        fhir = SyncFHIRClient(f"{url}/fhir", authorization=auth)

        patient = fhir.resources("Patient").search(identifier=f"{MRN}|MRN-C2").first()
        assert patient is not None and patient["name"][0]["text"] == "Client 2"

        due = fhir.resources("Task").search(performer="coordinator", status="ready").sort("period").fetch_all()
        ends = [t["restriction"]["period"]["end"] for t in due]
        assert len(due) == 4 and ends == sorted(ends)  # soonest due first
        mine = fhir.resources("Task").search(patient=f"Patient/{patient['id']}").first()
        assert mine["for"]["reference"] == f"Patient/{patient['id']}"

        answered = {**mine.serialize(), "status": "completed",
                    "output": [{"type": {"coding": [{"code": "painScore"}]}, "valueInteger": 3}]}
        before = audit_count(app)
        stale = SyncFHIRClient(f"{url}/fhir", authorization=auth, extra_headers={"If-Match": 'W/"999"'})
        with pytest.raises(MultipleResourcesFound):  # how fhirpy 2.3 reports a 412
            stale.resource("Task", **answered).save()
        assert audit_count(app) == before
        bad = SyncFHIRClient(f"{url}/fhir", authorization=auth,
                             extra_headers={"If-Match": f'W/"{mine["meta"]["versionId"]}"'})
        with pytest.raises(OperationOutcome):
            bad.resource("Task", **{**answered, "output": [{"type": {"coding": [{"code": "painScore"}]},
                                                            "valueInteger": 42}]}).save()
        assert audit_count(app) == before

        done = bad.resource("Task", **answered).save()  # the version it read: accepted
        assert done["status"] == "completed" and done["output"][0]["valueInteger"] == 3

        plan = fhir.reference("CarePlan", mine["basedOn"][0]["reference"].split("/")[1]).to_resource()
        assert plan["status"] == "active" and plan["subject"]["reference"] == f"Patient/{patient['id']}"
        trail = fhir.resources("Provenance").search(target=f"Task/{mine['id']}").fetch()
        assert [p["activity"]["text"] for p in trail] == ["task.complete"]
