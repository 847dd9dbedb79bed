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
    assert with_policy, "a demo patient past intake has the site policy stored"
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
