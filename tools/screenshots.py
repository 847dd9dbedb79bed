"""Screenshots of the web app for docs/screenshots (run: .venv/bin/python tools/screenshots.py).

Seeds the demo on a throw-away SQLite file, serves it, and drives Debian's Chromium through
Playwright as a coordinator and a clinical lead would.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.test_web_pages import misspelt_and_fixed  # noqa: E402
from tests.web_support import CHROMIUM, demo_app, ensure_axe, live_server  # noqa: E402
from tests.web_support import sign_in_browser as sign_in  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def main() -> None:
    ensure_axe()
    OUT.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp())
    app, tokens = demo_app(folder)
    service = app.extensions["pathway"]["service"]
    with live_server(app) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        sign_in(page, url, tokens["coordinator"])
        page.goto(f"{url}/worklist?group=clinician")
        page.screenshot(path=str(OUT / "worklist.png"))
        task = next(t for t in service.tasks(limit=100)["items"] if t["elementId"] == "UT_CompleteWorkup")
        page.goto(f"{url}/tasks/{task['id']}")
        page.get_by_role("button", name="Claim this task").click()
        page.screenshot(path=str(OUT / "task.png"), full_page=False)
        intake = next(t for t in service.tasks(limit=100)["items"] if t["elementId"] == "UT1_Intake")
        page.goto(f"{url}/tasks/{intake['id']}")
        page.get_by_role("button", name="Claim this task").click()
        page.get_by_label("Pain score (0-10, 1 decimal)").fill("11")
        page.get_by_role("button", name="Submit").click()
        page.locator("#field-painScore").scroll_into_view_if_needed()
        page.screenshot(path=str(OUT / "task-errors.png"))
        patient = service.patient(external_id="DEMO-002")
        page.goto(f"{url}/patients/{patient['id']}")
        page.locator(".diagram[data-ready]").first.wait_for()
        page.screenshot(path=str(OUT / "patient.png"), full_page=True)
        lead = browser.new_page(viewport={"width": 1280, "height": 860})
        sign_in(lead, url, tokens["clinical_lead"])
        lead.goto(f"{url}/definitions")
        broken, _ = misspelt_and_fixed()
        (folder / "ovcf_pathway.bpmn").write_bytes(broken)
        lead.get_by_label("BPMN diagrams, DMN tables or safety properties").set_input_files(
            str(folder / "ovcf_pathway.bpmn"))
        lead.get_by_role("button", name="Check and deploy").click()
        lead.locator(".diagram[data-ready]").first.wait_for()
        lead.screenshot(path=str(OUT / "lead.png"), full_page=True)
        browser.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
