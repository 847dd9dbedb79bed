"""What every service operation shares: sessions, the clock, and parsed definitions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from ..clock import Clock
from ..models.bundle import Bundle, load_bundle
from ..runtime import PathwayRuntime
from ..store import Definition, Instance, get_definition_by_id, lock_instance
from .errors import Conflict, NotFound


class ServiceContext:
    def __init__(self, session_factory: sessionmaker, clock: Clock, read_factory: sessionmaker | None = None) -> None:
        self.session_factory = session_factory
        self.read_factory = read_factory or session_factory
        self.clock = clock
        self._bundles: dict[int, Bundle] = {}
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self.clock.now()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: the state change and its audit event commit together or not at all."""
        try:
            with self.session_factory.begin() as session:
                yield session
        except StaleDataError as exc:
            raise Conflict("the pathway was changed by someone else at the same time; reload and retry") from exc

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.read_factory() as session:
            yield session

    # -- definitions, parsed once per process ------------------------------------------------
    def bundle_for(self, definition: Definition) -> Bundle:
        """The parsed bundle of a definition (cached: a deployed definition never changes)."""
        with self._lock:
            cached = self._bundles.get(definition.id)
        if cached is None:
            cached = load_bundle(definition.sources, key=definition.key, lint=False)
            with self._lock:
                self._bundles[definition.id] = cached
        return cached

    def remember(self, definition_id: int, bundle: Bundle) -> None:
        with self._lock:
            self._bundles[definition_id] = bundle

    def load_runtime(self, session: Session, instance: Instance) -> PathwayRuntime:
        definition = get_definition_by_id(session, instance.definition_id)
        bundle = self.bundle_for(definition)
        return PathwayRuntime.load(instance.state, bundle, self.clock)

    def lock(self, session: Session, instance_id: str) -> Instance:
        """Lock an instance row for a user command (waits for a concurrent writer)."""
        instance = lock_instance(session, instance_id, skip_locked=False)
        if instance is None:
            raise NotFound(f"pathway {instance_id} not found")
        return instance
