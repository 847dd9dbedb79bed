"""Liveness: no auth, no database round trip beyond what the framework needs."""

from flask import Blueprint, g

from .auth import READERS
from .openapi import endpoint
from .schemas import HealthOut, MeOut

bp = Blueprint("health", __name__, url_prefix="/api")


@bp.get("/health")
@endpoint(roles=None, tags=("health",), ok={"HTTP_200": HealthOut})
def health() -> dict[str, str]:
    """Is the server up? (no token needed)"""
    return {"status": "ok"}


@bp.get("/me")
@endpoint(roles=READERS, tags=("health",), ok={"HTTP_200": MeOut})
def me() -> dict[str, str]:
    """Who the token belongs to: user name and role."""
    return {"name": g.principal.name, "role": g.principal.role}
