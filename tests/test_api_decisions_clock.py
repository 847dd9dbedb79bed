"""Decision evaluation with its trace, messages, and the simulated clock."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from api.testkit import BUNDLE, bearer, bundle_files, close_app, issue_tokens, make_app

pytest_plugins = ["api.testing"]


def test_evaluate_with_trace_against_the_latest_version(client: FlaskClient, tokens: dict[str, str]) -> None:
    lead, poller = bearer(tokens["clinical_lead"]), bearer(tokens["api_client"])
    assert client.post("/api/definitions", data=bundle_files(), headers=lead).status_code == 201
    r = client.post("/api/decisions/Triage/evaluate", json={"inputs": {"neuroDeficit": True, "painScore": 2}},
                    headers=poller)
    assert r.status_code == 200, r.json
    assert r.json["result"] == "urgent" and r.json["matchedRules"] == ["Rule_neuro"]
    assert r.json["definition"] == {"key": "engine_acceptance", "version": 1}
    [entry] = r.json["trace"]
    assert entry and "Rule_neuro" in str(entry)
    routine = client.post("/api/decisions/Triage/evaluate", json={"inputs": {"neuroDeficit": False, "painScore": 7.5}},
                          headers=poller).json
    assert (routine["result"], routine["matchedRules"]) == ("routine", ["Rule_routine"])

    # A new version of the table answers from then on.
    dmn = (BUNDLE / "triage.dmn").read_text().replace("&gt;= 8", "&gt;= 7")
    files = bundle_files(**{"triage.dmn": dmn.encode()})
    assert client.post("/api/definitions", data=files, headers=lead).json["version"] == 2
    again = client.post("/api/decisions/Triage/evaluate", json={"inputs": {"neuroDeficit": False, "painScore": 7.5}},
                        headers=poller).json
    assert (again["result"], again["definition"]["version"]) == ("urgent", 2)

    # ... and an earlier version still answers when asked for by number
    url = "/api/decisions/Triage/evaluate"
    inputs = {"inputs": {"neuroDeficit": False, "painScore": 7.5}}
    first = client.post(f"{url}?version=1", json=inputs, headers=poller).json
    assert (first["result"], first["matchedRules"], first["definition"]) == (
        "routine", ["Rule_routine"], {"key": "engine_acceptance", "version": 1})
    named = client.post(f"{url}?definition=engine_acceptance&version=1", json=inputs, headers=poller).json
    assert (named["result"], named["definition"]["version"]) == ("routine", 1)
    missing = client.post(f"{url}?version=9", json=inputs, headers=poller)
    assert missing.status_code == 404 and "version 9" in missing.json["detail"]
    assert client.post(f"{url}?definition=nope", json=inputs, headers=poller).status_code == 404
    for bad_query in ("version=0", "version=x", "versions=1", "definition="):
        refused = client.post(f"{url}?{bad_query}", json=inputs, headers=poller)
        assert refused.status_code == 422, bad_query
        assert refused.json["errors"][0]["field"] in ("version", "versions", "definition"), refused.json

    bad = client.post("/api/decisions/Triage/evaluate", json={"inputs": {"painScore": "very"}}, headers=poller)
    assert bad.status_code == 422 and bad.content_type == "application/problem+json"
    assert client.post("/api/decisions/Nope/evaluate", json={"inputs": {}}, headers=poller).status_code == 404


def test_messages_reach_waiting_pathways(client: FlaskClient, tokens: dict[str, str]) -> None:
    coordinator = bearer(tokens["coordinator"])
    client.post("/api/definitions", data=bundle_files(), headers=bearer(tokens["admin"]))
    patient = client.post("/api/patients", json={"externalId": "MRN-M"}, headers=coordinator).json["id"]
    pathway = client.post(f"/api/patients/{patient}/pathways", headers=coordinator, json={
        "definition": "engine_acceptance",
        "variables": {"painScore": 3, "neuroDeficit": False, "fractureDate": "2026-01-01"}}).json
    assert "RedFlagReported" in pathway["waitingMessages"]
    r = client.post(f"/api/pathways/{pathway['id']}/messages/RedFlagReported", json={"variables": {"redFlag": "weakness"}},
                    headers=coordinator)
    assert r.status_code == 200, r.json
    assert "Task_redflag" in r.json["activeElements"] and "Task_reassess" not in r.json["activeElements"]
    [task] = client.get("/api/tasks", query_string={"pathwayId": pathway["id"]}, headers=coordinator).json["items"]
    assert task["elementId"] == "Task_redflag" and task["due"] == "2026-01-05T13:00:00+00:00"
    again = client.post(f"/api/pathways/{pathway['id']}/messages/RedFlagReported", json={}, headers=coordinator)
    assert again.status_code == 409
    events = client.get(f"/api/pathways/{pathway['id']}/timeline", headers=coordinator).json["items"]
    assert events[-1]["action"] == "message.correlate" and events[-1]["details"]["message"] == "RedFlagReported"


def test_clock_fires_timers_in_due_order(client: FlaskClient, tokens: dict[str, str]) -> None:
    coordinator = bearer(tokens["coordinator"])
    client.post("/api/definitions", data=bundle_files(), headers=bearer(tokens["admin"]))
    assert client.get("/api/clock", headers=coordinator).json["now"] == "2026-01-05T09:00:00+00:00"
    pathways = []
    for days, mrn in ((3, "MRN-C1"), (1, "MRN-C2")):
        r = client.post("/api/clock", json={"advance": f"P{days}D"}, headers=coordinator)
        assert r.status_code == 200 and r.json["fired"] == []
        patient = client.post("/api/patients", json={"externalId": mrn}, headers=coordinator).json["id"]
        pathways.append(client.post(f"/api/patients/{patient}/pathways", headers=coordinator, json={
            "definition": "engine_acceptance",
            "variables": {"painScore": 3, "neuroDeficit": False, "fractureDate": "2026-01-01"}}).json["id"])
    r = client.post("/api/clock", json={"set": "2026-03-01T00:00:00+01:00"}, headers=coordinator)
    assert r.status_code == 200 and r.json["now"] == "2026-02-28T23:00:00+00:00"
    fired = [(f["pathwayId"], f["fired"][0]["due"]) for f in r.json["fired"]]
    assert fired == [(pathways[0], "2026-02-19T09:00:00+00:00"), (pathways[1], "2026-02-20T09:00:00+00:00")]
    stamps = [e["at"] for p in pathways for e in client.get(f"/api/pathways/{p}/timeline", headers=coordinator)
              .json["items"] if e["action"] == "timer.fire"]
    assert stamps == ["2026-02-19T09:00:00+00:00", "2026-02-20T09:00:00+00:00"]  # stamped when due


def test_clock_is_404_on_the_system_clock(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'system.db'}", SIMULATED_CLOCK=False)
    try:
        tokens = issue_tokens(app)
        client = app.test_client()
        for method, kwargs in (("GET", {}), ("POST", {"json": {"advance": "P1D"}})):
            r = client.open("/api/clock", method=method, headers=bearer(tokens["admin"]), **kwargs)
            assert r.status_code == 404 and r.content_type == "application/problem+json"
    finally:
        close_app(app)


def test_restarted_simulated_clock_resumes_after_the_last_event(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'resume.db'}"
    app = make_app(url)
    try:
        tokens = issue_tokens(app)
        client = app.test_client()
        client.post("/api/clock", json={"set": "2099-01-01T00:00:00Z"}, headers=bearer(tokens["admin"]))
        client.post("/api/patients", json={"externalId": "LATE"}, headers=bearer(tokens["admin"]))
    finally:
        close_app(app)
    again = make_app(url, SIMULATED_CLOCK_START=None)
    try:
        now = again.test_client().get("/api/clock", headers=bearer(tokens["admin"])).json["now"]
        assert now == "2099-01-01T00:00:00+00:00"
    finally:
        close_app(again)


def test_a_restart_resumes_at_the_last_clock_setting_not_the_last_event(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'setting.db'}"
    app = make_app(url)
    try:
        tokens = issue_tokens(app)
        client = app.test_client()
        client.post("/api/patients", json={"externalId": "EARLY"}, headers=bearer(tokens["admin"]))
        # moved on with nothing happening: no audit event records the new time
        assert client.post("/api/clock", json={"advance": "P30D"}, headers=bearer(tokens["admin"])).status_code == 200
        moved = client.get("/api/clock", headers=bearer(tokens["admin"])).json["now"]
    finally:
        close_app(app)
    for start in (None, "2026-01-01T00:00:00Z"):  # a configured start earlier than the stored time: never back
        again = make_app(url, SIMULATED_CLOCK_START=start)
        try:
            assert again.test_client().get("/api/clock", headers=bearer(tokens["admin"])).json["now"] == moved
        finally:
            close_app(again)


def test_two_server_processes_on_one_database_share_one_time(tmp_path: Path) -> None:
    """Two apps on one database stand for two server processes: moving the clock in one moves it
    for the other, and what the other records afterwards is stamped with the moved time."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first = make_app(url)
    second = make_app(url)
    try:
        tokens = issue_tokens(first)
        admin = bearer(tokens["admin"])
        one, two = first.test_client(), second.test_client()
        assert one.post("/api/definitions", data=bundle_files(), headers=bearer(tokens["clinical_lead"])).status_code == 201
        moved = one.post("/api/clock", json={"advance": "P6W"}, headers=admin).json["now"]
        assert two.get("/api/clock", headers=admin).json["now"] == moved
        patient = two.post("/api/patients", json={"externalId": "SHARED"}, headers=admin).json["id"]
        pathway = two.post(f"/api/patients/{patient}/pathways", headers=admin, json={
            "definition": "engine_acceptance",
            "variables": {"painScore": 4, "neuroDeficit": False, "fractureDate": moved[:10]}}).json["id"]
        events = one.get(f"/api/pathways/{pathway}/timeline", headers=admin).json["items"]
        assert events and all(e["at"] >= moved for e in events)  # never back-dated
        # going back is refused whichever process is asked
        r = two.post("/api/clock", json={"set": "2026-01-06T00:00:00Z"}, headers=admin)
        assert r.status_code == 409 and "never goes back" in r.json["detail"]
    finally:
        close_app(first)
        close_app(second)


def test_a_route_without_query_parameters_refuses_any(client: FlaskClient, tokens: dict[str, str]) -> None:
    """Unknown query parameters are refused the same way on every route, not silently ignored."""
    lead = bearer(tokens["clinical_lead"])
    assert client.post("/api/definitions", data=bundle_files(), headers=lead).status_code == 201
    assert client.get("/api/clock", headers=lead).status_code == 200
    refused = client.get("/api/clock?at=2030-01-01", headers=lead)
    assert refused.status_code == 422 and refused.content_type == "application/problem+json"
    assert refused.json["errors"][0]["field"] == "at"
    before = client.get("/api/definitions", headers=lead).json
    refused = client.post("/api/definitions?force=true", data=bundle_files(), headers=lead)
    assert refused.status_code == 422 and client.get("/api/definitions", headers=lead).json == before
