"""Running the API for real: waitress (threads), JSON logs, a timer thread, and the demo set-up."""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

from engine.clock import SystemClock

from . import create_app
from .logs import configure_logging
from .state import EXTENSION

log = logging.getLogger("api.serve")


def fresh_demo_url(folder: Path | None = None) -> str:
    """A brand-new SQLite file for the demo (the previous demo database is replaced)."""
    folder = folder or Path.cwd() / "instance"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def _timer_loop(app: Any, interval: float, stop: threading.Event) -> None:
    service = app.extensions[EXTENSION]["service"]
    while not stop.wait(interval):
        try:
            fired = service.fire_due_timers()
            if fired:
                log.info("timers fired", extra={"event": "timers.fired", "status": len(fired)})
        except Exception:  # keep the worker alive; the next poll retries
            log.exception("timer poll failed", extra={"event": "timers.error"})


def build(*, demo: bool, simulated_clock: bool, database_url: str | None = None) -> tuple[Any, dict[str, Any]]:
    """The app (and, for the demo, what was seeded)."""
    from .demo import HISTORY, seed_demo

    config: dict[str, Any] = {"SIMULATED_CLOCK": simulated_clock or demo}
    url = database_url or os.environ.get("DATABASE_URL")
    if demo:
        config["DATABASE_URL"] = url or fresh_demo_url()
        config["SIMULATED_CLOCK_START"] = (SystemClock().now() - HISTORY).isoformat()
    elif url:
        config["DATABASE_URL"] = url
    app = create_app(config)
    seeded: dict[str, Any] = {}
    if demo:
        result = seed_demo(app.extensions[EXTENSION]["service"])
        seeded = {"tokens": result.tokens, "definition": result.definition, "pathways": len(result.pathways),
                  "problems": result.problems}
    return app, seeded


def run(host: str, port: int, threads: int, demo: bool, simulated_clock: bool, timer_interval: float) -> None:
    import waitress

    configure_logging()
    app, seeded = build(demo=demo, simulated_clock=simulated_clock)
    if demo:
        definition = seeded["definition"]
        if definition:
            what = f"{definition['key']} v{definition['version']}"
        elif seeded["problems"]:
            what = "the bundled pathway did not deploy (tokens only)"
        else:
            what = "no pathway in pathways/ (tokens only)"
        print(f"Demo ready: {what}, {seeded['pathways']} demo pathways.", flush=True)
        for problem in seeded["problems"]:
            print(f"  note: {problem}", flush=True)
        print("API tokens (use as 'Authorization: Bearer <token>'):", flush=True)
        for role, token in seeded["tokens"].items():
            print(f"  {role:<14} {token}", flush=True)
    simulated = bool(app.config["SIMULATED_CLOCK"])
    stop = threading.Event()
    if not simulated and timer_interval > 0:
        threading.Thread(target=_timer_loop, args=(app, timer_interval, stop), daemon=True, name="timers").start()
    print(f"Serving on http://{host}:{port}/api/docs ({'simulated' if simulated else 'system'} clock)",
          file=sys.stderr, flush=True)
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="pathway")
    finally:
        stop.set()
