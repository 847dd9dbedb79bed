"""Liveness: no auth, no database round trip beyond what the framework needs."""

from flask import Blueprint

bp = Blueprint("health", __name__, url_prefix="/api")


@bp.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
