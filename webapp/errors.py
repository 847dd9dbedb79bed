"""Errors on a page are shown as a page (the API's routes answer problem+json)."""

from __future__ import annotations

from flask import Blueprint, render_template
from werkzeug.exceptions import HTTPException

from engine.service import ServiceError

TITLES = {400: "Cannot do that", 403: "Not allowed", 404: "Not found"}


def error_page(exc: Exception) -> tuple[str, int]:
    status = getattr(exc, "code", None) or getattr(exc, "status", None) or 500
    message = getattr(exc, "description", None) if isinstance(exc, HTTPException) else str(exc)
    return render_template("error.html", status=status, title=TITLES.get(status, "Something went wrong"),
                           message=message or "Something went wrong."), status


def page_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint of pages: its errors render ``error.html``."""
    bp = Blueprint(name, import_name)
    bp.register_error_handler(HTTPException, error_page)
    bp.register_error_handler(ServiceError, error_page)
    return bp
