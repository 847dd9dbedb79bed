"""Several worker processes under gunicorn (Linux), for production serving.

Each worker builds its own app after the fork: its own connection pool and its own parsed-bundle
cache. What must agree across workers lives in the database, never in a process: the simulated
clock (stored, read at the start of every transaction), incidents (parked pathways), tokens,
definitions (immutable once deployed, so a per-process cache by id is never stale). Migrations
run once, in the master, before any worker starts. Every worker polls due timers; batches are
claimed with ``SKIP LOCKED`` on PostgreSQL, so workers share the work and never fire one twice.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from gunicorn.app.base import BaseApplication

from engine.store import database_url, upgrade

from . import create_app
from .logs import configure_logging
from .serve import _timer_loop


class PathwayServer(BaseApplication):
    def __init__(self, app_config: dict[str, Any], options: dict[str, Any], timer_interval: float) -> None:
        self.app_config = app_config
        self.options = options
        self.timer_interval = timer_interval
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        self.cfg.set("post_worker_init", self._start_timers)

    def load(self) -> Any:
        return create_app(dict(self.app_config))

    def _start_timers(self, worker: Any) -> None:
        app = worker.wsgi
        if app.config.get("SIMULATED_CLOCK") or self.timer_interval <= 0:
            return  # a simulated clock fires timers when it is moved
        stop = threading.Event()
        threading.Thread(target=_timer_loop, args=(app, self.timer_interval, stop), daemon=True,
                         name="timers").start()


def run(host: str, port: int, workers: int, threads: int, simulated_clock: bool, timer_interval: float) -> None:
    configure_logging()
    url = database_url(None)
    upgrade(url)  # once, here: workers must not race to create the schema
    config: dict[str, Any] = {"DATABASE_URL": url, "SIMULATED_CLOCK": simulated_clock}
    options = {"bind": f"{host}:{port}", "workers": workers, "threads": threads, "worker_class": "gthread",
               "accesslog": None, "graceful_timeout": 10, "timeout": 60, "proc_name": "pathway"}
    base = f"http://{host}:{port}"
    print(f"Serving on {base}/ (web app), {base}/api/docs (API) with {workers} worker processes "
          f"({'simulated' if simulated_clock else 'system'} clock)", file=sys.stderr, flush=True)
    PathwayServer(config, options, timer_interval).run()
