"""Structured (JSON) logs. Requests are logged by route template and status: no ids, no names."""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request

_FIELDS = ("event", "method", "route", "status", "ms", "role", "path_template")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in _FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info and record.exc_info[1] is not None:
            # The type and where it was raised, never the message: messages can quote patient data.
            error = record.exc_info[1]
            frames = traceback.extract_tb(error.__traceback__)
            entry["error"] = type(error).__name__
            entry["where"] = [f"{Path(f.filename).name}:{f.lineno}:{f.name}" for f in frames[-5:]]
        return json.dumps(entry, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on stderr for the app, the engine and the WSGI server."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("alembic", "spiff", "SpiffWorkflow"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def init_request_logging(app: Flask) -> None:
    log = logging.getLogger("api.request")

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        started = g.get("started")
        principal = g.get("principal")
        log.info("request", extra={
            "event": "request",
            "method": request.method,
            # The rule (``/api/tasks/<task_id>``), never the path: paths carry patient and task ids.
            "route": request.url_rule.rule if request.url_rule else None,
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "role": principal.role if principal else None,
        })
        return response
