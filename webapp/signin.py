"""Signing in with an API token, who is signed in, and the CSRF token every form posts."""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, render_template, request, session, url_for

from api.auth import ADMIN, API_CLIENT, AUTHORS, CLINICAL_LEAD, COORDINATOR, WORKERS
from api.state import service
from engine.store.tokens import find_token, find_token_hash

from .errors import page_blueprint

bp = page_blueprint("signin", __name__)
F = TypeVar("F", bound=Callable[..., Any])
ROLE_NAMES = {COORDINATOR: "Care coordinator", CLINICAL_LEAD: "Clinical lead", ADMIN: "Administrator",
              API_CLIENT: "API client"}


@dataclass(frozen=True)
class User:
    name: str
    role: str
    groups: tuple[str, ...] | None

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.role, self.role)

    @property
    def can_work(self) -> bool:
        """May claim and complete tasks (the API's WORKERS)."""
        return self.role in WORKERS

    @property
    def can_author(self) -> bool:
        """May deploy and migrate, and release anyone's claim (the API's AUTHORS)."""
        return self.role in AUTHORS


def current_user() -> User | None:
    token_hash = session.get("token_hash")
    if not token_hash:
        return None
    with service().ctx.read() as db:
        row = find_token_hash(db, token_hash)
        return User(row.name, row.role, tuple(row.groups) if row.groups else None) if row else None


def signed_in(view: F) -> F:
    """The page needs a signed-in user (``g.user``); a form post also needs the CSRF token."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None:
            session.pop("token_hash", None)
            return redirect(url_for("signin.form", next=request.full_path.rstrip("?")))
        if request.method == "POST":
            check_csrf()
        g.user = user
        return view(*args, **kwargs)

    wrapper.signed_in = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    sent = request.form.get("csrf", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        abort(400, "The form has expired (CSRF token missing or wrong): reload the page and try again.")


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if not target:
        return url_for("worklist.page")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("worklist.page")
    return target


@bp.app_context_processor
def _inject() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "user": g.get("user")}


@bp.get("/signin")
def form() -> str:
    return render_template("signin.html", next=request.args.get("next", ""))


@bp.post("/signin")
def sign_in() -> Any:
    check_csrf()
    token = request.form.get("token", "").strip()
    with service().ctx.read() as db:
        row = find_token(db, token) if token else None
        found = (row.token_hash, row.role, row.name) if row else None
    if found is None:
        flash("That token is not valid. Ask an administrator for a token, or check it was copied whole.", "error")
        return render_template("signin.html", next=request.form.get("next", "")), 401
    session.clear()
    session["token_hash"] = found[0]  # the hash only: the cookie never carries the token itself
    csrf_token()
    flash(f"Signed in as {found[2]} ({ROLE_NAMES.get(found[1], found[1])}).", "success")
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/signout")
def sign_out() -> Any:
    check_csrf()
    session.clear()
    flash("Signed out.", "success")
    return redirect(url_for("signin.form"))
