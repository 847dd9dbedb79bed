"""Camunda Modeler's own editors, driven from a test: ``tools/modeler-roundtrip/page.html`` (the
Camunda Platform 7 flavours of camunda-bpmn-js and camunda-dmn-js, their prebuilt browser
bundles) served from a local HTTP server in a thread and opened in Debian's Chromium through
Playwright's sync API.

    with ModelerEditor() as editor:
        saved = editor.resave("ovcf_pathway.bpmn", text)      # open and save, no edit
        saved = editor.set_timer(text, "BE_RedFlagOverdue", "PT45M")

Every method opens the given XML in a fresh editor, makes its edit with the editor's modeling API
(the commands the Modeler's canvas and properties panel run) and returns ``saveXML({format:
true})``, as the Modeler writes the file on Ctrl+S. ``warnings`` holds the import warnings of the
last file opened.

Entering skips the test (``pytest.skip``, with the reason) only when it cannot run here: no
Playwright, no Chromium at ``/usr/bin/chromium`` (``scripts/test`` installs it where apt-get can
run), or no npm to install the editors (``npm ci`` from the lockfile, done here when
``node_modules`` is missing or older than the lockfile). A failing ``npm ci`` is an error.
"""

from __future__ import annotations

import fcntl
import functools
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "modeler-roundtrip"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BUNDLES = (
    TOOL / "node_modules" / "camunda-bpmn-js" / "dist" / "camunda-platform-modeler.development.js",
    TOOL / "node_modules" / "camunda-dmn-js" / "dist" / "camunda-platform-modeler.development.js",
)
# a 300 kB pathway opens and saves in well under a second; generous for a loaded CI machine
CALL_TIMEOUT_MS = 120_000


def ensure_packages() -> str | None:
    """Install the editors' npm packages when they are missing or stale; the reason when npm is
    not here to do it (the caller skips with it)."""
    lockfile = TOOL / "package-lock.json"
    installed = TOOL / "node_modules" / ".package-lock.json"  # npm rewrites it on every install

    def stale() -> bool:
        return (not all(b.exists() for b in BUNDLES) or not installed.exists()
                or installed.stat().st_mtime < lockfile.stat().st_mtime)

    if not stale():
        return None
    npm = shutil.which("npm")
    if npm is None:
        return f"npm is not on PATH: the Modeler's editors ({TOOL.relative_to(ROOT)}/package-lock.json) cannot be installed"
    # pytest-xdist workers (and parallel runs) share this folder: one installs, the others wait
    with open(TOOL / ".npm-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stale():
            done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=TOOL, capture_output=True, text=True)
            if done.returncode != 0 or stale():
                raise RuntimeError(f"npm ci in {TOOL} failed: {done.stderr[-2000:]}")
    return None


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per asset request would bury the test output


@contextmanager
def static_server(folder: Path) -> Iterator[str]:
    """``folder`` served on a free port of 127.0.0.1 in a thread; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class ModelerEditor:
    """The page with the Modeler's editors, open in Chromium; a context manager."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._page: Any = None
        self.page_errors: list[str] = []  # uncaught errors in the page: a broken editor, not a model

    def __enter__(self) -> ModelerEditor:
        sync_api = pytest.importorskip("playwright.sync_api")
        if not Path(CHROMIUM).exists():
            pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} "
                        "(scripts/test installs it where apt-get can run); Playwright never downloads one")
        reason = ensure_packages()
        if reason:
            pytest.skip(reason)
        try:
            url = self._stack.enter_context(static_server(TOOL))
            playwright = self._stack.enter_context(sync_api.sync_playwright())
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            self._stack.callback(browser.close)
            page = browser.new_page(viewport={"width": 1700, "height": 1100})
            page.set_default_timeout(CALL_TIMEOUT_MS)
            page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
            page.goto(f"{url}/page.html")
            page.wait_for_function("window.modelerReady === true")
        except BaseException:
            self._stack.close()
            raise
        self._page = page
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stack.close()

    @property
    def warnings(self) -> list[str]:
        """Import warnings of the last file opened (an element or attribute the editor did not
        understand, which it would drop or rewrite on save)."""
        return list(self._call("() => window.lastWarnings"))

    def _call(self, script: str, *args: Any) -> Any:
        if self._page is None:
            raise RuntimeError("ModelerEditor is used outside its `with` block")
        # one list argument: page.evaluate passes a single value to the function
        result = self._page.evaluate(script, list(args)) if args else self._page.evaluate(script)
        if self.page_errors:
            raise AssertionError(f"the editor page failed: {self.page_errors}")
        return result

    def resave_bpmn(self, xml: str) -> str:
        return str(self._call("([xml]) => window.resaveBpmn(xml)", xml))

    def resave_dmn(self, xml: str) -> str:
        return str(self._call("([xml]) => window.resaveDmn(xml)", xml))

    def resave(self, name: str, xml: str) -> str:
        """Open and save with no edit, in the BPMN or the DMN editor by the file name."""
        lowered = name.lower()
        if lowered.endswith(".bpmn"):
            return self.resave_bpmn(xml)
        if lowered.endswith(".dmn"):
            return self.resave_dmn(xml)
        raise ValueError(f"{name}: neither a .bpmn nor a .dmn file")

    def set_timer(self, xml: str, element_id: str, body: str) -> str:
        """The body of the timer event definition of ``element_id`` (its timeDuration, timeDate
        or timeCycle, whichever it has) set to ``body``, as the properties panel does."""
        return str(self._call("([xml, id, body]) => window.setTimer(xml, id, body)", xml, element_id, body))

    def insert_user_task_on_flow(self, xml: str, flow_id: str, task_id: str, name: str,
                                 properties: dict[str, str] | None = None) -> str:
        """A user task dropped on sequence flow ``flow_id``, which the editor splits (the flow
        ends at the task, a new flow leads on to the old target); ``properties`` (for example
        ``{"camunda:candidateGroups": "clinician"}``) set on it afterwards."""
        return str(self._call("([xml, flow, id, name, props]) => window.insertUserTaskOnFlow(xml, flow, id, name, props)",
                              xml, flow_id, task_id, name, properties or {}))

    def set_dmn_cell(self, xml: str, decision_id: str, rule_id: str, column_index: int, text: str) -> str:
        """Input entry ``column_index`` (0-based) of rule ``rule_id`` in decision ``decision_id``
        set to ``text``, typed into the decision table view of that decision."""
        return str(self._call("([xml, decision, rule, column, text]) => window.setDmnCell(xml, decision, rule, column, text)",
                              xml, decision_id, rule_id, column_index, text))
