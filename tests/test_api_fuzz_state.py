"""Arbitrary JSON into the routes that run the model (enrol, complete, messages, Camunda start):
the answer is a success or a 4xx problem, never a server error, and a 4xx changes nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.testkit import audit_count, bearer, bundle_files, close_app, issue_tokens, make_app

EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25")) * 2
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))

scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False) \
    | st.text(max_size=12) | st.sampled_from(["2026-01-01", "2026-02-30", "2026-01-01T10:00:00Z", "P4W", ""])
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)
names = st.sampled_from(["painScore", "neuroDeficit", "fractureDate", "mobility", "urgency"]) | st.text(min_size=1,
                                                                                                       max_size=8)
variables = st.dictionaries(names, json_values, max_size=4)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    app = make_app(f"sqlite:///{tmp_path_factory.mktemp('state') / 'state.db'}")
    tokens = issue_tokens(app)
    client = app.test_client()
    auth = bearer(tokens["admin"])
    assert client.post("/api/definitions", data=bundle_files(), headers=auth).status_code == 201
    patient = client.post("/api/patients", json={"externalId": "FUZZ-STATE"}, headers=auth).json["id"]
    try:
        yield {"app": app, "client": client, "auth": auth, "patient": patient}
    finally:
        close_app(app)


def _check(app: Flask, response: Any, before: int) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code >= 400:
        assert response.is_json and response.json.get("status", response.status_code) == response.status_code
        assert audit_count(app) == before


def _fresh_task(world: dict[str, Any]) -> str:
    client, auth = world["client"], world["auth"]
    pathway = client.post(f"/api/patients/{world['patient']}/pathways", headers=auth, json={
        "definition": "engine_acceptance",
        "variables": {"painScore": 2, "neuroDeficit": False, "fractureDate": "2026-01-01"}}).json["id"]
    return client.get("/api/tasks", query_string={"pathwayId": pathway}, headers=auth).json["items"][0]["id"]


@SETTINGS
@given(values=variables)
def test_enrol_with_any_variables(world: dict[str, Any], values: dict[str, Any]) -> None:
    before = audit_count(world["app"])
    r = world["client"].post(f"/api/patients/{world['patient']}/pathways", headers=world["auth"],
                             json={"definition": "engine_acceptance", "variables": values})
    _check(world["app"], r, before)


@SETTINGS
@given(values=variables)
def test_complete_with_any_variables(world: dict[str, Any], values: dict[str, Any]) -> None:
    task = _fresh_task(world)
    before = audit_count(world["app"])
    r = world["client"].post(f"/api/tasks/{task}/complete", json={"variables": values}, headers=world["auth"])
    _check(world["app"], r, before)


@SETTINGS
@given(values=variables, message=st.sampled_from(["RedFlagReported", "PatientWithdrew", "Nope"]))
def test_messages_with_any_variables(world: dict[str, Any], values: dict[str, Any], message: str) -> None:
    task = _fresh_task(world)
    pathway = world["client"].get(f"/api/tasks/{task}", headers=world["auth"]).json["pathwayId"]
    before = audit_count(world["app"])
    r = world["client"].post(f"/api/pathways/{pathway}/messages/{message}", json={"variables": values},
                             headers=world["auth"])
    _check(world["app"], r, before)


@SETTINGS
@given(values=st.dictionaries(names, st.fixed_dictionaries(
    {"value": json_values, "type": st.sampled_from(["String", "Integer", "Long", "Double", "Boolean", "Date", "Json",
                                                    "Null", "Object", ""])}), max_size=3))
def test_camunda_start_with_any_typed_variables(world: dict[str, Any], values: dict[str, Any]) -> None:
    before = audit_count(world["app"])
    r = world["client"].post("/engine-rest/process-definition/key/engine_acceptance/start",
                             json={"variables": values}, headers=world["auth"])
    _check(world["app"], r, before)
