"""Helpers for the web app's tests: a demo database, a real HTTP server in a thread, Debian's
Chromium driven by Playwright, and axe-core (from webapp/node_modules) run in the page."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from api.demo import HISTORY, bundled_files, seed_demo
from api.testkit import START, make_app

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "webapp" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def demo_app(folder: Path, until: datetime = START) -> tuple[Flask, dict[str, str]]:
    """An app on a fresh SQLite file with the bundled pathway's demo patients; tokens by role."""
    app = make_app(f"sqlite:///{folder / 'web.db'}", SIMULATED_CLOCK_START=(until - HISTORY).isoformat(),
                   SECRET_KEY="test-secret")
    result = seed_demo(app.extensions["pathway"]["service"], bundled_files(), until=until)
    assert not result.problems, result.problems
    return app, result.tokens


def csrf(page_text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page_text)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(client: FlaskClient, token: str) -> None:
    response = client.post("/signin", data={"csrf": csrf(client.get("/signin").text), "token": token})
    assert response.status_code == 302, response.text


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """The app served by waitress on a free local port, in a thread; yields its base URL."""
    from waitress import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(timeout=5)


def sign_in_browser(page: Any, url: str, token: str) -> None:
    """Sign in through the page, as a user does."""
    page.goto(f"{url}/signin")
    page.get_by_label("Your access token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def ensure_axe() -> str | None:
    """Install the web app's npm packages if they are not (``npm ci`` from the lock file);
    the reason when that cannot be done here."""
    if AXE.exists():
        return None
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not on PATH: axe-core (webapp/package-lock.json) cannot be installed"
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT / "webapp", capture_output=True, text=True)
    if done.returncode != 0 or not AXE.exists():
        raise RuntimeError(f"npm ci in webapp/ failed: {done.stderr[-2000:]}")
    return None


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now. axe is loaded into
    every page by the context's init script (``context.add_init_script(path=AXE)``), which the
    pages' CSP (no inline script) does not block."""
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in found if v["impact"] in ("serious", "critical")]
