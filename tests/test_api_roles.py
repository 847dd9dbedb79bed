"""Role x route matrix: every route refuses every role it must refuse (403), and everyone without
a valid token (401); allowed roles get past the guard."""

from __future__ import annotations

import base64

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.testkit import bearer

pytest_plugins = ["api.testing"]

C, L, A, ADM = "coordinator", "clinical_lead", "api_client", "admin"
EVERYONE = {C, L, A, ADM}
WORKERS = {C, L, ADM}
AUTHORS = {L, ADM}

# (method, rule) -> the roles that may call it. Written out by hand on purpose: the test fails
# when a route is added without deciding who may use it.
MATRIX: dict[tuple[str, str], set[str]] = {
    ("GET", "/api/me"): EVERYONE,
    ("GET", "/api/definitions"): EVERYONE,
    ("POST", "/api/definitions"): AUTHORS,
    ("GET", "/api/definitions/<key>/diff"): EVERYONE,
    ("GET", "/api/definitions/<key>/versions/<int:version>"): EVERYONE,
    ("GET", "/api/definitions/<key>/versions/<int:version>/bpmn"): EVERYONE,
    ("POST", "/api/patients"): WORKERS,
    ("GET", "/api/patients"): EVERYONE,
    ("GET", "/api/patients/<patient_id>"): EVERYONE,
    ("POST", "/api/patients/<patient_id>/pathways"): WORKERS,
    ("GET", "/api/pathways/<pathway_id>"): EVERYONE,
    ("GET", "/api/pathways/<pathway_id>/timeline"): EVERYONE,
    ("POST", "/api/pathways/<pathway_id>/messages/<message_name>"): WORKERS,
    ("POST", "/api/pathways/<pathway_id>/migrate"): AUTHORS,
    ("POST", "/api/pathways/<pathway_id>/suspend"): AUTHORS,
    ("POST", "/api/pathways/<pathway_id>/resume"): AUTHORS,
    ("POST", "/api/pathways/<pathway_id>/cancel"): AUTHORS,
    ("GET", "/api/tasks"): EVERYONE,
    ("GET", "/api/tasks/<task_id>"): EVERYONE,
    ("POST", "/api/tasks/<task_id>/claim"): WORKERS,
    ("POST", "/api/tasks/<task_id>/unclaim"): WORKERS,
    ("POST", "/api/tasks/<task_id>/complete"): WORKERS,
    ("POST", "/api/decisions/<decision_id>/evaluate"): EVERYONE,
    ("GET", "/api/clock"): EVERYONE,
    ("POST", "/api/clock"): WORKERS,
    ("POST", "/api/enrolments"): WORKERS,
    ("GET", "/api/incidents"): EVERYONE,
    ("GET", "/engine-rest/version"): EVERYONE,
    ("GET", "/engine-rest/deployment"): EVERYONE,
    ("POST", "/engine-rest/deployment/create"): AUTHORS,
    ("POST", "/engine-rest/process-definition/<definition_id>/start"): WORKERS,
    ("POST", "/engine-rest/process-definition/key/<key>/start"): WORKERS,
}
PUBLIC = {("GET", "/api/health"), ("GET", "/api/openapi.json"), ("GET", "/api/docs"), ("GET", "/api/docs/init.js"),
          ("GET", "/api/docs/assets/<path:filename>")}


def _path(rule: str) -> str:
    return (rule.replace("<int:version>", "1").replace("<key>", "nokey").replace("<definition_id>", "nokey:1:1")
            .replace("<message_name>", "Msg").replace("<patient_id>", "no-patient")
            .replace("<pathway_id>", "no-pathway").replace("<task_id>", "no-task")
            .replace("<decision_id>", "NoDecision"))


def _routes(app: Flask) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/api/openapi/"):
            continue
        if not rule.rule.startswith(("/api/", "/engine-rest/")):
            continue  # the web app's pages: signed-in sessions, tests/test_web_pages.py
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((method, rule.rule))
    return found


def _call(client: FlaskClient, method: str, rule: str, headers: dict[str, str]):
    kwargs = {"json": {}} if method == "POST" and "deployment/create" not in rule and rule != "/api/definitions" else {}
    return client.open(_path(rule), method=method, headers=headers, **kwargs)


def test_every_route_is_in_the_matrix(app: Flask) -> None:
    assert _routes(app) == set(MATRIX) | PUBLIC
    for (method, rule), allowed in MATRIX.items():
        view = app.view_functions[next(r.endpoint for r in app.url_map.iter_rules() if r.rule == rule
                                       and method in r.methods)]
        assert view.allowed_roles == frozenset(allowed), (method, rule)


@pytest.mark.parametrize(("method", "rule"), sorted(MATRIX))
def test_route_refuses_the_roles_it_must(client: FlaskClient, tokens: dict[str, str], method: str, rule: str) -> None:
    allowed = MATRIX[(method, rule)]
    assert _call(client, method, rule, {}).status_code == 401
    r = _call(client, method, rule, bearer("not-a-token"))
    assert r.status_code == 401
    assert r.is_json and r.json["status"] == 401
    for role, token in tokens.items():
        r = _call(client, method, rule, bearer(token))
        if role in allowed:
            assert r.status_code not in (401, 403), (role, r.json)
        else:
            assert r.status_code == 403, (role, r.status_code)
            assert r.json["status"] == 403


def test_public_routes_need_no_token(client: FlaskClient) -> None:
    assert client.get("/api/health").json == {"status": "ok"}
    assert client.get("/api/openapi.json").json["openapi"].startswith("3.1")
    docs = client.get("/api/docs")
    assert b"/api/docs/init.js" in docs.data and b"https://" not in docs.data  # no CDN: works offline
    assert b"/api/openapi.json" in client.get("/api/docs/init.js").data
    bundle = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.data) > 100_000
    assert client.get("/api/docs/assets/swagger-ui.css").status_code == 200


def test_basic_auth_is_name_and_token(client: FlaskClient, tokens: dict[str, str]) -> None:
    def basic(user: str, password: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    assert client.get("/engine-rest/version", headers=basic("clinical_lead-user", tokens[L])).status_code == 200
    assert client.get("/engine-rest/version", headers=basic("someone-else", tokens[L])).status_code == 401
    assert client.get("/api/tasks", headers=basic("api_client-user", tokens[A])).status_code == 200
    assert client.get("/api/me", headers=bearer(tokens[C])).json == {"name": "coordinator-user", "role": C}
    assert client.get("/api/tasks", headers={"Authorization": "Basic !!!"}).status_code == 401
    assert client.get("/api/tasks", headers={"Authorization": "Bearer"}).status_code == 401
    assert client.get("/api/tasks").headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/engine-rest/version").headers["WWW-Authenticate"].startswith("Basic")
