"""HTTP API: a Flask app factory with one blueprint per resource over ``engine`` services.

Configuration (``create_app(config)`` or environment): ``DATABASE_URL`` (SQLAlchemy URL),
``SIMULATED_CLOCK`` (true: a clock moved through ``/api/clock``), ``SIMULATED_CLOCK_START``
(ISO date-time; default: now, or the last recorded event if that is later), ``MAX_CONTENT_LENGTH``
(bytes, default 5 MiB), ``SERVICE`` (a ready :class:`engine.service.Service`, for tests).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from flask import Flask, request
from sqlalchemy import func, select

from engine.clock import Clock, SimulatedClock, SystemClock, site_timezone
from engine.store import AuditEvent
from engine.wiring import open_service

from .jsonio import PathwayJSONProvider
from .logs import init_request_logging
from .problems import ApiProblem, register_error_handlers
from .state import EXTENSION

MAX_BODY = 5 * 1024 * 1024
TRUE = ("1", "true", "yes", "on")


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


def _make_clock(config: dict[str, Any]) -> Clock:
    if not config.get("SIMULATED_CLOCK"):
        return SystemClock(site_timezone())
    start = config.get("SIMULATED_CLOCK_START")
    if isinstance(start, str):
        start = datetime.fromisoformat(start)
    # without a start, the stored time (or today, on a new database) decides: see _share_simulated_time
    return SimulatedClock(start or EARLIEST, tz=site_timezone())


def _share_simulated_time(service: Any, started: bool) -> None:
    """One simulated time for every process on the database, kept across restarts: the stored
    time (never going back); on a database with none stored, the configured start, else the last
    recorded event or today, whichever is later."""
    with service.ctx.read() as session:
        last = session.scalar(select(func.max(AuditEvent.at)))
    service.ctx.share_time(last, None if started else SystemClock().now())


def _check_json_body() -> None:
    """Bad JSON is a 400 problem, whatever the route (spectree would read it as ``{}``)."""
    if request.method in ("POST", "PUT", "PATCH") and request.is_json and request.get_data(cache=True):
        try:
            request.get_json(force=False, silent=False)
        except Exception as exc:  # werkzeug raises BadRequest; keep the message short
            raise ApiProblem(400, "the body is not valid JSON", kind="bad-json") from exc


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.json = PathwayJSONProvider(app)
    app.config.from_mapping(
        DATABASE_URL=os.environ.get("DATABASE_URL"),
        SIMULATED_CLOCK=os.environ.get("SIMULATED_CLOCK", "").lower() in TRUE,
        SIMULATED_CLOCK_START=os.environ.get("SIMULATED_CLOCK_START"),
        MAX_CONTENT_LENGTH=MAX_BODY,
        SERVICE=None,
    )
    if config:
        app.config.update(config)

    service, engine = app.config["SERVICE"], None
    if service is None:
        runtime = open_service(app.config["DATABASE_URL"], clock=_make_clock(app.config))
        service, engine = runtime.service, runtime.engine
    app.extensions[EXTENSION] = {"service": service, "engine": engine}
    if isinstance(service.clock, SimulatedClock):
        _share_simulated_time(service, bool(app.config.get("SIMULATED_CLOCK_START")))

    register_error_handlers(app)
    init_request_logging(app)
    app.before_request(_check_json_body)

    from . import (
        camunda,
        clock,
        decisions,
        definitions,
        enrolments,
        fhir,
        health,
        incidents,
        pathways,
        patients,
        tasks,
    )
    from .openapi import init_openapi

    for module in (health, definitions, patients, enrolments, pathways, incidents, tasks, decisions, clock, camunda,
                   fhir):
        app.register_blueprint(module.bp)
    init_openapi(app)
    if app.config.get("WEB_APP", True):
        import webapp

        webapp.init_app(app)  # the pages, over the same service
    return app
