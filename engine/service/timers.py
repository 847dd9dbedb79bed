"""Firing due timers: every overdue occurrence once, in due order, safe with several workers."""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..problems import ModelError
from ..runtime import ExecutionError, PathwayRuntime, PathwayStateError
from ..store import AuditEvent, Instance, InstanceStatus, add_audit, claim_due_instances, lock_instance
from .context import ServiceContext
from .errors import Conflict, ServiceError, require_running
from .persist import save, snapshot

TIMER_ACTOR = "system:timer"
MODEL_ERRORS = (ExecutionError, PathwayStateError, ModelError)  # the model cannot go on with these data
CATCH_UP_LIMIT = 1000  # due instants one command fires before it runs; a model firing more is broken
T = TypeVar("T")
log = logging.getLogger(__name__)


class TimerService:
    ctx: ServiceContext

    def fire_due_timers(self, *, limit: int = 100_000, batch: int = 20) -> list[dict[str, Any]]:
        """Fire what is due now, earliest due instant first across all pathways.

        Work goes in batches: one transaction claims up to ``batch`` due pathways (on PostgreSQL
        with ``FOR UPDATE SKIP LOCKED``, so several workers take disjoint batches) and fires
        their due instants in due order, each instant in a savepoint with its own audit event.
        A pathway that cannot load or fire is rolled back to before that instant and parked as
        an incident; the rest of the batch commits. After downtime the steps run in due order
        across pathways, not pathway by pathway.
        """
        fired: list[dict[str, Any]] = []
        now = self.ctx.now()
        while len(fired) < limit:
            try:
                steps, broken = self._fire_batch(now, max(1, min(batch, limit - len(fired))))
            except (SQLAlchemyError, Conflict) as exc:
                # Transient (lock timeout, lost connection, a concurrent writer): nothing of the
                # batch was written; its pathways stay due and the next poll tries again.
                log.warning("timer batch deferred: %s", type(exc).__name__)
                return fired
            for instance_id, exc in broken:
                self._park(instance_id, exc)
                error = str(exc) if isinstance(exc, MODEL_ERRORS) else f"{type(exc).__name__}: {exc}"
                steps.append({"pathwayId": instance_id, "fired": [], "error": error})
            if not steps:
                return fired
            fired.extend(steps)
        return fired

    def _fire_batch(self, now: datetime, size: int) -> tuple[list[dict[str, Any]], list[tuple[str, Exception]]]:
        """One transaction: claim up to ``size`` due pathways and fire their instants in due order,
        up to the next unclaimed pathway's due time (so order holds across batches)."""
        steps: list[dict[str, Any]] = []
        broken: list[tuple[str, Exception]] = []
        with self.ctx.write() as session:
            claimed = claim_due_instances(session, now, limit=size + 1)
            horizon = claimed[size].next_due_at if len(claimed) > size else None
            queue = [(i.next_due_at, i.id, i) for i in claimed[:size]]
            heapq.heapify(queue)
            runtimes: dict[str, PathwayRuntime] = {}
            while queue:
                due, instance_id, instance = heapq.heappop(queue)
                if horizon is not None and due > horizon:
                    break
                try:
                    with session.begin_nested():
                        if instance_id not in runtimes:
                            runtimes[instance_id] = self.ctx.load_runtime(session, instance)
                        steps.extend(self.fire_overdue_in(session, instance, runtimes[instance_id], now,
                                                          max_instants=1))
                except SQLAlchemyError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a pathway that cannot load or fire is parked,
                    # and every other pathway's timers still fire
                    log.error("timer step for %s failed: %s", instance_id, type(exc).__name__)
                    broken.append((instance_id, exc))
                    continue
                if _due(instance, now):
                    heapq.heappush(queue, (instance.next_due_at, instance_id, instance))
        return steps, broken

    def _park(self, instance_id: str, exc: Exception) -> None:
        try:
            self._record_incident(instance_id, exc)
        except SQLAlchemyError:
            log.error("could not record the incident of %s", instance_id)

    def _record_incident(self, instance_id: str, exc: Exception) -> None:
        """Park the pathway as failed (an incident, in Camunda's terms) so it is not retried forever."""
        with self.ctx.write() as session:
            instance = lock_instance(session, instance_id, skip_locked=False)
            if instance is None:
                return
            before = {"status": instance.status}
            instance.status = "failed"
            instance.updated_at = self.ctx.now()
            add_audit(session, at=self.ctx.now(), actor=TIMER_ACTOR, action="pathway.incident",
                      instance_id=instance_id, patient_id=instance.patient_id, before=before,
                      after={"status": "failed"}, reason=f"{type(exc).__name__}: {exc}"[:2000])

    def incidents(self, limit: int = 200) -> list[dict[str, Any]]:
        """Pathways parked as failed, newest first, each with its last incident's time and error
        (``resume`` retries one after the cause is fixed)."""
        with self.ctx.read() as session:
            rows = session.execute(
                select(Instance.id, Instance.patient_id, Instance.updated_at)
                .where(Instance.status == InstanceStatus.FAILED)
                .order_by(Instance.updated_at.desc(), Instance.id).limit(max(1, min(limit, 1000)))).all()
            last: dict[str, AuditEvent] = {}  # the latest incident of each, in one query
            for event in session.scalars(select(AuditEvent).where(
                    AuditEvent.instance_id.in_([r[0] for r in rows]), AuditEvent.action == "pathway.incident")
                    .order_by(AuditEvent.id)):
                last[event.instance_id] = event
        return [{"pathwayId": pathway_id, "patientId": patient_id,
                 "at": (last[pathway_id].at if pathway_id in last else updated).isoformat(),
                 "error": last[pathway_id].reason if pathway_id in last else None}
                for pathway_id, patient_id, updated in rows]

    def on_pathway(self, locate: Callable[[Session], Instance],
                   body: Callable[[Session, Instance, PathwayRuntime], T]) -> T:
        """Run one command on one pathway in one transaction: lock it (``locate``), load it, fire
        the timers that fell due before now (each due instant audited as ``timer.fire``, so an
        escalation that was due is not skipped because the worker had not run yet), then run
        ``body``. When ``body`` refuses after timers fired, the firing still commits and the
        refusal is raised after it. A pathway that cannot load or fire is parked as an incident
        (409), in a transaction of its own, with nothing of this command written."""
        refused: ServiceError | None = None
        try:
            with self.ctx.write() as session:
                instance = locate(session)
                require_running(instance)
                try:
                    runtime = self.ctx.load_runtime(session, instance)
                    fired = self.fire_overdue_in(session, instance, runtime, self.ctx.now())
                except (SQLAlchemyError, ServiceError):
                    raise
                except Exception as exc:  # noqa: BLE001 - a state that does not load is parked, not a 500
                    raise _CannotProceed(instance.id, exc) from exc
                if not fired:
                    return body(session, instance, runtime)
                require_running(instance)  # a timer may have ended the pathway
                try:
                    with session.begin_nested():
                        return body(session, instance, runtime)
                except ServiceError as exc:
                    refused = exc
        except _CannotProceed as failure:
            self._park(failure.instance_id, failure.cause)
            if isinstance(failure.cause, MODEL_ERRORS):
                raise Conflict(f"pathway {failure.instance_id} cannot proceed and is parked as an incident: "
                               f"{failure.cause}") from failure.cause
            log.error("pathway %s failed to load: %s", failure.instance_id, type(failure.cause).__name__)
            raise Conflict(f"pathway {failure.instance_id} cannot be loaded and is parked as an incident "
                           f"({type(failure.cause).__name__})") from failure.cause
        raise refused

    def fire_overdue_in(self, session: Session, instance: Instance, runtime: PathwayRuntime, now: datetime,
                        *, max_instants: int = CATCH_UP_LIMIT) -> list[dict[str, Any]]:
        """Fire the timers of a locked, loaded pathway due at or before ``now``, one due instant
        at a time in due order, each with its own audit event; the state is written once."""
        fired: list[dict[str, Any]] = []
        while len(fired) < max_instants and _due(instance, now):
            before = snapshot(runtime)
            timers = runtime.fire_due_timers(now, max_instants=1)
            details = {"fired": [{"elementId": t.element_id, "due": t.due.isoformat()} for t in timers]}
            save(self.ctx, session, instance, runtime, actor=TIMER_ACTOR, action="timer.fire", before=before,
                 details=details, write_state=False)
            fired.append({"pathwayId": instance.id, **details})
            if not timers:
                break  # next_due_at was stale: the save above corrected it
        if fired:
            instance.state = runtime.dump()
        return fired


def _due(instance: Instance, now: datetime) -> bool:
    return instance.status == InstanceStatus.RUNNING and instance.next_due_at is not None \
        and instance.next_due_at <= now


class _CannotProceed(Exception):
    """Raised out of a command's transaction (rolling it back) when the pathway cannot load or fire."""

    def __init__(self, instance_id: str, cause: Exception) -> None:
        super().__init__(instance_id)
        self.instance_id, self.cause = instance_id, cause
