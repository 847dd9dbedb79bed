"""Running the API for real: waitress (threads), JSON logs, a timer thread, and the demo set-up."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

from engine.clock import SystemClock
from engine.store import database_url

from . import create_app
from .logs import configure_logging
from .state import EXTENSION

log = logging.getLogger("api.serve")


def demo_database(fresh: bool = False) -> str:
    """The demo's database: the same default as every other command (``$DATABASE_URL``, else
    ``instance/pathway.db``), so ``pathway users ...`` acts on what the demo serves. ``fresh``
    deletes a SQLite file first (never another database)."""
    url = database_url(None)
    path = _sqlite_path(url)
    if fresh and path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        _tokens_file(url).unlink(missing_ok=True)
    return url


def _sqlite_path(url: str) -> Path | None:
    return Path(url[len("sqlite:///"):]) if url.startswith("sqlite:///") and ":memory:" not in url else None


def _tokens_file(url: str) -> Path:
    """Where the demo keeps its tokens in clear, to print them again at the next start (a demo
    convenience: real tokens are shown once, by ``pathway users add``)."""
    path = _sqlite_path(url)
    return path.with_name(path.stem + ".demo-tokens.json") if path else Path.cwd() / "instance" / "demo-tokens.json"


def _timer_loop(app: Any, interval: float, stop: threading.Event) -> None:
    service = app.extensions[EXTENSION]["service"]
    while not stop.wait(interval):
        try:
            fired = service.fire_due_timers()
            if fired:
                log.info("timers fired", extra={"event": "timers.fired", "status": len(fired)})
        except Exception:  # keep the worker alive; the next poll retries
            log.exception("timer poll failed", extra={"event": "timers.error"})


def build(*, demo: bool, simulated_clock: bool, database_url: str | None = None,
          fresh: bool = False) -> tuple[Any, dict[str, Any]]:
    """The app (and, for the demo, what was seeded, or found from an earlier start)."""
    from .demo import HISTORY, seed_demo

    config: dict[str, Any] = {"SIMULATED_CLOCK": simulated_clock or demo}
    url = database_url or os.environ.get("DATABASE_URL")
    seeded: dict[str, Any] = {}
    if demo:
        url = database_url or demo_database(fresh)
        # a new demo starts its history weeks ago; a reused one is later already (the stored
        # simulated time never goes back, so this start is then ignored)
        config["SIMULATED_CLOCK_START"] = (SystemClock().now() - HISTORY).isoformat()
        seeded["database"] = url
    if url:
        config["DATABASE_URL"] = url
    app = create_app(config)
    service = app.extensions[EXTENSION]["service"]
    if demo:
        seeded["reused"] = bool(service.definitions()) or bool(service.patients(limit=1)["items"])
    if demo and seeded["reused"]:
        kept = _tokens_file(url)
        seeded.update(tokens=json.loads(kept.read_text()) if kept.exists() else {},
                      definition=(service.definitions() or [None])[-1], problems=[],
                      pathways=len(service.patients(limit=200)["items"]))
    elif demo:
        result = seed_demo(service)
        seeded.update(tokens=result.tokens, definition=result.definition, pathways=len(result.pathways),
                      problems=result.problems)
        _save_tokens(_tokens_file(url), result.tokens)
    return app, seeded


def _save_tokens(path: Path, tokens: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(tokens, handle)


def run(host: str, port: int, threads: int, demo: bool, simulated_clock: bool, timer_interval: float,
        fresh: bool = False) -> None:
    import waitress

    configure_logging()
    app, seeded = build(demo=demo, simulated_clock=simulated_clock, fresh=fresh)
    base = f"http://{host}:{port}"
    if demo:
        definition = seeded["definition"]
        if definition:
            what = f"{definition['key']} v{definition['version']}"
        elif seeded["problems"]:
            what = "the bundled pathway did not deploy (tokens only)"
        else:
            what = "no pathway in pathways/ (tokens only)"
        again = " (kept from the last start; --fresh starts again)" if seeded["reused"] else ""
        print(f"Demo ready: {what}, {seeded['pathways']} demo patients, database {seeded['database']}{again}.",
              flush=True)
        for problem in seeded["problems"]:
            print(f"  note: {problem}", flush=True)
        print("Sign in with one of these tokens (also 'Authorization: Bearer <token>' for the API):", flush=True)
        for role, token in seeded["tokens"].items():
            print(f"  {role:<14} {token}", flush=True)
        print(f"Open the web app: {base}/worklist", flush=True)
    simulated = bool(app.config["SIMULATED_CLOCK"])
    stop = threading.Event()
    if not simulated and timer_interval > 0:
        threading.Thread(target=_timer_loop, args=(app, timer_interval, stop), daemon=True, name="timers").start()
    print(f"Serving on {base}/ (web app), {base}/api/docs (API) ({'simulated' if simulated else 'system'} clock)",
          file=sys.stderr, flush=True)
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="pathway")
    finally:
        stop.set()
