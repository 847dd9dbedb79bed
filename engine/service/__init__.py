"""The service layer: the only way pathway state changes. Each call is one transaction that
writes the new state, the task projection and an audit event together."""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from ..clock import Clock
from .context import ServiceContext
from .decisions import DecisionService
from .definitions import DefinitionService
from .errors import Conflict, Forbidden, InvalidInput, ModelError, NotFound, PreconditionFailed, ServiceError
from .migrate import MigrationService
from .pathways import PathwayService
from .patients import PatientService
from .tasks import TaskService
from .timers import TIMER_ACTOR, TimerService
from .uploads import UploadService


class Service(DefinitionService, DecisionService, UploadService, PathwayService, PatientService, TaskService, TimerService,
              MigrationService):
    def __init__(self, session_factory: sessionmaker, clock: Clock, read_factory: sessionmaker | None = None) -> None:
        self.ctx = ServiceContext(session_factory, clock, read_factory)

    @property
    def clock(self) -> Clock:
        return self.ctx.clock


__all__ = [
    "Conflict", "Forbidden", "InvalidInput", "ModelError", "NotFound", "PreconditionFailed", "Service", "ServiceError",
    "TIMER_ACTOR",
]
