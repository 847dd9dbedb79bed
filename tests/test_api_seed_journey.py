"""Seed 004 through HTTP on the real OVCF pathway (issue 4, first acceptance point).

A grade-1 vertebral change without red flags runs the full conservative phase over three
simulated months: ``pathways/`` + ``dmn/`` deployed by a clinical lead, tasks that appear exactly
when their timers fall due (one minute earlier they are absent), their due dates and candidate
groups, completions with the task's ETag as If-Match, the pathway state advancing, the timeline
naming every step's actor and time, and a worklist (``dueBefore`` + ``candidateGroup``) holding
the interleaved work of a second patient enrolled a week later.

The service-level twin is ``tests/scenarios/seed_004_full_conservative_phase.yaml``; answers are
that scenario's, merged over ``tests/scenarios/_defaults.yaml``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import yaml
from flask.testing import FlaskClient

from api.testkit import ROOT, bearer, bundle_files
from engine.isotime import parse_duration

pytest_plugins = ["api.testing"]  # fixtures: app, client, tokens

KEY = "ovcf_pathway"
SCENARIOS = ROOT / "tests" / "scenarios"
DEFAULTS: dict[str, dict[str, Any]] = yaml.safe_load((SCENARIOS / "_defaults.yaml").read_text())
# No `clinician` API role exists: clinician work is done with a clinical lead's token (README roles table).
WORKER_ROLE = {"clinician": "clinical_lead", "coordinator": "coordinator"}
ACTOR = {"clinician": "clinical_lead-user", "coordinator": "coordinator-user"}


def iso(text: str) -> str:
    """'2026-03-02 09:00' -> the API's UTC rendering."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).isoformat()


class Api:
    """The few calls of this journey, each asserting its status."""

    def __init__(self, client: FlaskClient, tokens: dict[str, str]) -> None:
        self.client, self.tokens = client, tokens
        self.reader = bearer(tokens["api_client"])

    def deploy_real_pathway(self) -> dict[str, Any]:
        files = {**bundle_files(ROOT / "pathways"), **bundle_files(ROOT / "dmn")}
        r = self.client.post("/api/definitions", data=files, headers=bearer(self.tokens["clinical_lead"]),
                             content_type="multipart/form-data")
        assert r.status_code == 201, r.json
        return r.json

    def clock(self, **move: str) -> list[tuple[str, str, str]]:
        """Move the simulated clock; (pathwayId, elementId, due) of every timer that fired on the way."""
        r = self.client.post("/api/clock", json=move, headers=bearer(self.tokens["coordinator"]))
        assert r.status_code == 200, r.json
        return [(f["pathwayId"], t["elementId"], t["due"]) for f in r.json["fired"] for t in f["fired"]]

    def today(self) -> date:
        return datetime.fromisoformat(self.client.get("/api/clock", headers=self.reader).json["now"]).date()

    def enroll(self, mrn: str) -> str:
        coordinator = bearer(self.tokens["coordinator"])
        r = self.client.post("/api/patients", json={"externalId": mrn, "displayName": f"Seed {mrn}"},
                             headers=coordinator)
        assert r.status_code == 201, r.json
        # The start event has no form: the fracture date and red-flag screen come with UT1_Intake,
        # and without a siteId the default SitePolicy row applies (pathways/README.md).
        r = self.client.post(f"/api/patients/{r.json['id']}/pathways",
                             json={"definition": KEY, "variables": {}}, headers=coordinator)
        assert r.status_code == 201, r.json
        assert r.json["status"] == "running" and r.json["activeElements"] == ["BE_UT1_Intake_Overdue", "UT1_Intake"]
        return r.json["id"]

    def tasks(self, **query: Any) -> list[dict[str, Any]]:
        r = self.client.get("/api/tasks", query_string=query, headers=self.reader)
        assert r.status_code == 200, r.json
        assert r.json["nextCursor"] is None
        return r.json["items"]

    def ready(self, pathway_id: str) -> list[tuple[str, str, list[str]]]:
        """(elementId, due, candidateGroups) of the pathway's ready tasks, in worklist order."""
        return [(t["elementId"], t["due"], t["candidateGroups"]) for t in self.tasks(pathwayId=pathway_id)]

    def ready_ids(self, pathway_id: str) -> set[str]:
        return {element for element, _, _ in self.ready(pathway_id)}

    def worklist(self, group: str, due_before: str) -> list[tuple[str, str, str]]:
        items = self.tasks(candidateGroup=group, dueBefore=due_before)
        return [(t["pathwayId"], t["elementId"], t["due"]) for t in items]

    def state(self, pathway_id: str) -> dict[str, Any]:
        r = self.client.get(f"/api/pathways/{pathway_id}", headers=self.reader)
        assert r.status_code == 200, r.json
        return r.json

    def complete(self, pathway_id: str, element: str, **answers: Any) -> dict[str, Any]:
        """Complete the one ready ``element`` task as its candidate group, with the scenario's answers."""
        [task] = [t for t in self.tasks(pathwayId=pathway_id) if t["elementId"] == element]
        [group] = task["candidateGroups"]
        worker = bearer(self.tokens[WORKER_ROLE[group]])
        detail = self.client.get(f"/api/tasks/{task['id']}", headers=worker)
        assert detail.status_code == 200 and detail.headers["ETag"], detail.json
        variables = form_answers(element, self.today(), answers)
        assert set(variables) <= {f["id"] for f in detail.json["form"]["fields"]}, element
        r = self.client.post(f"/api/tasks/{task['id']}/complete", json={"variables": variables},
                             headers={**worker, "If-Match": detail.headers["ETag"]})
        assert r.status_code == 200, (element, r.json)
        assert r.json["task"]["status"] == "completed"
        return self.state(pathway_id)

    def timeline(self, pathway_id: str) -> list[tuple[str, str, str, str]]:
        """(action, actor, at, element): the completed task, or the timer(s) that fired."""
        r = self.client.get(f"/api/pathways/{pathway_id}/timeline", headers=self.reader)
        assert r.status_code == 200, r.json
        steps = []
        for event in r.json["items"]:
            details = event["details"] or {}
            element = details.get("elementId") or ",".join(t["elementId"] for t in details.get("fired", []))
            steps.append((event["action"], event["actor"], event["at"], element))
        return steps


def form_answers(element: str, today: date, answers: dict[str, Any]) -> dict[str, Any]:
    """The scenario defaults for ``element`` with ``answers`` on top; 'today+P7D' becomes a date."""
    midnight = datetime.combine(today, time(), tzinfo=UTC)
    resolved = {}
    for name, value in {**DEFAULTS[element], **answers}.items():
        if isinstance(value, str) and value.startswith("today"):
            day = parse_duration(value[6:]).add_to(midnight, UTC) if value != "today" else midnight
            value = day.date().isoformat()
        resolved[name] = value
    return resolved


def test_seed_004_full_conservative_phase_through_http(client: FlaskClient, tokens: dict[str, str]) -> None:
    api = Api(client, tokens)
    definition = api.deploy_real_pathway()
    assert (definition["key"], definition["version"]) == (KEY, 1)
    assert definition["deployedBy"] == "clinical_lead-user"
    assert api.clock(set="2026-03-02T09:00:00Z") == []

    # Enrolment: the clinician's intake and red-flag screen is due within a day.
    seed = api.enroll("S004")
    assert api.ready(seed) == [("UT1_Intake", iso("2026-03-03 09:00"), ["clinician"])]
    assert api.tasks(pathwayId=seed)[0]["priority"] == 80

    # Intake (no red flags) -> DT1 conservative; analgesia, coordination and bone work-up in due order.
    state = api.complete(seed, "UT1_Intake", painScore=5, fractureLevel="L1")
    assert state["variables"]["fractureDate"] == "2026-03-02"
    assert state["variables"]["triage"]["triageCategory"] == "CONSERVATIVE_PATHWAY"
    assert state["variables"]["site"]["threeMonthReviewAfter"] == "P12W"
    assert api.ready(seed) == [
        ("UT_Analgesia", iso("2026-03-03 09:00"), ["clinician"]),
        ("UT2_Coordination", iso("2026-03-09 00:00"), ["coordinator"]),  # fracture + P7D
        ("UT3_Workup", iso("2026-03-16 09:00"), ["clinician"]),
    ]
    api.complete(seed, "UT_Analgesia")
    state = api.complete(seed, "UT2_Coordination")
    assert {"SP_A_Conservative", "TC_Week4", "UT3_Workup"} <= set(state["activeElements"])
    assert {t["elementId"]: t["due"] for t in state["timers"]}["TC_Week4"] == iso("2026-03-30 00:00")
    assert state["nextDueAt"] == iso("2026-03-16 09:00")  # the work-up overdue boundary comes first
    assert api.ready(seed) == [("UT3_Workup", iso("2026-03-16 09:00"), ["clinician"])]

    # A week later a second patient (fracture three days before) joins the worklists.
    assert api.clock(advance="P7D") == []
    other = api.enroll("S004-B")
    api.complete(other, "UT1_Intake", fractureDate="2026-03-06")
    assert api.worklist("clinician", "2026-03-20T00:00:00Z") == [
        (other, "UT_Analgesia", iso("2026-03-10 09:00")),
        (seed, "UT3_Workup", iso("2026-03-16 09:00")),
    ]  # other's work-up (due 03-23 09:00) is after dueBefore
    assert api.worklist("coordinator", "2026-03-20T00:00:00Z") == [
        (other, "UT2_Coordination", iso("2026-03-13 00:00"))]
    api.complete(other, "UT_Analgesia")
    api.complete(other, "UT2_Coordination")

    # Day 14: the open work-up is chased, not a minute early.
    assert api.clock(set="2026-03-16T08:59:00Z") == []
    assert "UT_ChaseUT3" not in api.ready_ids(seed)
    assert api.clock(advance="PT1M") == [(seed, "BE_UT3_Overdue", iso("2026-03-16 09:00"))]
    assert ("UT_ChaseUT3", iso("2026-03-18 09:00"), ["coordinator"]) in api.ready(seed)

    # Week 4: the reassessment appears exactly at fracture + P4W (the other patient's chase came on the way).
    assert api.clock(set="2026-03-29T23:59:00Z") == [(other, "BE_UT3_Overdue", iso("2026-03-23 09:00"))]
    assert "UT5_Reassess" not in api.ready_ids(seed)
    assert api.clock(advance="PT1M") == [(seed, "TC_Week4", iso("2026-03-30 00:00"))]
    assert api.ready(seed)[-1] == ("UT5_Reassess", iso("2026-03-30 00:00"), ["clinician"])
    assert "BE_UT5_Overdue" in {t["elementId"] for t in api.state(seed)["timers"]}
    # The worklists interleave both patients' work, due ascending; dueBefore is strict.
    assert api.worklist("clinician", "2026-04-01T00:00:00Z") == [
        (seed, "UT3_Workup", iso("2026-03-16 09:00")),
        (other, "UT3_Workup", iso("2026-03-23 09:00")),
        (seed, "UT5_Reassess", iso("2026-03-30 00:00")),
    ]
    assert api.worklist("clinician", "2026-03-30T00:00:00Z") == [
        (seed, "UT3_Workup", iso("2026-03-16 09:00")),
        (other, "UT3_Workup", iso("2026-03-23 09:00")),
    ]
    assert api.worklist("coordinator", "2026-04-01T00:00:00Z") == [
        (seed, "UT_ChaseUT3", iso("2026-03-18 09:00")),
        (other, "UT_ChaseUT3", iso("2026-03-25 09:00")),
    ]

    # Reassessed two days late (overdue): stable pain -> DT6 optimise and continue; day-57 check next.
    api.clock(set="2026-04-01T00:00:00Z")
    assert [t["overdue"] for t in api.tasks(pathwayId=seed) if t["elementId"] == "UT5_Reassess"] == [True]
    state = api.complete(seed, "UT5_Reassess", painScore=5, painTrend="STABLE")
    assert state["variables"]["reassessment"]["reassessmentOutcome"] == "CONTINUE_OPTIMIZE"
    pending = {t["elementId"] for t in state["timers"]}
    assert "TC_Day57" in pending and "BE_UT5_Overdue" not in pending
    assert state["nextDueAt"] == iso("2026-04-28 00:00")
    # Week 6 passes without a chase: the overdue boundary went with the completed task.
    assert api.clock(set="2026-04-13T00:00:00Z") == [(other, "TC_Week4", iso("2026-04-03 00:00"))]
    assert "UT_ChaseUT5" not in api.ready_ids(seed)

    # Day 57 ("beyond 8 weeks"): the coordinator's phone check, due three days later.
    assert api.clock(set="2026-04-27T23:59:00Z") == [
        (other, "BE_UT5_Overdue", iso("2026-04-17 00:00"))]  # the other patient never reassessed
    assert "UT6_EightWeek" not in api.ready_ids(seed)
    assert api.clock(advance="PT1M") == [(seed, "TC_Day57", iso("2026-04-28 00:00"))]
    assert ("UT6_EightWeek", iso("2026-05-01 00:00"), ["coordinator"]) in api.ready(seed)
    api.clock(advance="PT2H")
    state = api.complete(seed, "UT6_EightWeek", painScore=3, painTrend="IMPROVING")
    assert state["variables"]["eightWeek"]["reassessmentOutcome"] == "CONTINUE_CONSERVATIVE"
    assert state["nextDueAt"] == iso("2026-05-25 00:00")  # fracture + SitePolicy P12W

    # Three months: the clinician's reassessment; pain below the site threshold closes the acute phase.
    assert api.clock(set="2026-05-24T23:59:00Z") == []
    assert "UT7_ThreeMonth" not in api.ready_ids(seed)
    assert api.clock(advance="PT1M") == [(seed, "TC_Month3", iso("2026-05-25 00:00"))]
    assert ("UT7_ThreeMonth", iso("2026-05-25 00:00"), ["clinician"]) in api.ready(seed)
    assert "BE_UT7_Overdue" in {t["elementId"] for t in api.state(seed)["timers"]}
    api.clock(advance="P1D")
    state = api.complete(seed, "UT7_ThreeMonth", painScore=2.0)
    assert state["variables"]["threeMonth"]["referralDecision"] == "CLOSE_ACUTE_PHASE"
    assert state["status"] == "running" and "SP_A_Conservative" not in state["activeElements"]
    assert state["timers"] == [] and state["nextDueAt"] is None
    # Only the (overdue, chased) bone work-up remains; bone therapy runs on.
    assert api.ready(seed) == [("UT3_Workup", iso("2026-03-16 09:00"), ["clinician"]),
                               ("UT_ChaseUT3", iso("2026-03-18 09:00"), ["coordinator"])]

    # The timeline: every step with its actor and time, in order.
    clinician, coordinator, timer = ACTOR["clinician"], ACTOR["coordinator"], "system:timer"
    assert api.timeline(seed) == [
        ("pathway.enroll", coordinator, iso("2026-03-02 09:00"), ""),
        ("task.complete", clinician, iso("2026-03-02 09:00"), "UT1_Intake"),
        ("task.complete", clinician, iso("2026-03-02 09:00"), "UT_Analgesia"),
        ("task.complete", coordinator, iso("2026-03-02 09:00"), "UT2_Coordination"),
        ("timer.fire", timer, iso("2026-03-16 09:00"), "BE_UT3_Overdue"),
        ("timer.fire", timer, iso("2026-03-30 00:00"), "TC_Week4"),
        ("task.complete", clinician, iso("2026-04-01 00:00"), "UT5_Reassess"),
        ("timer.fire", timer, iso("2026-04-28 00:00"), "TC_Day57"),
        ("task.complete", coordinator, iso("2026-04-28 02:00"), "UT6_EightWeek"),
        ("timer.fire", timer, iso("2026-05-25 00:00"), "TC_Month3"),
        ("task.complete", clinician, iso("2026-05-26 00:00"), "UT7_ThreeMonth"),
    ]
