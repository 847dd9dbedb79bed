"""Optimistic concurrency over HTTP: the version a client says it last saw (``If-Match``)."""

from __future__ import annotations

from flask import request


def if_match() -> str | None:
    """The If-Match version (weak ``W/"n"`` or strong ``"n"``), or None when absent or ``*``
    (any version)."""
    value = (request.headers.get("If-Match") or "").strip()
    if not value or value == "*":
        return None
    return value.removeprefix("W/").strip('"')
