"""The web app's pages through Flask's test client: sign-in, CSRF, security headers, the
worklist's filters and pages, forms generated from BPMN form fields, completing a task."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from tests.web_support import csrf, demo_app, sign_in
from webapp.display import when
from webapp.formview import answers, controls


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, dict[str, str]]]:
    yield demo_app(tmp_path_factory.mktemp("pages"))


@pytest.fixture
def app(demo: tuple[Flask, dict[str, str]]) -> Flask:
    return demo[0]


@pytest.fixture
def tokens(demo: tuple[Flask, dict[str, str]]) -> dict[str, str]:
    return demo[1]


@pytest.fixture
def coordinator(app: Flask, tokens: dict[str, str]) -> FlaskClient:
    client = app.test_client()
    sign_in(client, tokens["coordinator"])
    return client


def service(app: Flask) -> Any:
    return app.extensions["pathway"]["service"]


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def open_task(app: Flask, element: str) -> dict[str, Any]:
    found = [t for t in service(app).tasks(limit=500)["items"] if t["elementId"] == element and not t["assignee"]]
    assert found, f"no open {element} in the demo"
    return found[0]


def test_pages_need_a_signed_in_user_and_sign_out_ends_it(app: Flask, tokens: dict[str, str]) -> None:
    client = app.test_client()
    for path in ("/worklist", "/patients", "/tasks/nope"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/signin?next=")
    assert client.get("/").headers["Location"].endswith("/worklist")
    bad = client.post("/signin", data={"csrf": csrf(client.get("/signin").text), "token": "not-a-token"})
    assert bad.status_code == 401 and "not valid" in bad.text
    sign_in(client, tokens["clinical_lead"])
    page = client.get("/worklist")
    assert page.status_code == 200 and "demo-clinical_lead" in page.text and "Clinical lead" in page.text
    # the session cookie keeps only the token's hash, never the token
    cookie = client.get_cookie("session")
    assert cookie is not None and tokens["clinical_lead"] not in cookie.value
    client.post("/signout", data={"csrf": csrf(page.text)})
    assert client.get("/worklist").status_code == 302


def test_every_page_but_sign_in_needs_a_session(app: Flask) -> None:
    public = {"signin.form", "signin.sign_in", "signin.sign_out", "webapp.static", "diagram.viewer", "home"}
    pages = {rule.endpoint for rule in app.url_map.iter_rules()
             if not rule.rule.startswith(("/api/", "/engine-rest/", "/fhir/")) and rule.endpoint != "static"}
    assert {"worklist.page", "task_pages.page", "task_pages.complete", "patient_pages.page"} <= pages
    for endpoint in pages - public:
        assert getattr(app.view_functions[endpoint], "signed_in", False), endpoint


def test_sign_in_returns_only_to_a_page_of_this_site(app: Flask, tokens: dict[str, str]) -> None:
    client = app.test_client()
    form = client.get("/signin?next=/patients").text
    assert 'value="/patients"' in form
    for target, expected in (("/patients", "/patients"), ("https://evil.example/", "/worklist"),
                             ("//evil.example", "/worklist")):
        client.post("/signout", data={"csrf": csrf(client.get("/signin").text)})
        r = client.post("/signin", data={"csrf": csrf(client.get("/signin").text), "token": tokens["coordinator"],
                                         "next": target})
        assert r.headers["Location"] == expected


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(app: Flask, coordinator: FlaskClient) -> None:
    task = open_task(app, "UT1_Intake")
    r = coordinator.post(f"/tasks/{task['id']}/claim", data={"etag": task["etag"]})
    assert r.status_code == 400
    assert service(app).task(task["id"])["assignee"] is None
    assert coordinator.post("/signin", data={"token": "x"}).status_code == 400


def test_pages_carry_security_headers_and_no_inline_script(coordinator: FlaskClient) -> None:
    for path in ("/worklist", "/patients", "/signin"):
        r = coordinator.get(path)
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert r.headers["Cache-Control"] == "no-store" and r.headers["X-Content-Type-Options"] == "nosniff"
        assert re.search(r"<script(?![^>]*\bsrc=)", r.text) is None, path  # every script is a file
        assert re.search(r"<[^>]+\son[a-z]+=", r.text) is None, path  # no inline event handler either


def test_worklist_names_the_patient_and_filters_from_the_url(app: Flask, coordinator: FlaskClient) -> None:
    page = coordinator.get("/worklist").text
    assert "Demo patient 1" in page and "DEMO-001" in page
    assert "<caption>" in page and 'scope="col"' in page
    overdue = coordinator.get("/worklist?overdue=1&group=clinician").text
    rows = re.findall(r"<tr class=\"overdue\">.*?</tr>", overdue, re.S)
    assert rows and all("Overdue</strong>" in row for row in rows)
    assert all("coordinator</span>" not in row for row in rows)  # only the clinician group's tasks
    one = coordinator.get("/worklist?patient=DEMO-002").text
    assert "DEMO-002" in one and "DEMO-001" not in one
    assert "No patient has the identifier" in coordinator.get("/worklist?patient=NOPE").text
    bad = coordinator.get("/worklist?from=yesterday")
    assert bad.status_code == 200 and "is not a date" in bad.text


def test_worklist_sorts_by_priority_when_asked(app: Flask, coordinator: FlaskClient) -> None:
    page = coordinator.get("/worklist?sort=priority").text
    assert "highest priority first" in page and '<option value="priority" selected>' in page
    ids = re.findall(r'href="/tasks/([0-9a-f-]+)', page)
    shown = {t["id"]: t for t in service(app).tasks(limit=500)["items"]}
    priorities = [50 if shown[i]["priority"] is None else shown[i]["priority"] for i in ids]
    assert priorities == sorted(priorities, reverse=True) and len(set(priorities)) > 1


def test_worklist_due_window_is_in_whole_site_days(app: Flask, coordinator: FlaskClient) -> None:
    every = service(app).tasks(limit=500)["items"]
    day = datetime.fromisoformat(every[0]["due"]).date()
    page = coordinator.get(f"/worklist?from={day}&to={day}").text
    expected = {t["id"] for t in every if datetime.fromisoformat(t["due"]).date() == day}
    assert set(re.findall(r'href="/tasks/([0-9a-f-]+)', page)) == expected


def test_worklist_pages_follow_the_cursor_without_gaps(app: Flask, coordinator: FlaskClient) -> None:
    import webapp.worklist as worklist

    saved, worklist.PAGE = worklist.PAGE, 4
    try:
        for order in ("due", "priority"):
            every = [t["id"] for t in service(app).tasks(limit=500, order=order)["items"]]
            seen, url = [], f"/worklist?sort={order}"
            while url:
                page = coordinator.get(url).text
                seen += re.findall(r'href="/tasks/([0-9a-f-]+)', page)
                found = re.search(r'href="([^"]+)" rel="next"', page)
                url = found.group(1).replace("&amp;", "&") if found else None
            assert seen == every, order
        assert "First page" in coordinator.get(f"/worklist?cursor={service(app).tasks(limit=4)['nextCursor']}").text
        bad = coordinator.get("/worklist?cursor=garbage")
        assert bad.status_code == 302
    finally:
        worklist.PAGE = saved


def test_yes_no_fields_are_two_radio_buttons_and_nothing_is_preselected(app: Flask, coordinator: FlaskClient) -> None:
    task = open_task(app, "UT1_Intake")
    page = coordinator.get(f"/tasks/{task['id']}").text
    assert 'type="checkbox"' not in page.split('class="task-form"')[1]
    block = re.search(r'<fieldset class="field" id="field-sphincterDysfunction".*?</fieldset>', page, re.S).group()
    assert re.findall(r'type="radio" name="sphincterDysfunction" value="(\w+)"', block) == ["true", "false"]
    assert "checked" not in block and "required" in block and "(required)" in block


def test_controls_follow_the_field_types() -> None:
    form = {"fields": [
        {"id": "flag", "label": "Flag", "type": "boolean", "constraints": {"required": None}, "required": True},
        {"id": "kept", "label": "Kept", "type": "boolean", "default": False},
        {"id": "short", "label": "Short", "type": "enum", "options": [{"id": "A", "name": "a"}, {"id": "B"}]},
        {"id": "long", "label": "Long", "type": "enum", "options": [{"id": str(i)} for i in range(6)]},
        {"id": "vas", "label": "VAS", "type": "double", "constraints": {"min": "0", "max": "10"}},
        {"id": "n", "label": "N", "type": "long", "constraints": {"min": "0"}},
        {"id": "when", "label": "When", "type": "date"},
        {"id": "note", "label": "Note", "type": "string", "constraints": {"maxlength": "2000"}},
        {"id": "shown", "label": "Shown", "type": "string", "constraints": {"readonly": None}, "default": "x"},
    ]}
    found = {c.id: c for c in controls(form)}
    assert [found[k].kind for k in ("flag", "short", "long", "vas", "n", "when", "note")] == [
        "yesno", "choice", "choice", "number", "number", "date", "longtext"]
    assert found["flag"].required and found["kept"].value == "false" and found["flag"].value == ""
    assert (found["vas"].hint, found["vas"].step, found["n"].hint) == ("from 0 to 10", "any", "at least 0, whole number")
    assert found["shown"].readonly and found["shown"].value == "x"
    posted = MultiDict({"flag": "false", "kept": "true", "vas": "6.5", "n": "3", "when": "2026-01-02", "note": " ",
                        "short": "A", "shown": "changed"})
    assert answers(form, posted) == {"flag": False, "kept": True, "vas": "6.5", "n": 3, "when": "2026-01-02",
                                     "short": "A"}
    assert answers(form, MultiDict({"n": "2.5", "flag": "maybe"})) == {"n": "2.5", "flag": "maybe"}


def test_complete_needs_a_claim_and_shows_each_error_at_its_field(app: Flask, coordinator: FlaskClient) -> None:
    task = open_task(app, "UT1_Intake")
    page = coordinator.get(f"/tasks/{task['id']}").text
    assert "<fieldset class=\"form-body\" disabled>" in page and "Claim this task" in page
    before = service(app).pathway(task["pathwayId"])["version"]
    r = coordinator.post(f"/tasks/{task['id']}/complete", data={"csrf": csrf(page), "painScore": "5"})
    assert r.status_code == 302 and service(app).task(task["id"])["status"] == "ready"
    page = coordinator.get(r.headers["Location"]).text
    assert "Claim the task before completing it" in page
    coordinator.post(f"/tasks/{task['id']}/claim", data={"csrf": csrf(page), "etag": task["etag"]})
    page = coordinator.get(f"/tasks/{task['id']}").text
    assert "<fieldset class=\"form-body\" >" in page and "Claimed by you" in page
    r = coordinator.post(f"/tasks/{task['id']}/complete", data={"csrf": csrf(page), "painScore": "12",
                                                                "fractureLevel": "L4", "sphincterDysfunction": "false"})
    assert r.status_code == 422
    assert 'id="error-painScore"' in r.text and "Must be at most 10." in r.text
    assert 'id="error-fractureDate"' in r.text and "Answer this question." in r.text
    assert 'value="L4"' in r.text  # what was typed is kept
    assert re.search(r'value="false" checked\s+required\s+id="sphincterDysfunction"|value="false" checked',
                     r.text)
    assert 'aria-invalid="true"' in r.text and 'role="alert"' in r.text
    assert service(app).pathway(task["pathwayId"])["version"] == before  # nothing changed


def test_a_task_claimed_by_someone_else_cannot_be_released_or_completed_here(app: Flask, tokens: dict[str, str],
                                                                           coordinator: FlaskClient) -> None:
    task = open_task(app, "UT1_Intake")
    service(app).claim(task["id"], actor="someone-else")
    page = coordinator.get(f"/tasks/{task['id']}").text
    assert "someone-else is working on this task" in page and "Release it" not in page
    r = coordinator.post(f"/tasks/{task['id']}/unclaim", data={"csrf": csrf(page)})
    assert service(app).task(task["id"])["assignee"] == "someone-else"
    assert "not claimed by you" in coordinator.get(r.headers["Location"]).text
    lead = lead_client(app, tokens)  # a clinical lead may take work back to reassign it
    page = lead.get(f"/tasks/{task['id']}").text
    assert "Release someone-else's claim" in page
    lead.post(f"/tasks/{task['id']}/unclaim", data={"csrf": csrf(page)})
    assert service(app).task(task["id"])["assignee"] is None


def test_patient_pages_list_search_and_tell_the_story_in_clinical_words(app: Flask, coordinator: FlaskClient) -> None:
    listing = coordinator.get("/patients").text
    assert all(f"DEMO-00{i}" in listing for i in range(1, 6))
    assert text(coordinator.get("/patients?q=patient 3").text).count("DEMO-00") == 1
    assert "DEMO-004" in coordinator.get("/patients?q=DEMO-004").text
    patient = service(app).patient(external_id="DEMO-001")
    page = coordinator.get(f"/patients/{patient['id']}").text
    timeline = re.search(r'<ol class="timeline".*?</ol>', page, re.S).group()
    assert "Enrolled on the pathway (ovcf_pathway, version 1)" in timeline
    assert "Completed “Intake and red-flag screen”" in text(timeline)
    assert not re.search(r"\b(UT|BE|BRT|GX)_\w+", text(timeline))  # no element ids
    # each step's decisions, with the rule that matched
    assert re.search(r"Red-flag triage \(DT1\): [^<]*\(rule DT1_R\d+\)", timeline)
    assert "Open tasks" in page and "Coming up" in page
    assert coordinator.get("/patients/nope").status_code == 404


def test_the_patient_page_draws_the_pathways_own_diagrams(app: Flask, coordinator: FlaskClient) -> None:
    from webapp.diagram import views

    patient = service(app).patient(external_id="DEMO-002")
    pathway = patient["pathways"][0]["id"]
    page = coordinator.get(f"/patients/{patient['id']}").text
    assert "/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js" in page
    sources = re.findall(r'data-src="([^"]+)"', page)
    assert sources[0] == f"/pathways/{pathway}/diagram/ovcf_pathway.bpmn"
    assert f"/pathways/{pathway}/diagram/bone_health.bpmn" in sources  # the patient is in the bone track now
    xml = coordinator.get(sources[0])
    assert xml.status_code == 200 and xml.mimetype == "application/xml" and b'id="UT1_Intake"' in xml.data
    assert coordinator.get(f"/pathways/{pathway}/diagram/elsewhere.bpmn").status_code == 404
    assert app.test_client().get(sources[0]).status_code == 302  # not signed in
    assert coordinator.get("/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js").status_code == 200

    state = {"activeElements": ["UT_X", "CA_Y", "UT_Z"], "completedElements": ["Start", "UT_W"]}
    elements = {"Start": {"file": "main.bpmn"}, "UT_W": {"file": "main.bpmn"}, "CA_Y": {"file": "main.bpmn"},
                "UT_X": {"file": "called.bpmn"}, "UT_Z": {"file": "called.bpmn"}, "Old": {"file": "old.bpmn"}}
    assert views(state, elements, {"UT_X"}) == [
        {"file": "main.bpmn", "active": ["CA_Y"], "done": ["Start", "UT_W"], "overdue": []},
        {"file": "called.bpmn", "active": ["UT_X", "UT_Z"], "done": [], "overdue": ["UT_X"]}]


def test_why_this_task_names_the_branch_and_the_decision_behind_it(app: Flask, coordinator: FlaskClient) -> None:
    task = open_task(app, "UT_CompleteWorkup")  # DT3 could not decide the tier: the DXA is needed
    reason = service(app).task_reason(task["id"])
    assert reason["via"]["element"] == "GX_SecondaryCause" and reason["via"]["branch"] == "risk tier undetermined"
    assert reason["decision"]["id"] == "FractureRiskTier" and reason["decision"]["resultVariable"] == "riskResult"
    page = text(coordinator.get(f"/tasks/{task['id']}").text)
    assert "Why this task" in page and "took the branch “risk tier undetermined”" in page
    assert "Because of the decision “Fracture risk tier (DT3)”" in page
    assert re.search(r"Result riskTier: UNDETERMINED", page)
    chase = open_task(app, "UT_Chase_CompleteWorkup")  # raised by the overdue timer on that task
    assert service(app).task_reason(chase["id"])["via"] == {
        "kind": "timer", "element": "BE_CompleteWorkup_Overdue", "name": "Overdue",
        "on": "Record the DXA the risk tier needs"}
    assert "The time “Overdue” was reached on “Record the DXA the risk tier needs”" in text(
        coordinator.get(f"/tasks/{chase['id']}").text)


def test_values_are_said_in_words() -> None:
    from webapp.display import answer

    assert [answer(v) for v in (True, False, None, "0.13333333333", 2.5, "ES_2019", {"riskTier": "HIGH"}, [])] == [
        "Yes", "No", "—", "0.13", "2.5", "ES_2019", "riskTier: HIGH", "none"]


def test_times_are_shown_in_the_site_time_zone_and_due_dates_as_dates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATHWAY_TIMEZONE", "America/New_York")
    assert when("2026-01-06T05:00:00+00:00") == "6 Jan 2026"  # midnight in New York: a date
    assert when(datetime(2026, 1, 6, 14, 30, 12, tzinfo=UTC)) == "6 Jan 2026 09:30"
    assert when(None) == "—"


def test_the_instance_signing_key_is_made_once_and_kept(tmp_path: Path) -> None:
    from webapp import _instance_secret

    app = Flask("probe", instance_path=str(tmp_path / "instance"))
    first = _instance_secret(app)
    assert len(first) == 64 and _instance_secret(app) == first
    assert oct((tmp_path / "instance" / "secret_key").stat().st_mode & 0o777) == "0o600"


def lead_client(app: Flask, tokens: dict[str, str]) -> FlaskClient:
    client = app.test_client()
    sign_in(client, tokens["clinical_lead"])
    return client


def misspelt_and_fixed() -> tuple[bytes, bytes]:
    """The bundled main diagram with the issue's misspelt condition name, and with a harmless
    renamed task instead."""
    text = (Path(__file__).resolve().parents[1] / "pathways" / "ovcf_pathway.bpmn").read_text()
    broken = text.replace('${threeMonth.referralDecision = "ESCALATE"}', '${threeMonth.referalDecision = "ESCALATE"}')
    fixed = text.replace('name="4-6 week reassessment"', 'name="4-6 week reassessment (phone or clinic)"')
    assert broken != text and fixed != text
    return broken.encode(), fixed.encode()


def test_the_lead_page_is_for_clinical_leads(app: Flask, tokens: dict[str, str], coordinator: FlaskClient) -> None:
    assert coordinator.get("/definitions").status_code == 403
    assert "Only a clinical lead" in coordinator.get("/definitions").text  # a page, not JSON
    assert "Pathway versions" not in coordinator.get("/worklist").text
    lead = lead_client(app, tokens)
    page = lead.get("/definitions").text
    assert "ovcf_pathway" in page and "Version 1" in page and "(latest)" in page


def test_a_refused_deploy_lists_each_finding_and_marks_it_on_the_diagram(app: Flask, tokens: dict[str, str]) -> None:
    import io

    lead = lead_client(app, tokens)
    broken, _ = misspelt_and_fixed()
    before = service(app).definitions()
    page = lead.get("/definitions").text
    r = lead.post("/definitions", data={"csrf": csrf(page), "files": (io.BytesIO(broken), "ovcf_pathway.bpmn")},
                  content_type="multipart/form-data")
    assert r.status_code == 422 and "Not deployed" in r.text
    assert "referalDecision" in r.text and "did you mean" in r.text  # the finding, with the near miss
    flow = re.search(r"<td><code>(Flow_[^<]+)</code></td>", r.text).group(1)
    assert re.search(rf'data-errors="[^"]*\b{flow}\b', r.text)  # marked on the uploaded diagram
    assert "data-xml=" in r.text and service(app).definitions() == before  # nothing deployed


def test_deploy_a_fix_then_move_a_patient_after_a_dry_run(app: Flask, tokens: dict[str, str]) -> None:
    import io

    lead = lead_client(app, tokens)
    _, fixed = misspelt_and_fixed()
    r = lead.post("/definitions", data={"csrf": csrf(lead.get("/definitions").text),
                                        "files": (io.BytesIO(fixed), "ovcf_pathway.bpmn")},
                  content_type="multipart/form-data")
    assert r.status_code == 302 and r.headers["Location"].endswith("/definitions/ovcf_pathway/2")
    version = lead.get(r.headers["Location"]).text
    assert "Deployed ovcf_pathway version 2" in version
    # what changed, in meaning: the one renamed task, not "a file changed"
    assert "name &#39;4-6 week reassessment&#39; → &#39;4-6 week reassessment (phone or clinic)&#39;" in version
    assert version.count('class="tag tag-') == 1
    plan_link = re.search(r'href="(/pathways/[^"]+/migrate\?to=2)"', version).group(1)
    pathway = plan_link.split("/")[2]
    plan = lead.get(plan_link)
    assert plan.status_code == 200 and "dry run" in plan.text and "Nothing has changed yet" in plan.text
    assert service(app).pathway(pathway)["definition"]["version"] == 1  # the dry run changed nothing
    done = lead.post(f"/pathways/{pathway}/migrate", data={"csrf": csrf(plan.text), "to": "2"})
    assert done.status_code == 302 and service(app).pathway(pathway)["definition"]["version"] == 2
    assert "Migrated from version 1 to 2" in lead.get(done.headers["Location"]).text
    again = lead.get(plan_link)
    assert "already on version 2" in lead.get(again.headers["Location"]).text
