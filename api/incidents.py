"""Incidents: pathways the engine parked because they could not proceed or load (each with its
error), so an operator sees them without reading logs; ``POST /api/pathways/{id}/resume``
retries one once the cause is fixed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from .auth import READERS
from .openapi import endpoint
from .schemas import IncidentList
from .state import service

bp = Blueprint("incidents", __name__, url_prefix="/api/incidents")


@bp.get("")
@endpoint(roles=READERS, tags=("pathways",), ok={"HTTP_200": IncidentList})
def incidents() -> dict[str, Any]:
    """Pathways parked as failed, newest first, with the time and error of their last incident."""
    return {"items": service().incidents()}
