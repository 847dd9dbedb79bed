"""Liveness: no auth, no database round trip beyond what the framework needs."""

from flask import Blueprint, g

from .auth import READERS
from .openapi import endpoint

bp = Blueprint("health", __name__, url_prefix="/api")


@bp.get("/health")
@endpoint(roles=None, tags=("health",))
def health() -> dict[str, str]:
    """Is the server up? (no token needed)"""
    return {"status": "ok"}


@bp.get("/me")
@endpoint(roles=READERS, tags=("health",))
def me() -> dict[str, str]:
    """Who the token belongs to: user name and role."""
    return {"name": g.principal.name, "role": g.principal.role}
