"""API tokens: ``Authorization: Bearer <token>`` (or Basic ``name:token`` for Camunda Modeler).

Every route states the roles it allows with :func:`roles`; a request without a valid token gets
401, a valid token with another role 403. Tokens are looked up by their SHA-256 only.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import g, request

from engine.store.tokens import find_token

from .problems import ApiProblem
from .state import service

COORDINATOR, CLINICAL_LEAD, API_CLIENT, ADMIN = "coordinator", "clinical_lead", "api_client", "admin"
ALL_ROLES = frozenset({COORDINATOR, CLINICAL_LEAD, API_CLIENT, ADMIN})
READERS = ALL_ROLES
WORKERS = frozenset({COORDINATOR, CLINICAL_LEAD, ADMIN})
AUTHORS = frozenset({CLINICAL_LEAD, ADMIN})
ADMINS = frozenset({ADMIN})

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    groups: tuple[str, ...] | None = None


def _credentials() -> tuple[str | None, str | None]:
    """(token, claimed user name) from the Authorization header."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value, None
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        user, sep, token = decoded.partition(":")
        return (token, user) if sep else (None, None)
    return None, None


def authenticate() -> Principal:
    token, user = _credentials()
    if not token:
        raise ApiProblem(401, "an API token is required: send 'Authorization: Bearer <token>'",
                         kind="unauthorized")
    with service().ctx.read() as session:
        row = find_token(session, token)
        found = Principal(row.name, row.role, tuple(row.groups) if row.groups else None) if row is not None else None
    if found is None or (user is not None and user not in ("", found.name)):
        raise ApiProblem(401, "the API token is not valid", kind="unauthorized")
    return found


def roles(*allowed: str | frozenset[str]) -> Callable[[F], F]:
    """Allow only these roles (names or sets of names) on the decorated view."""
    names: set[str] = set()
    for item in allowed:
        names.update({item} if isinstance(item, str) else item)
    unknown = names - ALL_ROLES
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate()
            if principal.role not in names:
                raise ApiProblem(403, f"role '{principal.role}' may not do this; allowed: "
                                      f"{', '.join(sorted(names))}", kind="forbidden")
            g.principal = principal
            return view(*args, **kwargs)

        wrapper.allowed_roles = frozenset(names)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def actor() -> str:
    """Who the audit trail names for this request."""
    return g.principal.name


def actor_groups() -> tuple[str, ...] | None:
    """The caller's candidate groups (None: not restricted to groups)."""
    return g.principal.groups
