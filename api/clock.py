"""The simulated clock (only when the app runs on one; 404 otherwise).

Moving it fires every timer that became due, in due order: the clock stops at each due instant
on the way, so timer events are stamped when they were due, as they would have been live.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from flask import Blueprint
from sqlalchemy import func, select

from engine.clock import SimulatedClock
from engine.isotime import parse_duration
from engine.service import Service
from engine.store import Instance, InstanceStatus

from .auth import READERS, WORKERS
from .openapi import endpoint
from .problems import ApiProblem
from .schemas import ClockIn, ClockOut
from .state import service, simulated_clock

bp = Blueprint("clock", __name__, url_prefix="/api/clock")
_moving = threading.Lock()
MAX_STEPS = 100_000


def _clock() -> SimulatedClock:
    clock = simulated_clock()
    if clock is None:
        raise ApiProblem(404, "the server runs on the system clock; start it with --simulated-clock")
    return clock


def _next_due(svc: Service) -> datetime | None:
    with svc.ctx.read() as session:
        return session.scalar(select(func.min(Instance.next_due_at))
                              .where(Instance.status == InstanceStatus.RUNNING))


def move_clock(svc: Service, clock: SimulatedClock, target: datetime) -> list[dict[str, Any]]:
    """Step to each due instant up to ``target``, firing what is due there, then settle at ``target``."""
    now = svc.ctx.synced_now()  # another server process may have moved it
    if target < now:
        raise ApiProblem(409, f"a simulated clock never goes back: {target.isoformat()} is before "
                              f"{now.isoformat()}", kind="conflict")
    fired: list[dict[str, Any]] = svc.fire_due_timers()
    for _ in range(MAX_STEPS):
        due = _next_due(svc)
        if due is None or due > target:
            break
        if due > clock.now():
            svc.ctx.set_time(due)
        batch = svc.fire_due_timers()
        if not batch:
            break  # due but not fired (e.g. locked by a worker): do not spin
        fired.extend(batch)
    if target > clock.now():
        svc.ctx.set_time(target)
    fired.extend(svc.fire_due_timers())
    return fired


@bp.get("")
@endpoint(roles=READERS, tags=("clock",), ok={"HTTP_200": ClockOut}, errors=(404,))
def read_clock() -> dict[str, Any]:
    """The simulated time (one time for every server process on the database)."""
    _clock()
    return {"now": service().ctx.synced_now().isoformat(), "simulated": True, "fired": []}


@bp.post("")
@endpoint(roles=WORKERS, tags=("clock",), json=ClockIn, ok={"HTTP_200": ClockOut}, errors=(404, 409))
def set_clock(json: ClockIn) -> dict[str, Any]:
    """Advance by an ISO-8601 duration (``{"advance": "P6W"}``) or jump to an instant (``{"set": ...}``);
    every timer that became due fires, in due order, before the answer."""
    clock = _clock()
    svc = service()
    with _moving:
        if json.advance is not None:
            try:
                text = json.advance.strip()
                if not text.startswith("P"):  # the documented pattern: forward only ("-P1D" is no advance)
                    raise ValueError(f"'{text}' is not a forward ISO-8601 duration (e.g. P6W, P3M, PT12H)")
                target = parse_duration(text).add_to(svc.ctx.synced_now())
            except (ValueError, OverflowError) as exc:
                raise ApiProblem(422, f"'advance' is not an ISO-8601 duration: {exc}", kind="invalid-input",
                                 errors=[{"field": "advance", "code": "format", "message": str(exc)}]) from exc
        else:
            assert json.set is not None
            target = json.set
        fired = move_clock(svc, clock, target)
    return {"now": clock.now().isoformat(), "simulated": True, "fired": fired}
