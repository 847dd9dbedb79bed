"""Completions over HTTP with 1, 2 and 4 worker processes, and what survives kill -9.

One worker is the single-process server (waitress); more are gunicorn worker processes.

For each worker count: a fresh PostgreSQL schema, the OVCF pathway deployed, pathways enrolled,
``pathway serve --workers N`` started; then ``--clients`` threads for ``--seconds`` each read a
page of ready tasks, open one and complete it with the demo's sample answers. With ``--kill N``,
a worker is killed with SIGKILL N times, evenly over the run, each time another one (gunicorn
replaces it). Afterwards every completion
the server answered 200 must be a completed task with exactly one ``task.complete`` audit event.
Prints completions/s, the ratio to one worker, 5xx answers, lost and doubled completions.

    .venv/bin/python bench/bench_http.py [--workers 1,2,4] [--clients 16] [--seconds 30] [--kill [N]]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

from pgschema import fresh_schema
from sqlalchemy import select

from api.demo import sample_answer
from engine.clock import SimulatedClock
from engine.models.bundle import collect_files
from engine.store import AuditEvent, Task, create_token
from engine.wiring import open_service

ROOT = Path(__file__).resolve().parents[1]
START = {"fractureDate": date(2026, 5, 1), "painScore": 6, "neuroDeficit": False}


def prepare(pathways: int) -> tuple[str, str]:
    url = fresh_schema()
    runtime = open_service(url, clock=SimulatedClock(datetime.now(UTC)))
    svc = runtime.service
    svc.deploy(collect_files([ROOT / "pathways", ROOT / "dmn"]), actor="bench")
    rows = [{"external_id": f"H{n:06d}", "variables": dict(START)} for n in range(pathways)]
    for start in range(0, pathways, 100):
        svc.enrol_new_patients(rows[start:start + 100], "ovcf_pathway", actor="bench")
    with svc.ctx.write() as session:
        token = create_token(session, "bench", "coordinator", svc.clock.now())
    runtime.engine.dispose()
    return url, token


def call(base: str, token: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict | None]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None


def workers_of(master: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == master:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def run(workers: int, clients: int, seconds: float, kills: int) -> dict:
    url, token = prepare(clients * 40)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--workers", str(workers),
                               "--threads", "4", "--port", str(port), "--timer-interval", "0"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(f"/tmp/bench_http_{workers}.log", "w"))
    base = f"http://127.0.0.1:{port}"
    children = workers if workers > 1 else 0  # one worker: waitress, in the process itself
    deadline = time.monotonic() + 120
    while True:
        try:
            if call(base, token, "GET", "/api/health")[0] == 200 and len(workers_of(server.pid)) == children:
                break
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            raise SystemExit(f"the server with {workers} worker(s) did not start")
        time.sleep(0.3)
    statuses: Counter = Counter()
    completed: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(number: int) -> None:
        chooser = random.Random(number)
        while time.monotonic() < stop_at:
            try:
                code, page = call(base, token, "GET", "/api/tasks?limit=50")
                if code != 200 or not page["items"]:
                    statuses[code] += 1
                    continue
                task = chooser.choice(page["items"])
                code, detail = call(base, token, "GET", f"/api/tasks/{task['id']}")
                if code != 200:
                    statuses[code] += 1
                    continue
                answers = sample_answer(detail.get("form"), date.today())
                code, _ = call(base, token, "POST", f"/api/tasks/{task['id']}/complete", {"variables": answers})
            except OSError:
                code = "connection"
            with lock:
                statuses[code] += 1
                if code == 200:
                    completed.append(task["id"])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    killed = 0
    for round_ in range(kills if workers > 1 else 0):  # a different worker each time, spread over the run
        time.sleep(seconds / (kills + 1))
        alive = workers_of(server.pid)
        if alive:
            os.kill(alive[round_ % len(alive)], signal.SIGKILL)
            killed += 1
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    server.send_signal(signal.SIGTERM)
    server.wait(30)

    check = open_service(url, migrate=False)
    with check.service.ctx.session_factory() as session:
        audited = Counter(session.scalars(select(AuditEvent.task_id).where(AuditEvent.action == "task.complete",
                                                                            AuditEvent.actor == "bench")))
        done = set(session.scalars(select(Task.id).where(Task.id.in_(completed), Task.status == "completed")))
    check.engine.dispose()
    return {"rate": len(completed) / elapsed, "completions": len(completed), "workers killed": killed,
            "5xx": sum(n for code, n in statuses.items() if isinstance(code, int) and code >= 500),
            "connection errors": statuses["connection"], "refused (409/412/422)": sum(
                n for code, n in statuses.items() if code in (409, 412, 422)),
            "lost": len(set(completed) - done), "doubled": sum(1 for n in audited.values() if n > 1),
            "answers": dict(statuses)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--kill", type=int, nargs="?", const=1, default=0, metavar="N",
                        help="kill -9 a worker N times (default once), evenly over the run, each time another")
    args = parser.parse_args()
    baseline = None
    print(f"{args.clients} clients x {args.seconds:.0f} s on PostgreSQL" + (f", a worker killed with SIGKILL {args.kill} time(s)"
                                                                             if args.kill else ""))
    for workers in (int(w) for w in args.workers.split(",")):
        found = run(workers, args.clients, args.seconds, args.kill)
        baseline = baseline or found["rate"] or 1.0
        print(f"  {workers} worker(s): {found['rate']:6.1f} completions/s (x{found['rate'] / baseline:.2f}); "
              + ", ".join(f"{k} {v}" for k, v in found.items() if k != "rate"), flush=True)


if __name__ == "__main__":
    main()
