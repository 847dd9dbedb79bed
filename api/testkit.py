"""Helpers for API tests (fixtures live in :mod:`api.testing`, loaded with ``pytest_plugins``)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from engine.store import AuditEvent
from engine.store.tokens import create_token

from . import create_app
from .auth import ALL_ROLES
from .state import service

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "tests" / "fixtures" / "bundle"
API_FIXTURES = ROOT / "tests" / "fixtures" / "api"


def make_app(db_url: str, **config: Any) -> Flask:
    return create_app({"DATABASE_URL": db_url, "SIMULATED_CLOCK": True, "SIMULATED_CLOCK_START": START.isoformat(),
                       "TESTING": True, **config})


def close_app(app: Flask) -> None:
    engine = app.extensions["pathway"].get("engine")
    if engine is not None:
        engine.dispose()


def issue_tokens(app: Flask) -> dict[str, str]:
    with app.app_context():
        svc = service()
        with svc.ctx.write() as session:
            return {role: create_token(session, f"{role}-user", role, svc.clock.now()) for role in sorted(ALL_ROLES)}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def bundle_files(folder: Path = BUNDLE, **replace: bytes) -> dict[str, tuple[Any, str]]:
    """Multipart ``data`` for a deploy: every .bpmn/.dmn file of ``folder`` (``replace`` overrides)."""
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix in (".bpmn", ".dmn")}
    files.update(replace)
    return {name: (io.BytesIO(content), name) for name, content in files.items()}


def audit_count(app: Flask) -> int:
    with app.app_context(), service().ctx.read() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)
