"""Deployed definitions: stored once per content hash, numbered 1, 2, 3 ... per key."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, load_only

from ..models.canonical import canonical_hash
from .db import is_postgres
from .models import Definition


def store_definition(
    session: Session,
    key: str,
    name: str | None,
    sha256: str,
    spec_json: Any,
    sources: dict[str, str],
    deployed_by: str | None,
    now: datetime,
    deployment_name: str | None = None,
    deployment_source: str | None = None,
) -> tuple[Definition, bool]:
    """Store a definition bundle as the next version of ``key``, unless the latest version
    already has the same meaning (``sha256`` of the canonical form).

    Returns ``(definition, created)``: the latest version and False when nothing changed
    (Camunda's duplicate filtering, checked against the latest version only: going back to an
    earlier content after a change is a new version, so that new patients get what was deployed
    last). Flushes, does not commit.
    """
    _serialize_deploys(session, key)
    latest = latest_definition(session, key)
    if latest is not None and latest.sha256 == sha256:
        return latest, False
    definition = Definition(
        key=key,
        version=(latest.version if latest else 0) + 1,
        sha256=sha256,
        name=name,
        spec_json=spec_json,
        sources=sources,
        created_at=now,
        deployed_by=deployed_by,
        deployment_name=deployment_name,
        deployment_source=deployment_source,
    )
    session.add(definition)
    session.flush()
    return definition, True


def _serialize_deploys(session: Session, key: str) -> None:
    """Make concurrent deploys of one key take turns so ``max + 1`` cannot be taken twice.

    PostgreSQL: a transaction-scoped advisory lock on the key (released at commit/rollback).
    SQLite: nothing to do, every write transaction already holds the database's write lock.
    """
    if is_postgres(session):
        lock_id = int.from_bytes(
            hashlib.sha256(b"definition:" + key.encode()).digest()[:8], "big", signed=True
        )
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


def latest_definition(session: Session, key: str) -> Definition | None:
    """The highest version deployed for ``key``, or None."""
    return session.scalars(
        select(Definition).where(Definition.key == key).order_by(Definition.version.desc()).limit(1)
    ).first()


MAX_VERSION = 2**31 - 1  # the version column is a 32-bit integer on PostgreSQL


def get_definition(session: Session, key: str, version: int | None = None) -> Definition | None:
    """One version of ``key`` (the latest when ``version`` is None), or None (also for a number
    no version column can hold: never a database overflow)."""
    if version is None:
        return latest_definition(session, key)
    if not 1 <= version <= MAX_VERSION:
        return None
    return session.scalars(
        select(Definition).where(Definition.key == key, Definition.version == version)
    ).one_or_none()


def get_definition_by_id(session: Session, definition_id: int) -> Definition | None:
    return session.get(Definition, definition_id)


def list_definitions(
    session: Session, key: str | None = None, *, latest_only: bool = False
) -> Sequence[Definition]:
    """Definitions ordered by key then version, without loading specs and sources.

    ``spec_json`` and ``sources`` are left unloaded (they load on access while the session is
    open): listings should not pull every bundle's XML. ``latest_only`` keeps the highest
    version per key.
    """
    stmt = select(Definition).options(
        load_only(
            Definition.id,
            Definition.key,
            Definition.version,
            Definition.sha256,
            Definition.name,
            Definition.created_at,
            Definition.deployed_by,
        )
    )
    if key is not None:
        stmt = stmt.where(Definition.key == key)
    if latest_only:
        newest = (
            select(Definition.key, func.max(Definition.version).label("version"))
            .group_by(Definition.key)
            .subquery()
        )
        stmt = stmt.join(newest, (newest.c.key == Definition.key) & (newest.c.version == Definition.version))
    return session.scalars(stmt.order_by(Definition.key, Definition.version)).all()


def content_sha256(sources: dict[str, str | bytes]) -> str:
    """The identity of a bundle: the hash of its files' canonical forms (their meaning: layout,
    formatting and written-out defaults left out), the one every deploy is compared by."""
    return canonical_hash({name: text.decode("utf-8") if isinstance(text, bytes) else text
                           for name, text in sources.items()})
