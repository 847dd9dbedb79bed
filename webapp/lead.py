"""The clinical lead's pages: deploy changed diagrams and tables (findings shown on the diagram
when a deploy is refused), the versions of each pathway and what changed between them, and
moving a patient's pathway to a new version after a dry run."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, abort, flash, g, redirect, render_template, request, url_for

from api.state import service
from engine.problems import ModelError
from engine.service import Conflict, InvalidInput, NotFound

from .errors import page_blueprint
from .signin import signed_in

bp = page_blueprint("lead", __name__)
F = TypeVar("F", bound=Callable[..., Any])
MAX_UPLOAD_FILES = 50


def lead_only(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not g.user.can_author:
            abort(403, "Only a clinical lead (or an administrator) manages pathway versions.")
        return view(*args, **kwargs)

    return signed_in(wrapper)  # type: ignore[return-value]


def _versions() -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for row in service().definitions():
        found.setdefault(row["key"], []).append(row)
    return {key: sorted(rows, key=lambda r: -r["version"]) for key, rows in sorted(found.items())}


@bp.get("/definitions")
@lead_only
def index() -> Any:
    return render_template("definitions.html", versions=_versions(), problems=None, diagrams=[])


@bp.post("/definitions")
@lead_only
def deploy() -> Any:
    files = request.files.getlist("files")
    uploaded = {f.filename: f.read() for f in files if f and f.filename}
    if not uploaded or len(uploaded) > MAX_UPLOAD_FILES:
        flash(f"Choose between 1 and {MAX_UPLOAD_FILES} .bpmn, .dmn or .safety.yaml files to deploy.", "error")
        return redirect(url_for("lead.index"))
    try:
        results = service().deploy_upload(uploaded, actor=g.user.name)
    except ModelError as exc:
        problems = sorted(exc.problems, key=lambda p: (p.file, p.element, p.message))
        flash(f"Not deployed: {sum(p.is_error for p in problems)} problem(s) to fix. Nothing was changed; "
              "each is listed below and marked on its diagram.", "error")
        return render_template("definitions.html", versions=_versions(), problems=problems,
                               diagrams=_marked(uploaded, problems)), 422
    for result in results:
        if result["created"]:
            flash(f"Deployed {result['key']} version {result['version']}. Pathways already running stay on "
                  "their version until you migrate them.", "success")
        else:
            flash(f"{result['key']}: identical to version {result['version']}, nothing new deployed.", "success")
        for finding in (result.get("verification") or {}).get("findings", [])[:20]:
            flash(f"Verifier, {finding['file']} {finding['element']}: {finding['message']}", "error")
    first = results[0]
    return redirect(url_for("lead.version", key=first["key"], version=first["version"]))


def _marked(uploaded: dict[str, bytes], problems: list[Any]) -> list[dict[str, Any]]:
    """Each uploaded diagram that has findings, with its XML and the elements to mark."""
    found = []
    for name, content in sorted(uploaded.items()):
        ids = sorted({p.element for p in problems if p.file == name and p.element not in ("", "-")})
        if ids and name.lower().endswith(".bpmn"):
            found.append({"file": name, "xml": content.decode("utf-8-sig", "replace"), "errors": ids})
    return found


@bp.get("/definitions/<key>/<int:version>")
@lead_only
def version(key: str, version: int) -> Any:
    svc = service()
    try:
        detail = svc.definition(key, version)
    except NotFound:
        abort(404, f"There is no version {version} of {key}.")
    files = svc.definition_source(key, version, "")
    changes = svc.diff(key, version - 1, version)["changes"] if version > 1 else []
    main = next((n for n, text in files.items() if n.endswith(".bpmn") and f'id="{key}"' in text), None)
    running = svc.running_pathways(key)
    return render_template("version.html", detail=detail, files=sorted(files), changes=changes, main=main,
                           previous=version - 1 if version > 1 else None, running=running,
                           older=[p for p in running if p["version"] < version])


@bp.get("/definitions/<key>/<int:version>/files/<path:filename>")
@lead_only
def source(key: str, version: int, filename: str) -> Response:
    try:
        files = service().definition_source(key, version, "")
    except NotFound:
        abort(404)
    if filename not in files:
        abort(404)
    return Response(files[filename], mimetype="application/xml" if not filename.endswith(".yaml") else "text/plain",
                    headers={"Cache-Control": "no-store"})


@bp.get("/pathways/<pathway_id>/migrate")
@lead_only
def plan(pathway_id: str) -> Any:
    target = request.args.get("to", type=int)
    if target is None:
        abort(400, "Say which version to move to (?to=N).")
    try:
        report = service().migrate(pathway_id, target, actor=g.user.name, dry_run=True, **_choices(request.args))
        state = service().pathway(pathway_id)
    except NotFound as exc:
        abort(404, str(exc))
    except (Conflict, InvalidInput) as exc:
        flash(f"Cannot plan this migration: {exc}", "error")
        return redirect(url_for("lead.index"))
    names = service().elements(pathway_id)
    return render_template("migrate.html", report=report, state=state, names=names, target=target)


def _choices(fields: Any) -> dict[str, Any]:
    """The lead's choices: ``timer:<id>`` and ``decision:<id>`` fields, and ``start:<id>`` for each
    added task to start for this patient now."""
    return {"timers": {k.removeprefix("timer:"): v for k, v in fields.items() if k.startswith("timer:")},
            "decisions": {k.removeprefix("decision:"): v for k, v in fields.items() if k.startswith("decision:")},
            "start": [k.removeprefix("start:") for k in fields if k.startswith("start:")]}


@bp.post("/pathways/<pathway_id>/migrate")
@lead_only
def migrate(pathway_id: str) -> Any:
    target = request.form.get("to", type=int)
    if target is None:
        abort(400, "Say which version to move to.")
    try:
        result = service().migrate(pathway_id, target, actor=g.user.name, **_choices(request.form))
    except (NotFound, Conflict, InvalidInput) as exc:
        flash(f"Not migrated: {exc}", "error")
        return redirect(url_for("lead.plan", pathway_id=pathway_id, to=target))
    flash(f"Migrated from version {result['fromVersion']} to {result['toVersion']}.", "success")
    patient = service().pathway(pathway_id)["patientId"]
    return redirect(f"/patients/{patient}" if patient else url_for("lead.index"))
