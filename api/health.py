"""Liveness: no auth, no database round trip beyond what the framework needs."""

from flask import Blueprint

from .openapi import endpoint

bp = Blueprint("health", __name__, url_prefix="/api")


@bp.get("/health")
@endpoint(roles=None, tags=("health",))
def health() -> dict[str, str]:
    """Is the server up? (no token needed)"""
    return {"status": "ok"}
