"""Patients: find one by identifier or name; a patient's pathways, what is open and due, and a
timeline of what happened in clinical language."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import abort, render_template, request

from api.state import service
from engine.service import InvalidInput, NotFound

from .diagram import viewer_installed, views
from .errors import page_blueprint
from .signin import signed_in
from .timeline import entries

bp = page_blueprint("patient_pages", __name__)
PAGE = 50


@bp.get("/patients")
@signed_in
def index() -> Any:
    search = request.args.get("q", "").strip()
    try:
        found = service().patients(search=search or None, limit=PAGE, after=request.args.get("after") or None)
    except InvalidInput as exc:
        abort(400, str(exc))
    query = {"q": search} if search else {}
    more = f"/patients?{urlencode({**query, 'after': found['next']})}" if found["next"] else None
    return render_template("patients.html", patients=found["items"], search=search, next_url=more)


@bp.get("/patients/<patient_id>")
@signed_in
def page(patient_id: str) -> Any:
    svc = service()
    try:
        patient = svc.patient(patient_id=patient_id)
    except NotFound:
        abort(404, "There is no such patient.")
    pathways = []
    for ref in reversed(patient["pathways"]):  # the newest first
        state = svc.pathway(ref["id"])
        elements = svc.elements(ref["id"])
        every_task = svc.tasks(status=None, pathway_id=ref["id"], limit=500)["items"]
        names = {t["id"]: t["name"] or t["elementId"] for t in every_task}
        open_tasks = [t for t in every_task if t["status"] == "ready"]
        timers = [{"name": _timer_name(t["elementId"], elements), "due": t["due"]}
                  for t in sorted(state["timers"], key=lambda t: t["due"])]
        timeline = list(reversed(entries(svc.timeline(ref["id"]), elements, names)))
        overdue = {t["elementId"] for t in open_tasks if t["overdue"]}
        pathways.append({"state": state, "open": open_tasks, "timers": timers, "timeline": timeline,
                         "diagrams": views(state, elements, overdue)})
    return render_template("patient.html", patient=patient, pathways=pathways, viewer=viewer_installed())


def _timer_name(element_id: str, elements: dict[str, dict[str, str]]) -> str:
    """A timer as the diagram names it, with the task it watches (e.g. "Overdue: Intake")."""
    found = elements.get(element_id)
    if found is None:
        return element_id
    watched = elements.get(found.get("on") or "")
    return f"{found['name']}: {watched['name']}" if watched else found["name"]
