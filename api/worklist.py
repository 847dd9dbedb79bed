"""The coordinator's worklist page: static HTML + JavaScript over the JSON API (token kept in the
browser tab's session storage; every call goes through the same role checks as any client)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect

bp = Blueprint("worklist", __name__)


@bp.get("/")
def home() -> Response:
    return redirect("/worklist")  # type: ignore[return-value]


@bp.get("/worklist")
def worklist() -> Response:
    response = current_app.send_static_file("worklist.html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline' 'self'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
