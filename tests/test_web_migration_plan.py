"""The lead's migration page (issue 11): the dry run shows the decisions the new version answers
differently and each waiting timer, the lead chooses per row, and "Move" does what the page shows."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from tests.web_support import csrf, demo_app, sign_in

ROOT = Path(__file__).resolve().parents[1]


def _lead(tmp_path: Path) -> tuple[Any, FlaskClient]:
    app, tokens = demo_app(tmp_path)
    client = app.test_client()
    sign_in(client, tokens["clinical_lead"])
    return app.extensions["pathway"]["service"], client


def test_the_lead_keeps_a_stored_policy_on_purpose_and_the_move_does_exactly_that(tmp_path: Path) -> None:
    svc, lead = _lead(tmp_path)
    dmn = (ROOT / "dmn" / "ovcf_pathway.dmn").read_text()
    assert '"P12W"' in dmn
    r = lead.post("/definitions", data={"csrf": csrf(lead.get("/definitions").text),
                                        "files": (io.BytesIO(dmn.replace('"P12W"', '"P13W"', 1).encode()),
                                                  "ovcf_pathway.dmn")}, content_type="multipart/form-data")
    assert r.status_code == 302, r.text
    version = lead.get(r.headers["Location"]).text
    assert "&#39;&#34;P12W&#34;&#39; → &#39;&#34;P13W&#34;&#39;" in version  # the diff names the cell
    links = re.findall(r'href="(/pathways/([^"/]+)/migrate\?to=2)"', version)
    with_policy = [(link, pathway) for link, pathway in links if "site" in svc.pathway(pathway)["variables"]]
    assert len(with_policy) >= 2, "demo patients past intake have the site policy stored"
    link, pathway = with_policy[0]

    plan = lead.get(link).text
    assert "a stored copy of policy" in plan
    assert re.search(r'name="decision:BRT_SitePolicy" value="refresh"\s+checked', plan)  # refreshed by default
    kept = lead.get(f"{link}&decision:BRT_SitePolicy=keep").text
    assert re.search(r'name="decision:BRT_SitePolicy" value="keep"\s+checked', kept)
    assert '<input type="hidden" name="decision:BRT_SitePolicy" value="keep">' in kept
    assert svc.pathway(pathway)["definition"]["version"] == 1  # dry runs change nothing

    move = re.search(rf'<form method="post" action="/pathways/{pathway}/migrate">(.*?)</form>', kept, re.S).group(1)
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', move))
    assert set(form) == {"csrf", "to", "decision:BRT_SitePolicy"}
    done = lead.post(f"/pathways/{pathway}/migrate", data=form)
    assert done.status_code == 302, done.text[:2000]
    moved = svc.pathway(pathway)
    assert moved["definition"]["version"] == 2 and moved["variables"]["site"]["threeMonthReviewAfter"] == "P12W"
    last = svc.timeline(pathway)[-1]
    assert last["action"] == "pathway.migrate"
    assert [d["choice"] for d in last["details"]["decisions"]] == ["keep"]

    # another patient moved as planned by default: the stored policy takes the new 3-month point
    other_link, other = with_policy[1]
    default = lead.get(other_link).text
    move = re.search(rf'<form method="post" action="/pathways/{other}/migrate">(.*?)</form>', default, re.S).group(1)
    assert lead.post(f"/pathways/{other}/migrate", data=dict(
        re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', move))).status_code == 302
    assert svc.pathway(other)["variables"]["site"]["threeMonthReviewAfter"] == "P13W"


def test_the_lead_starts_a_task_the_patient_passed_and_the_coordinator_gets_it(tmp_path: Path) -> None:
    svc, lead = _lead(tmp_path)
    bpmn = (ROOT / "pathways" / "ovcf_pathway.bpmn").read_text()
    flow = '<bpmn:sequenceFlow id="Flow_BRT_SitePolicy_BRT_DT1" sourceRef="BRT_SitePolicy" targetRef="BRT_DT1" />'
    added = bpmn.replace(flow, '<bpmn:sequenceFlow id="Flow_BRT_SitePolicy_BRT_DT1" sourceRef="BRT_SitePolicy" '
                               'targetRef="UT_ConfirmSite" /><bpmn:userTask id="UT_ConfirmSite" name="Confirm the site" '
                               'camunda:candidateGroups="coordinator"><bpmn:incoming>Flow_BRT_SitePolicy_BRT_DT1'
                               '</bpmn:incoming><bpmn:outgoing>Flow_ConfirmSite</bpmn:outgoing></bpmn:userTask>'
                               '<bpmn:sequenceFlow id="Flow_ConfirmSite" sourceRef="UT_ConfirmSite" targetRef="BRT_DT1" />')
    added = added.replace("<bpmn:incoming>Flow_BRT_SitePolicy_BRT_DT1</bpmn:incoming>",
                          "<bpmn:incoming>Flow_ConfirmSite</bpmn:incoming>", 1)
    r = lead.post("/definitions", data={"csrf": csrf(lead.get("/definitions").text),
                                        "files": (io.BytesIO(added.encode()), "ovcf_pathway.bpmn")},
                  content_type="multipart/form-data")
    assert r.status_code == 302, r.text[:3000]
    version = lead.get(r.headers["Location"]).text
    links = re.findall(r'href="(/pathways/([^"/]+)/migrate\?to=2)"', version)
    link, pathway = next((link, p) for link, p in links if "site" in svc.pathway(p)["variables"])
    plan = lead.get(link).text
    assert "New tasks this patient will not get" in plan and 'name="start:UT_ConfirmSite"' in plan
    chosen = lead.get(f"{link}&start:UT_ConfirmSite=yes").text
    move = re.search(rf'<form method="post" action="/pathways/{pathway}/migrate">(.*?)</form>', chosen, re.S).group(1)
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', move))
    assert form.get("start:UT_ConfirmSite") == "yes"
    assert lead.post(f"/pathways/{pathway}/migrate", data=form).status_code == 302
    open_tasks = svc.tasks(pathway_id=pathway)["items"]
    assert "Confirm the site" in [t["name"] for t in open_tasks]
