"""What every service operation shares: sessions, the clock, and parsed definitions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from ..clock import Clock, SimulatedClock
from ..forms import with_defaults
from ..models.bundle import Bundle, load_bundle
from ..runtime import PathwayRuntime
from ..store import (
    Definition,
    Instance,
    Task,
    get_definition_by_id,
    lock_instance,
    lock_instance_of_task,
    store_time,
    stored_time,
)
from .errors import Conflict, NotFound


class ServiceContext:
    def __init__(self, session_factory: sessionmaker, clock: Clock, read_factory: sessionmaker | None = None) -> None:
        self.session_factory = session_factory
        self.read_factory = read_factory or session_factory
        self.clock = clock
        self._bundles: dict[int, Bundle] = {}
        self._lock = threading.Lock()
        self._loading = threading.Lock()
        # a simulated clock is one time for every process on the database: each transaction
        # starts at the stored time (never behind it), and moving the clock stores it
        self.shared_time = isinstance(clock, SimulatedClock)

    def now(self) -> datetime:
        return self.clock.now()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: the state change and its audit event commit together or not at all."""
        try:
            with self.session_factory.begin() as session:
                self._follow(session)
                yield session
        except StaleDataError as exc:
            raise Conflict("the pathway was changed by someone else at the same time; reload and retry") from exc

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.read_factory() as session:
            self._follow(session)
            yield session

    def _follow(self, session: Session) -> None:
        if self.shared_time:
            stored = stored_time(session)
            if stored is not None and stored > self.clock.now():
                self.clock.set(stored)  # type: ignore[attr-defined]

    def synced_now(self) -> datetime:
        """The time, after following the stored simulated time (another process may have moved it)."""
        with self.read():
            return self.clock.now()

    def share_time(self, *fallbacks: datetime | None) -> None:
        """At start-up: take the stored simulated time if it is later than this process's start,
        store this one if it is later. With nothing stored yet, start at the latest ``fallbacks``
        (e.g. the last recorded event of a database from before the time was stored, or today)
        when it is later."""
        if not self.shared_time:
            return
        with self.write() as session:
            if stored_time(session) is None:
                later = [f for f in fallbacks if f is not None and f > self.clock.now()]
                if later:
                    self.clock.set(max(later))  # type: ignore[attr-defined]
            store_time(session, self.clock.now())

    def set_time(self, instant: datetime) -> datetime:
        """Move the simulated time forward for every process (ValueError going back)."""
        with self.write() as session:
            if instant < self.clock.now():
                raise ValueError(f"a simulated clock never goes back: {instant.isoformat()} is before "
                                 f"{self.clock.now().isoformat()}")
            now = store_time(session, instant)
        return self.clock.set(now)  # type: ignore[attr-defined]

    # -- definitions, parsed once per process ------------------------------------------------
    def bundle_for(self, definition: Definition) -> Bundle:
        """The parsed bundle of a definition (cached: a deployed definition never changes)."""
        cached = self._cached(definition.id)
        if cached is None:
            with self._loading:  # one thread parses; the others wait for it and take its bundle
                cached = self._cached(definition.id)
                if cached is None:
                    cached = load_bundle(definition.sources, key=definition.key, lint=False)
                    self.remember(definition.id, cached)
        return cached

    def remember(self, definition_id: int, bundle: Bundle) -> None:
        with self._lock:
            self._bundles[definition_id] = bundle

    def bundle_by_id(self, session: Session, definition_id: int) -> Bundle:
        """The parsed bundle of a definition id; the definition row is read only on a cache miss."""
        return self._cached(definition_id) or self.bundle_for(get_definition_by_id(session, definition_id))

    def _cached(self, definition_id: int) -> Bundle | None:
        with self._lock:
            return self._bundles.get(definition_id)

    def task_form(self, session: Session, task: Task, definition_id: int | None = None) -> dict[str, Any]:
        """A task's form with its evaluated defaults. The form is stored once, in the definition
        (``definition_id``: the task's pathway's, looked up when not given); a row written before
        that, or whose element id the bundle cannot name, carries its own."""
        if task.form is not None:
            return task.form
        if definition_id is None:
            definition_id = session.scalar(select(Instance.definition_id).where(Instance.id == task.instance_id))
        form = self.bundle_by_id(session, definition_id).human_forms.get(task.element_id)
        return with_defaults(form, task.form_defaults or {}) or {"key": None, "fields": []}

    def load_runtime(self, session: Session, instance: Instance) -> PathwayRuntime:
        return PathwayRuntime.load(instance.state, self.bundle_by_id(session, instance.definition_id), self.clock)

    def lock(self, session: Session, instance_id: str) -> Instance:
        """Lock an instance row for a user command (waits for a concurrent writer)."""
        instance = lock_instance(session, instance_id, skip_locked=False)
        if instance is None:
            raise NotFound(f"pathway {instance_id} not found")
        return instance

    def lock_task_pathway(self, session: Session, task_id: str) -> Instance:
        """Lock the pathway a task belongs to, found and locked in one statement; the task read
        after this sees the state no other writer can change until commit."""
        instance = lock_instance_of_task(session, task_id)
        if instance is None:
            raise NotFound(f"task {task_id} not found")
        return instance
