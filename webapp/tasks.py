"""A task: what it is, who it is for, its form; claim, release and complete it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for

from api.state import service
from engine.service import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed

from .errors import page_blueprint
from .formview import answers, controls
from .signin import signed_in

bp = page_blueprint("task_pages", __name__)


def _back() -> str:
    target = request.form.get("back") or request.args.get("back") or ""
    return target if target.startswith("/worklist") or target.startswith("/patients/") else url_for("worklist.page")


def _load(task_id: str) -> dict[str, Any]:
    try:
        return service().task(task_id)
    except NotFound:
        abort(404, "There is no such task. It may have been completed or withdrawn by the pathway.")


@bp.get("/tasks/<task_id>")
@signed_in
def page(task_id: str) -> Any:
    task = _load(task_id)
    return _render(task)


def _render(task: dict[str, Any], submitted: Any = None, errors: dict[str, str] | None = None,
            status: int = 200) -> Any:
    mine = task["assignee"] == g.user.name
    reason = service().task_reason(task["id"])
    return render_template("task.html", task=task, controls=controls(task["form"], submitted, errors),
                           errors=errors or {}, mine=mine, back=_back(), reason=reason,
                           decided=_decided(reason)), status


def _decided(reason: dict[str, Any] | None) -> dict[str, Any] | None:
    """The decision's own trace entry (its inputs, matched rules and result), not those of the
    decisions it required."""
    decision = (reason or {}).get("decision")
    if not decision:
        return None
    entries = [e for e in decision["trace"] if e.get("decision") == decision["id"]] or decision["trace"][-1:]
    return entries[-1] if entries else None


@bp.post("/tasks/<task_id>/claim")
@signed_in
def claim(task_id: str) -> Any:
    return _assign(task_id, lambda etag: service().claim(task_id, actor=g.user.name, if_match=etag,
                                                         actor_groups=g.user.groups),
                   done="You have claimed “{name}”.", failed="Could not claim “{name}”: {error}")


@bp.post("/tasks/<task_id>/unclaim")
@signed_in
def unclaim(task_id: str) -> Any:
    return _assign(task_id, lambda etag: service().unclaim(task_id, actor=g.user.name, if_match=etag,
                                                           release_others=g.user.can_author),
                   done="You have released “{name}” for others to take.", failed="Could not release “{name}”: {error}",
                   forbidden="“{name}” is not claimed by you, so you cannot release it.")


def _assign(task_id: str, change: Callable[[str | None], object], *, done: str, failed: str,
            forbidden: str | None = None) -> Any:
    """Claim or release, then back where the user came from, the outcome said either way."""
    task = _load(task_id)
    try:
        change(request.form.get("etag") or None)
        flash(done.format(name=task["name"]), "success")
    except Forbidden as exc:
        flash((forbidden or failed).format(name=task["name"], error=exc), "error")
    except (Conflict, PreconditionFailed) as exc:
        flash(failed.format(name=task["name"], error=exc), "error")
    return redirect(request.form.get("next") or url_for("task_pages.page", task_id=task_id, back=_back()))


@bp.post("/tasks/<task_id>/complete")
@signed_in
def complete(task_id: str) -> Any:
    task = _load(task_id)
    if task["assignee"] != g.user.name:
        # one person at a time works a task: the form is only for whoever has claimed it
        flash("Claim the task before completing it.", "error")
        return redirect(url_for("task_pages.page", task_id=task_id, back=_back()))
    try:
        service().complete(task_id, answers(task["form"], request.form), actor=g.user.name,
                           if_match=request.form.get("etag") or None, actor_groups=g.user.groups)
    except InvalidInput as exc:
        errors = {e.field: _said(e) for e in exc.errors} if exc.errors else {}
        flash("The form has errors: each is shown next to its field. Nothing was saved.", "error")
        return _render(task, request.form, errors or {"_form": str(exc)}, 422)
    except PreconditionFailed:
        flash("Someone changed this task while you had it open. It has been reloaded; check it and submit again.",
              "error")
        return _render(_load(task_id), request.form, None, 412)
    except (Conflict, Forbidden) as exc:
        flash(f"Could not complete “{task['name']}”: {exc}", "error")
        return redirect(url_for("task_pages.page", task_id=task_id, back=_back()))
    flash(f"Completed “{task['name']}” for {_who(task)}.", "success")
    return redirect(_back())


def _said(error: Any) -> str:
    """A field error as it reads next to its label (the label is already there)."""
    return "Answer this question." if error.code == "required" else error.message[:1].upper() + error.message[1:] + "."


def _who(task: dict[str, Any]) -> str:
    patient = task.get("patient") or {}
    return patient.get("displayName") or patient.get("externalId") or "the patient"
