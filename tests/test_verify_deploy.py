"""The verifier at deploy, as a site setting: ``off`` (static checks only), ``warn`` (findings come
back with the deployment), ``refuse`` (nothing is stored; the Modeler's error text names them)."""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from api.testkit import audit_count
from engine.clock import SimulatedClock
from engine.problems import ModelError
from engine.service import Service

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "verify"))
from small import SAFETY, pathway  # noqa: E402

pytest_plugins = ["api.testing"]


@pytest.fixture
def svc(session_factory) -> Service:
    return Service(session_factory, SimulatedClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))


def test_refuse_stores_nothing_and_names_the_element(svc: Service) -> None:
    svc.verify_on_deploy = "refuse"
    with pytest.raises(ModelError) as caught:
        svc.deploy(pathway(refer="message"), actor="lead")
    [problem] = [p for p in caught.value.problems if p.is_error]
    assert (problem.file, problem.element) == ("small.bpmn", "W_Report")
    assert "no task and no timer" in problem.message and "path: enrol → complete U_Urgent" in problem.message
    assert svc.definitions() == []
    # the fixed model deploys, with what was checked
    result = svc.deploy({**pathway(), "small.safety.yaml": SAFETY.encode()}, actor="lead")
    assert result["created"] and result["verification"]["findings"] == []
    assert result["verification"]["exhaustive"] and result["verification"]["states"] > 0


def test_warn_deploys_and_returns_the_findings(svc: Service) -> None:
    svc.verify_on_deploy = "warn"
    result = svc.deploy({**pathway(review_after="P21D"), "small.safety.yaml": SAFETY.encode()}, actor="lead")
    assert result["created"]
    assert [(f["file"], f["element"]) for f in result["verification"]["findings"]] == \
        [("small.safety.yaml", "review-after-referral")]


def test_off_by_default_runs_the_static_checks_only(svc: Service, monkeypatch) -> None:
    monkeypatch.delenv("PATHWAY_VERIFY_ON_DEPLOY", raising=False)
    result = svc.deploy(pathway(refer="message"), actor="lead")
    assert result["created"] and "verification" not in result


def test_the_setting_comes_from_the_environment(svc: Service, monkeypatch) -> None:
    monkeypatch.setenv("PATHWAY_VERIFY_ON_DEPLOY", "refuse")
    with pytest.raises(ModelError):
        svc.deploy(pathway(refer="end"), actor="lead")
    monkeypatch.setenv("PATHWAY_VERIFY_ON_DEPLOY", "sometimes")
    with pytest.raises(ValueError, match="off, warn, refuse"):
        svc.deploy(pathway(), actor="lead")


def modeler_form(files: dict[str, bytes]) -> dict[str, Any]:
    form: dict[str, Any] = {"deployment-name": "small", "deployment-source": "Camunda Modeler",
                            "enable-duplicate-filtering": "false", "deploy-changed-only": "false"}
    form.update({name: (io.BytesIO(content), name) for name, content in files.items()})
    return form


def test_modeler_deploy_button_shows_the_findings(app, client: FlaskClient, tokens: dict[str, str],
                                                  monkeypatch) -> None:
    import base64

    monkeypatch.setenv("PATHWAY_VERIFY_ON_DEPLOY", "refuse")
    auth = {"Authorization": "Basic " + base64.b64encode(f"clinical_lead-user:{tokens['clinical_lead']}".encode()).decode()}
    before = audit_count(app)
    r = client.post("/engine-rest/deployment/create", data=modeler_form(pathway(refer="end")), headers=auth,
                    content_type="multipart/form-data")
    assert r.status_code == 400, r.json
    assert "small.bpmn | E_Referred | a track ends at 'E_Referred'" in r.json["message"]
    assert r.json["details"]["small.bpmn"]["errors"][0]["mainElementId"] == "E_Referred"
    assert audit_count(app) == before
    r = client.post("/engine-rest/deployment/create", data=modeler_form(pathway()), headers=auth,
                    content_type="multipart/form-data")
    assert r.status_code == 200, r.json


def test_safety_files_are_checked_at_deploy_and_kept_with_the_version(svc: Service) -> None:
    wrong = SAFETY.replace("expect: U_Review ready", "expect: U_Reveiw ready")
    with pytest.raises(ModelError) as caught:  # even with the exploration off
        svc.deploy({**pathway(), "small.safety.yaml": wrong.encode()}, actor="lead")
    [problem] = caught.value.problems
    assert (problem.file, problem.element) == ("small.safety.yaml", "review-after-referral")
    assert "did you mean 'U_Review'" in problem.message
    result = svc.deploy({**pathway(), "small.safety.yaml": SAFETY.encode()}, actor="lead")
    assert svc.definition_source(result["key"], result["version"], ".safety.yaml") == {"small.safety.yaml": SAFETY}


def test_modeler_deploy_of_one_diagram_is_verified_with_the_stored_properties(
        client: FlaskClient, tokens: dict[str, str], monkeypatch) -> None:
    import base64

    auth = {"Authorization": "Basic " + base64.b64encode(f"clinical_lead-user:{tokens['clinical_lead']}"
                                                         .encode()).decode()}
    first = modeler_form({**pathway(), "small.safety.yaml": SAFETY.encode()})
    assert client.post("/engine-rest/deployment/create", data=first, headers=auth,
                       content_type="multipart/form-data").status_code == 200
    monkeypatch.setenv("PATHWAY_VERIFY_ON_DEPLOY", "refuse")
    late = {"small.bpmn": pathway(review_after="P21D")["small.bpmn"]}  # the lead saves one diagram
    r = client.post("/engine-rest/deployment/create", data=modeler_form(late), headers=auth,
                    content_type="multipart/form-data")
    assert r.status_code == 400, r.json
    assert "small.safety.yaml | review-after-referral" in r.json["message"]


def test_a_bound_hit_at_deploy_is_a_warning_saying_how_much_was_left_unchecked(svc: Service,
                                                                              monkeypatch) -> None:
    monkeypatch.setenv("PATHWAY_VERIFY_MAX_STATES", "2")
    svc.verify_on_deploy = "warn"
    result = svc.deploy(pathway(), actor="lead")
    verification = result["verification"]
    assert result["created"] and not verification["exhaustive"]
    [bound] = verification["findings"]
    assert bound["severity"] == "warning"
    assert "stopped at 2 states per track: not exhaustive" in bound["message"]
    assert " elements not reached" in bound["message"]
