"""Persistence: SQLAlchemy 2 models, Alembic migrations, and session-taking repository functions.

No SpiffWorkflow and no Flask here: workflow state and specs are opaque JSON handed in by
the service layer.
"""

from .db import database_url, is_postgres, make_engine, make_session_factory, upgrade
from .models import (
    ApiToken,
    AuditEvent,
    Base,
    Definition,
    Instance,
    InstanceStatus,
    Patient,
    SimulatedTime,
    Task,
    TaskCandidateGroup,
    TaskStatus,
)
from .repository import *  # noqa: F403 - the repository's __all__ is the public API
from .repository import __all__ as _repository_all

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Base",
    "Definition",
    "Instance",
    "InstanceStatus",
    "Patient",
    "SimulatedTime",
    "Task",
    "TaskCandidateGroup",
    "TaskStatus",
    "database_url",
    "is_postgres",
    "make_engine",
    "make_session_factory",
    "upgrade",
    *_repository_all,
]
