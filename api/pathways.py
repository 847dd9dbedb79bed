"""A patient's pathway: state, timeline, messages and migration to another version."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from .auth import AUTHORS, READERS, WORKERS, actor
from .openapi import endpoint
from .schemas import MessageIn, MigrateIn, MigrateOut, PathwayOut, StatusChangeIn, TimelineOut
from .state import service
from .variables import typed_variables

bp = Blueprint("pathways", __name__, url_prefix="/api/pathways")


@bp.get("/<pathway_id>")
@endpoint(roles=READERS, tags=("pathways",), ok={"HTTP_200": PathwayOut}, errors=(404,))
def pathway(pathway_id: str) -> dict[str, Any]:
    """Status, definition version, variables, active and completed elements, next timer."""
    return service().pathway(pathway_id)


@bp.get("/<pathway_id>/timeline")
@endpoint(roles=READERS, tags=("pathways",), ok={"HTTP_200": TimelineOut}, errors=(404,))
def timeline(pathway_id: str) -> dict[str, Any]:
    """Every change to the pathway, oldest first, with actor and time."""
    return {"items": service().timeline(pathway_id)}


@bp.post("/<pathway_id>/messages/<message_name>")
@endpoint(roles=WORKERS, tags=("pathways",), json=MessageIn, ok={"HTTP_200": PathwayOut},
          errors=(404, 409, 415))
def message(pathway_id: str, message_name: str, json: MessageIn) -> dict[str, Any]:
    """Deliver a BPMN message (e.g. a reported red flag) to a waiting pathway."""
    svc = service()
    svc.correlate_message(pathway_id, message_name, actor=actor(), variables=typed_variables(json.variables))
    return svc.pathway(pathway_id)


@bp.post("/<pathway_id>/migrate")
@endpoint(roles=AUTHORS, tags=("pathways",), json=MigrateIn, ok={"HTTP_200": MigrateOut},
          errors=(404, 409, 415))
def migrate(pathway_id: str, json: MigrateIn) -> dict[str, Any]:
    """Move the pathway to another version of its definition (``dryRun`` reports without changing)."""
    return service().migrate(pathway_id, json.version, actor=actor(), dry_run=json.dryRun,
                             timers=json.timers, decisions=json.decisions, start=json.start)


def _change_status(pathway_id: str, action: str, reason: str | None) -> dict[str, Any]:
    svc = service()
    svc.change_status(pathway_id, action, actor=actor(), reason=reason)
    return svc.pathway(pathway_id)


@bp.post("/<pathway_id>/suspend")
@endpoint(roles=AUTHORS, tags=("pathways",), json=StatusChangeIn, ok={"HTTP_200": PathwayOut},
          errors=(404, 409, 415))
def suspend(pathway_id: str, json: StatusChangeIn) -> dict[str, Any]:
    """Suspend a pathway: its timers wait and its tasks cannot be worked until it is resumed."""
    return _change_status(pathway_id, "suspend", json.reason)


@bp.post("/<pathway_id>/resume")
@endpoint(roles=AUTHORS, tags=("pathways",), json=StatusChangeIn, ok={"HTTP_200": PathwayOut},
          errors=(404, 409, 415))
def resume(pathway_id: str, json: StatusChangeIn) -> dict[str, Any]:
    """Resume a suspended pathway, or one parked by an incident; overdue timers then fire."""
    return _change_status(pathway_id, "resume", json.reason)


@bp.post("/<pathway_id>/cancel")
@endpoint(roles=AUTHORS, tags=("pathways",), json=StatusChangeIn, ok={"HTTP_200": PathwayOut},
          errors=(404, 409, 415))
def cancel(pathway_id: str, json: StatusChangeIn) -> dict[str, Any]:
    """Cancel a pathway: its open tasks are withdrawn and no timer fires again."""
    return _change_status(pathway_id, "cancel", json.reason)
