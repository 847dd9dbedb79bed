"""Per-app objects views need: the service and, when simulated, the clock."""

from __future__ import annotations

from flask import current_app

from engine.clock import SimulatedClock
from engine.service import Service

EXTENSION = "pathway"


def service() -> Service:
    return current_app.extensions[EXTENSION]["service"]


def simulated_clock() -> SimulatedClock | None:
    clock = service().clock
    return clock if isinstance(clock, SimulatedClock) else None
