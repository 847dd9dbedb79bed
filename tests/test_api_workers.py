"""`pathway serve --workers 2`: two gunicorn worker processes on one database agree on the
simulated time, the deployed definitions and the incident list, and survive kill -9."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "tests" / "fixtures" / "bundle"
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="gunicorn runs on Unix only")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def workers_of(master: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                found.add(int(entry.name))
    return found


class Client:
    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json", "Connection": "close"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def deploy(self, files: dict[str, bytes]) -> int:
        boundary = "pathwayboundary"
        parts = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n\r\n'.encode()
            + content + b"\r\n" for name, content in files.items())
        request = urllib.request.Request(self.base + "/api/definitions", method="POST",
                                         data=parts + f"--{boundary}--\r\n".encode(), headers={
                                             "Authorization": f"Bearer {self.token}", "Connection": "close",
                                             "Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status


@pytest.fixture
def served(db_url: str, tmp_path: Path):  # noqa: ANN201
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": db_url}
    add = subprocess.run([sys.executable, "-m", "engine.cli", "users", "add", "ops", "--role", "admin"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert add.returncode == 0, add.stderr
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--workers", "2", "--threads", "2",
                               "--simulated-clock", "--port", str(port)], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    client = Client(f"http://127.0.0.1:{port}", add.stdout.strip())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if client.call("GET", "/api/health")[0] == 200 and len(workers_of(server.pid)) == 2:
                break
        except OSError:
            pass
        time.sleep(0.3)
    else:
        server.kill()
        pytest.fail("the server did not start: " + (tmp_path / "server.log").read_text()[-2000:])
    try:
        yield server, client
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_workers_share_the_clock_definitions_and_incidents_and_survive_kill_9(served) -> None:  # noqa: ANN001
    server, client = served
    assert len(workers_of(server.pid)) == 2

    status, moved = client.call("POST", "/api/clock", {"advance": "P3D"})
    assert status == 200, moved
    assert client.deploy({p.name: p.read_bytes() for p in BUNDLE.iterdir()}) == 201
    for _ in range(20):  # fresh connections: both workers answer, and answer alike
        assert client.call("GET", "/api/clock")[1]["now"] == moved["now"]
        assert [d["key"] for d in client.call("GET", "/api/definitions")[1]["items"]] == ["engine_acceptance"]
        assert client.call("GET", "/api/incidents")[1] == {"items": []}

    victim = sorted(workers_of(server.pid))[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (victim in workers_of(server.pid) or len(workers_of(server.pid)) < 2):
        time.sleep(0.2)
    assert len(workers_of(server.pid)) == 2 and victim not in workers_of(server.pid)  # replaced
    for _ in range(10):
        assert client.call("GET", "/api/clock")[1]["now"] == moved["now"]  # the time survives a worker
    status, later = client.call("POST", "/api/clock", {"advance": "P1D"})
    assert status == 200 and later["now"] > moved["now"]
