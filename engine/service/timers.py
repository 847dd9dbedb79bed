"""Firing due timers: every overdue occurrence once, in due order, safe with several workers."""

from __future__ import annotations

from typing import Any

from ..store import add_audit, due_instance_ids, lock_instance
from .context import ServiceContext
from .persist import save, snapshot

TIMER_ACTOR = "system:timer"


class TimerService:
    ctx: ServiceContext

    def fire_due_timers(self, *, batch: int = 50) -> list[dict[str, Any]]:
        """Fire what is due now. Each instance is its own transaction, so one broken pathway
        cannot hold back the others, and a crash leaves every instance either fired or not."""
        fired: list[dict[str, Any]] = []
        now = self.ctx.now()
        while True:
            with self.ctx.read() as session:
                ids = due_instance_ids(session, now, limit=batch)
            progressed = False
            for instance_id in ids:
                try:
                    result = self._fire_instance(instance_id, now)
                except Exception as exc:  # noqa: BLE001 - one broken pathway must not stop the others
                    self._record_incident(instance_id, exc)
                    result = {"pathwayId": instance_id, "fired": [], "error": str(exc)}
                if result is not None:
                    fired.append(result)
                    progressed = True
            if len(ids) < batch or not progressed:
                return fired

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
                      after={"status": "failed"}, reason=f"{type(exc).__name__}: {exc}")

    def _fire_instance(self, instance_id: str, now) -> dict[str, Any] | None:
        with self.ctx.write() as session:
            # SKIP LOCKED on PostgreSQL: another worker already has this one.
            instance = lock_instance(session, instance_id, skip_locked=True)
            if instance is None or instance.status != "running" or instance.next_due_at is None \
                    or instance.next_due_at > now:
                return None
            runtime = self.ctx.load_runtime(session, instance)
            before = snapshot(runtime)
            timers = runtime.fire_due_timers(now)
            details = {"fired": [{"elementId": t.element_id, "due": t.due.isoformat()} for t in timers]}
            save(self.ctx, session, instance, runtime, actor=TIMER_ACTOR, action="timer.fire", before=before,
                 details=details)
            return {"pathwayId": instance_id, **details}
