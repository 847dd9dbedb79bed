"""The web app for care coordinators and clinical leads: server-rendered pages over the same
service layer as the JSON API (``api``), with a little JavaScript from ``static/`` and no inline
script, so the Content-Security-Policy can forbid it.

Sign-in takes an API token (the same tokens and roles as the API) and keeps only its hash in the
signed session cookie, for the browser session. Every form post carries a CSRF token.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Blueprint, Flask, Response, redirect, request

from . import display

# The pages hold patient data: never cached, never framed, scripts and styles from here only.
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


# templates and static files of the pages (served under /assets)
assets = Blueprint("webapp", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/assets")
PAGES = ("webapp", "signin", "worklist", "task_pages", "patient_pages", "diagram", "lead")


def init_app(app: Flask) -> None:
    """Register the pages on an app made by ``api.create_app``."""
    from . import diagram, lead, patients, signin, tasks, worklist

    app.secret_key = app.config.get("SECRET_KEY") or os.environ.get("SECRET_KEY") or _instance_secret(app)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Strict")
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.register_blueprint(assets)
    for module in (signin, worklist, tasks, patients, diagram, lead):
        app.register_blueprint(module.bp)
    app.add_template_filter(display.when, "when")
    app.add_template_filter(display.day, "day")
    app.add_template_filter(display.answer, "answer")
    app.add_url_rule("/", "home", lambda: redirect("/worklist"))
    app.after_request(_secure)


def _secure(response: Response) -> Response:
    if request.blueprint in PAGES or request.endpoint == "home":
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint not in ("webapp.static", "diagram.viewer"):
            response.headers["Cache-Control"] = "no-store"
    return response


def _instance_secret(app: Flask) -> str:
    """A signing key kept in the instance folder, made once: every worker process of one server,
    and the server after a restart, keep accepting the same session cookies."""
    folder = Path(app.instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secret_key"
    if not path.exists():
        # written aside, then linked into place: a second process never reads a half-written key
        temporary = folder / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip()
