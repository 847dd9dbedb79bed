"""Where a patient is on the pathway's diagrams: the BPMN files of the pathway's own definition
version, and bpmn-js (the viewer, from npm at setup) to draw them in the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response, abort, send_from_directory

from api.state import service
from engine.service import NotFound

from .errors import page_blueprint
from .signin import signed_in

bp = page_blueprint("diagram", __name__)
VIEWER = Path(__file__).parent / "node_modules" / "bpmn-js" / "dist"


def viewer_installed() -> bool:
    return (VIEWER / "bpmn-navigated-viewer.production.min.js").exists()


@bp.get("/vendor/bpmn-js/<path:filename>")
def viewer(filename: str) -> Response:
    """bpmn-js's own build output, as npm installed it (never copied into the repository)."""
    if not viewer_installed():
        abort(404, "the diagram viewer is not installed: run 'npm ci' in webapp/ (scripts/demo does)")
    return send_from_directory(VIEWER, filename, max_age=86400)


@bp.get("/pathways/<pathway_id>/diagram/<path:filename>")
@signed_in
def source(pathway_id: str, filename: str) -> Response:
    """One BPMN file of the definition version this pathway runs on."""
    try:
        files = service().pathway_sources(pathway_id)
    except NotFound:
        abort(404, "There is no such pathway.")
    if filename not in files:
        abort(404, "That diagram is not part of this pathway's version.")
    return Response(files[filename], mimetype="application/xml", headers={"Cache-Control": "no-store"})


def views(state: dict[str, Any], elements: dict[str, dict[str, str]], overdue: set[str]) -> list[dict[str, Any]]:
    """The diagrams that show where the patient is, each with the elements to mark: active (open
    tasks, waits, running sub-processes and calls), done, and overdue tasks. The pathway's main
    diagram (where it started) comes first and is always there; a called process's diagram only
    while the patient is in it."""
    by_file: dict[str, dict[str, list[str]]] = {}
    for kind in ("activeElements", "completedElements"):
        for element_id in state[kind]:
            found = elements.get(element_id)
            if found is None:
                continue
            marks = by_file.setdefault(found["file"], {"active": [], "done": [], "overdue": []})
            marks["active" if kind == "activeElements" else "done"].append(element_id)
            if element_id in overdue:
                marks["overdue"].append(element_id)
    first = next((elements[e]["file"] for e in state["completedElements"] if e in elements), None)
    shown = [first] if first else []
    shown += sorted(f for f, marks in by_file.items() if marks["active"] and f != first)
    return [{"file": f, **by_file[f]} for f in shown]
