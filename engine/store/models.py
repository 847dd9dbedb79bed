"""The tables. Names and columns are a contract with the service and API layers.

Timestamps have no database or Python defaults on purpose: the caller passes them from its
:class:`engine.clock.Clock`, so simulated time and the audit trail agree.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from .types import UTCDateTime, json_type

# Deterministic constraint names: Alembic needs names to alter or drop constraints later,
# and SQLite batch migrations cannot address unnamed ones.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def new_uuid() -> str:
    return str(uuid.uuid4())


class InstanceStatus:
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    SUSPENDED = "suspended"
    FAILED = "failed"
    ALL = (RUNNING, COMPLETED, CANCELLED, SUSPENDED, FAILED)


class TaskStatus:
    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ALL = (READY, COMPLETED, CANCELLED)


class Definition(Base):
    """One deployed version of a process (key). ``sha256`` hashes the bundle's meaning (its
    canonical form: layout and formatting left out), so a deploy that changes nothing a reader
    could act on finds the latest version instead of making a new one; a return to an earlier
    content after a change is a new version (the latest is what new patients get)."""

    __tablename__ = "definitions"
    __table_args__ = (
        UniqueConstraint("key", "version"),
        Index("ix_definitions_key_sha256", "key", "sha256"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(255))
    # the two large columns (about a megabyte for the OVCF pathway) load only when read: every
    # command finds its parsed bundle in the process cache by id, so they stay on disk
    spec_json: Mapped[Any] = mapped_column(json_type(), deferred=True)
    sources: Mapped[dict[str, str]] = mapped_column(json_type(), deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deployed_by: Mapped[str | None] = mapped_column(String(255))
    # what the deploying tool called the deployment and itself (Camunda's deployment-name and
    # deployment-source; the Modeler sends the file name and "Camunda Modeler")
    deployment_name: Mapped[str | None] = mapped_column(String(255))
    deployment_source: Mapped[str | None] = mapped_column(String(255))

    def __repr__(self) -> str:
        return f"<Definition {self.key} v{self.version} {self.sha256[:12]}>"


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    external_id: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Instance(Base):
    """A patient's pathway: one workflow pinned to one definition version.

    ``version`` is SQLAlchemy's ``version_id_col``: every UPDATE is ``... WHERE version = :seen``
    and a lost race raises ``StaleDataError`` at flush.
    """

    __tablename__ = "instances"
    __table_args__ = (
        # The timer worker asks "running and due by now, soonest first".
        Index("ix_instances_status_next_due_at", "status", "next_due_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"), index=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"), index=True)
    business_key: Mapped[str | None] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(16), default=InstanceStatus.RUNNING)
    state: Mapped[Any] = mapped_column(json_type())
    serializer_version: Mapped[str] = mapped_column(String(16))
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # Plain lazy load: a joined eager load would make FOR UPDATE lock the definition row too.
    definition: Mapped[Definition] = relationship()
    patient: Mapped[Patient | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


# an undated task sorts after every dated one: the worklist order needs no NULL branch, so an
# index can give it
UNDATED = datetime(9999, 12, 31, tzinfo=UTC)


class ReadyTaskGroup(Base):
    """The ready tasks of each candidate group in worklist order (due, created, id): what a
    group's worklist reads, a page at a time, whatever the number of tasks ever completed. Kept
    in step by ``replace_ready_tasks``."""

    __tablename__ = "ready_task_groups"

    group_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    due_order: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_ready_task_groups_task", "task_id"),)  # rewritten per task on every save


class TaskCandidateGroup(Base):
    __tablename__ = "task_candidate_groups"

    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    group_name: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)


class Task(Base):
    """Projection of a human task, kept in step by ``replace_ready_tasks``.

    ``version`` is a ``version_id_col`` too: it is the ETag, and two claims racing on one
    task make the second raise ``StaleDataError``.
    """

    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.READY, index=True)
    assignee: Mapped[str | None] = mapped_column(String(255), index=True)
    candidate_users: Mapped[list[str]] = mapped_column(json_type(), default=list)
    priority: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    due_order: Mapped[datetime] = mapped_column(UTCDateTime(), default=UNDATED)  # due_at, undated last
    follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the form lives once in the definition (its parsed bundle names it by element id); a row
    # keeps only its evaluated defaults, and a whole form only where the bundle cannot name it
    form: Mapped[Any | None] = mapped_column(json_type(nullable=True))
    form_defaults: Mapped[dict[str, Any] | None] = mapped_column(json_type(nullable=True))
    lane: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by: Mapped[str | None] = mapped_column(String(255))
    # when the row last changed (created, claimed, released, completed, cancelled): FHIR polling
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # what the completing user answered, typed as the form typed it (FHIR Task.output)
    answers: Mapped[dict[str, Any] | None] = mapped_column(json_type(nullable=True))
    version: Mapped[int] = mapped_column(Integer)

    # selectin: a page of tasks loads all its groups in one extra query, not one per task.
    groups: Mapped[list[TaskCandidateGroup]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=TaskCandidateGroup.group_name
    )
    instance: Mapped[Instance] = relationship()

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_tasks_worklist", "status", "due_order", "created_at", "id"),
                      Index("ix_tasks_updated_at", "updated_at", "id"))

    @validates("due_at")
    def _keep_due_order(self, _key: str, value: datetime | None) -> datetime | None:
        self.due_order = value if value is not None else UNDATED
        return value

    @property
    def candidate_groups(self) -> list[str]:
        return [g.group_name for g in self.groups]

    @candidate_groups.setter
    def candidate_groups(self, names: list[str] | tuple[str, ...] | set[str]) -> None:
        # Diff rather than replace, so unchanged rows are neither deleted nor re-inserted.
        wanted = list(dict.fromkeys(names))
        self.groups[:] = [g for g in self.groups if g.group_name in wanted]
        have = {g.group_name for g in self.groups}
        self.groups.extend(TaskCandidateGroup(group_name=n) for n in wanted if n not in have)


class AuditEvent(Base):
    """Append-only: triggers installed by the migration refuse UPDATE and DELETE.

    No foreign keys on purpose: the trail must outlive and never block what it describes.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    instance_id: Mapped[str | None] = mapped_column(String(36), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    patient_id: Mapped[str | None] = mapped_column(String(36), index=True)
    before: Mapped[Any | None] = mapped_column(json_type(nullable=True))
    after: Mapped[Any | None] = mapped_column(json_type(nullable=True))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[Any | None] = mapped_column(json_type(nullable=True))


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Candidate groups the user works in; None means any task their role may work on.
    groups: Mapped[list[str] | None] = mapped_column(json_type(nullable=True))


class SimulatedTime(Base):
    """The simulated clock's time, one row: every process on the database reads the same time,
    and it survives restarts (it only ever moves forward)."""

    __tablename__ = "simulated_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    now: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
