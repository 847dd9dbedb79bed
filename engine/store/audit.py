"""The append-only audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditEvent


def add_audit(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    instance_id: str | None = None,
    task_id: str | None = None,
    patient_id: str | None = None,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
    details: Any = None,
) -> AuditEvent:
    """Append one event in the caller's transaction, so it commits or rolls back with the change."""
    event = AuditEvent(
        at=at,
        actor=actor,
        action=action,
        instance_id=instance_id,
        task_id=task_id,
        patient_id=patient_id,
        before=before,
        after=after,
        reason=reason,
        details=details,
    )
    session.add(event)
    return event


def list_audit(
    session: Session,
    *,
    instance_id: str | None = None,
    patient_id: str | None = None,
    task_id: str | None = None,
    limit: int | None = None,
) -> Sequence[AuditEvent]:
    """Events in the order they happened (``at``, then insertion order)."""
    stmt = select(AuditEvent)
    if instance_id is not None:
        stmt = stmt.where(AuditEvent.instance_id == instance_id)
    if patient_id is not None:
        stmt = stmt.where(AuditEvent.patient_id == patient_id)
    if task_id is not None:
        stmt = stmt.where(AuditEvent.task_id == task_id)
    stmt = stmt.order_by(AuditEvent.at, AuditEvent.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return session.scalars(stmt).all()
