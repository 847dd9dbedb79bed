"""Patients, pathway instances, and claiming due timers across workers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import is_postgres
from .models import Definition, Instance, InstanceStatus, Patient, Task


def add_patient(
    session: Session,
    *,
    external_id: str,
    now: datetime,
    display_name: str | None = None,
    birth_date: date | None = None,
    sex: str | None = None,
) -> Patient:
    """Insert a patient (flushes, so a duplicate ``external_id`` raises IntegrityError here)."""
    patient = Patient(
        external_id=external_id, display_name=display_name, birth_date=birth_date, sex=sex, created_at=now
    )
    session.add(patient)
    session.flush()
    return patient


def find_patient(session: Session, external_id: str) -> Patient | None:
    return session.scalars(select(Patient).where(Patient.external_id == external_id)).one_or_none()


def add_instance(
    session: Session,
    *,
    definition: Definition,
    state: Any,
    serializer_version: str,
    now: datetime,
    patient_id: str | None = None,
    business_key: str | None = None,
    next_due_at: datetime | None = None,
    status: str = InstanceStatus.RUNNING,
    instance_id: str | None = None,
) -> Instance:
    """Insert a pathway instance (version 1). ``instance_id`` defaults to a new UUID."""
    instance = Instance(
        patient_id=patient_id,
        definition_id=definition.id,
        business_key=business_key,
        status=status,
        state=state,
        serializer_version=serializer_version,
        next_due_at=next_due_at,
        created_at=now,
        updated_at=now,
    )
    if instance_id is not None:
        instance.id = instance_id
    session.add(instance)
    session.flush()
    return instance


def instances_for_patient(session: Session, patient_id: str) -> Sequence[Instance]:
    return session.scalars(
        select(Instance).where(Instance.patient_id == patient_id).order_by(Instance.created_at, Instance.id)
    ).all()


def _due(now: datetime) -> Any:
    return (Instance.status == InstanceStatus.RUNNING) & (Instance.next_due_at <= now)


def due_instance_ids(session: Session, now: datetime, limit: int = 100) -> list[str]:
    """Ids of running instances whose next timer is due at ``now``, soonest first.

    No locks: this is the candidate list. Claim each one with :func:`lock_instance` in its
    own transaction and re-check that it is still due (another worker may have fired it).
    """
    stmt = select(Instance.id).where(_due(now)).order_by(Instance.next_due_at, Instance.id).limit(limit)
    return list(session.scalars(stmt))


def lock_instance(session: Session, instance_id: str, *, skip_locked: bool = True) -> Instance | None:
    """Load an instance and lock its row until the transaction ends.

    PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` returns None when another transaction
    holds the row (the timer worker moves on); ``skip_locked=False`` waits for it instead
    (user commands). SQLite: a plain select, because our transactions start with
    ``BEGIN IMMEDIATE`` and so already hold the database's single write lock.
    The row is re-read even if the session had it (``populate_existing``).
    """
    stmt = select(Instance).where(Instance.id == instance_id).execution_options(populate_existing=True)
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=skip_locked, of=Instance)
    return session.scalars(stmt).one_or_none()


def lock_instance_of_task(session: Session, task_id: str) -> Instance | None:
    """The instance a task belongs to, locked as :func:`lock_instance` (waiting), in one statement."""
    owner = select(Task.instance_id).where(Task.id == task_id).scalar_subquery()
    stmt = select(Instance).where(Instance.id == owner).execution_options(populate_existing=True)
    if is_postgres(session):
        stmt = stmt.with_for_update(of=Instance)
    return session.scalars(stmt).one_or_none()


def claim_due_instances(session: Session, now: datetime, limit: int = 10) -> list[Instance]:
    """Lock up to ``limit`` due instances in one statement, soonest first.

    On PostgreSQL concurrent workers get disjoint sets (``FOR UPDATE SKIP LOCKED``) and hold
    them until commit; keep the batch small, since the locks last for the whole transaction.
    """
    stmt = (
        select(Instance)
        .where(_due(now))
        .order_by(Instance.next_due_at, Instance.id)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True, of=Instance)
    return list(session.scalars(stmt))


def next_due_at(session: Session) -> datetime | None:
    """The earliest pending timer over all running instances (lets a worker sleep until then)."""
    return session.scalar(
        select(Instance.next_due_at)
        .where(Instance.status == InstanceStatus.RUNNING, Instance.next_due_at.is_not(None))
        .order_by(Instance.next_due_at)
        .limit(1)
    )
