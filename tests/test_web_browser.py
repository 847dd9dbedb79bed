"""The web app in a real browser (Debian's Chromium, driven by Playwright), as a coordinator
uses it, with axe-core checking every page for serious or critical accessibility problems."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web_support import (
    AXE,
    CHROMIUM,
    axe_violations,
    demo_app,
    ensure_axe,
    live_server,
    sign_in_browser,
)

playwright_api = pytest.importorskip("playwright.sync_api")

RED_FLAGS = ["sphincterDysfunction", "objectiveMotorDeficit", "objectiveSensoryDeficit",
             "progressiveNeuroDeterioration", "cordOrCaudaCompressionOnImaging", "spinalInstability",
             "subjectiveRadicularSymptoms", "atypicalFeatures", "radicularPain"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    app, tokens = demo_app(tmp_path_factory.mktemp("web"))
    with live_server(app) as url:
        yield {"app": app, "url": url, "tokens": tokens}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (scripts/test installs it where apt-get can run)")
    reason = ensure_axe()
    if reason:
        pytest.skip(reason)
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(path=str(AXE))
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield opened
    context.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors


def accessible(page: Any) -> None:
    assert axe_violations(page) == [], page.url


def test_coordinator_completes_an_overdue_intake_answering_no_to_every_red_flag(site: dict[str, Any], page: Any,
                                                                                 tmp_path: Path) -> None:
    url = site["url"]
    page.goto(f"{url}/worklist")
    assert page.url.startswith(f"{url}/signin")  # not signed in: the worklist asks who you are
    accessible(page)
    page.get_by_label("Your access token").fill(site["tokens"]["coordinator"])
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("status").filter(has_text="Signed in as demo-coordinator").is_visible()
    assert page.locator("header .role").inner_text() == "(Care coordinator)"
    accessible(page)

    # filter: overdue clinician work; the filters are in the URL, so the view can be bookmarked
    page.get_by_label("Group").select_option("clinician")
    page.get_by_label("Overdue only").check()
    page.get_by_role("button", name="Apply filters").click()
    assert "group=clinician" in page.url and "overdue=1" in page.url
    rows = page.locator("table.tasks tbody tr")
    assert rows.count() > 0
    for index in range(rows.count()):
        assert "Overdue" in rows.nth(index).inner_text()  # said in words, not only by colour
    accessible(page)

    intake = page.get_by_role("link", name="Intake and red-flag screen").first
    intake.click()
    assert page.get_by_role("heading", name="Intake and red-flag screen").is_visible()
    task_id = re.search(r"/tasks/([0-9a-f-]+)", page.url).group(1)
    assert page.get_by_text("Overdue").first.is_visible()
    accessible(page)
    page.get_by_role("button", name="Claim this task").click()
    assert page.get_by_role("status").filter(has_text="You have claimed").is_visible()

    # yes/no questions are an explicit choice: "No" can be answered, and nothing is pre-ticked
    for name in RED_FLAGS:
        group = page.locator(f"#field-{name}")
        assert group.locator("input[type=checkbox]").count() == 0
        assert group.locator("input[type=radio]:checked").count() == 0
        group.get_by_label("No", exact=True).check()
    for fieldset in page.locator("fieldset.field").all():
        if fieldset.locator("input[type=radio][value=false]").count() and not fieldset.locator("input:checked").count():
            fieldset.get_by_label("No", exact=True).check()
    page.get_by_label("Date the fracture was identified").fill("2026-01-02")
    page.get_by_label("Fracture level, e.g. L2").fill("L1")
    page.locator("#field-mechanism").get_by_label("Low-energy fall").check()  # a short list: radio buttons
    page.get_by_label("Current osteoporosis agent").select_option("NONE")  # a long list: a list box
    page.locator("#field-miOrStrokeHistory input[value=NONE]").check()
    page.get_by_label("Lifetime teriparatide + abaloparatide months").fill("0")
    page.get_by_label("Romosozumab doses already received").fill("0")
    page.get_by_label("Pain score (0-10, 1 decimal)").fill("11")
    page.get_by_role("button", name="Submit").click()

    # the error is at the field, stays, and keeps every other answer
    error = page.locator("#error-painScore")
    assert error.is_visible() and "Must be at most 10." in error.inner_text()
    assert page.get_by_role("alert").filter(has_text="Nothing was saved").first.is_visible()
    page.wait_for_timeout(1500)
    assert error.is_visible()
    assert page.locator("#field-sphincterDysfunction input[value=false]").is_checked()
    assert page.get_by_label("Fracture level, e.g. L2").input_value() == "L1"
    accessible(page)

    page.get_by_label("Pain score (0-10, 1 decimal)").fill("6")
    page.get_by_role("button", name="Submit").click()
    assert page.get_by_role("status").filter(has_text="Completed “Intake and red-flag screen”").is_visible()
    assert "group=clinician" in page.url  # back to the filtered worklist
    page.screenshot(path=str(tmp_path / "worklist.png"), full_page=True)

    # what was recorded: every red flag absent, as answered
    service = site["app"].extensions["pathway"]["service"]
    done = service.task(task_id)
    assert (done["status"], done["completedBy"]) == ("completed", "demo-coordinator")
    variables = service.pathway(done["pathwayId"])["variables"]
    assert all(variables[name] is False for name in RED_FLAGS), {n: variables[n] for n in RED_FLAGS}

    # the patient's page shows it in clinical language, and what comes next
    page.goto(f"{url}/patients/{done['patientId']}")
    timeline = page.locator("ol.timeline")
    assert timeline.get_by_text(re.compile("Completed “Intake and red-flag screen”")).first.is_visible()
    assert "UT1_Intake" not in timeline.inner_text()
    # and where the patient now is on the diagram (bpmn-js from npm): the intake done, the next
    # tasks in progress
    diagram = page.locator(".diagram").first
    diagram.and_(page.locator("[data-ready=true]")).wait_for()
    assert diagram.locator('g.djs-element.pw-done[data-element-id="UT1_Intake"]').count() == 1
    assert diagram.locator('g.djs-element.pw-active[data-element-id="UT2_Coordination"]').count() == 1
    assert diagram.locator(".pw-badge").filter(has_text="Now").count() >= 1
    page.screenshot(path=str(tmp_path / "patient.png"), full_page=True)
    accessible(page)


def test_clinical_lead_sees_a_refused_deploy_on_the_diagram_then_deploys_and_migrates(
        site: dict[str, Any], page: Any, tmp_path: Path) -> None:
    from tests.test_web_pages import misspelt_and_fixed

    url = site["url"]
    broken, fixed = misspelt_and_fixed()
    sign_in_browser(page, url, site["tokens"]["clinical_lead"])
    page.get_by_role("link", name="Pathway versions").click()
    accessible(page)

    deploy(page, tmp_path / "broken", broken)
    assert page.get_by_role("alert").filter(has_text="Not deployed").is_visible()
    finding = page.locator("table tr").filter(has_text="referalDecision")
    assert finding.count() == 1 and "did you mean" in finding.inner_text()
    flow = finding.locator("code").inner_text()
    diagram = page.locator(".diagram").first
    diagram.and_(page.locator("[data-ready=true]")).wait_for()
    assert diagram.locator(f'g.djs-element.pw-overdue[data-element-id="{flow}"]').count() == 1
    assert diagram.locator(".pw-badge").filter(has_text="Problem").count() >= 1
    page.screenshot(path=str(tmp_path / "lead-refused.png"), full_page=True)
    accessible(page)

    deploy(page, tmp_path / "fixed", fixed)
    assert page.get_by_role("status").filter(has_text="Deployed ovcf_pathway version").is_visible()
    target = int(re.search(r"/definitions/ovcf_pathway/(\d+)", page.url).group(1))
    renamed = page.locator("ul.changes > li")
    assert renamed.count() == 1 and "name '4-6 week reassessment' → '4-6 week reassessment (phone or clinic)'" \
        in renamed.inner_text()
    page.screenshot(path=str(tmp_path / "lead-version.png"), full_page=True)
    accessible(page)

    page.get_by_role("link", name=f"Plan the move to version {target}").first.click()
    assert page.get_by_role("heading", name=f"Move to version {target}: dry run").is_visible()
    pathway = re.search(r"/pathways/([0-9a-f-]+)/migrate", page.url).group(1)
    service = site["app"].extensions["pathway"]["service"]
    assert service.pathway(pathway)["definition"]["version"] < target  # a dry run changes nothing
    accessible(page)
    page.get_by_role("button", name=f"Move this pathway to version {target}").click()
    assert page.get_by_role("status").filter(has_text=f"to {target}").is_visible()
    assert service.pathway(pathway)["definition"]["version"] == target
    assert page.get_by_role("heading", name=re.compile(f"ovcf_pathway \\(version {target}\\)")).is_visible()


def deploy(page: Any, folder: Path, content: bytes) -> None:
    """Upload one changed main diagram from the lead's page, as a lead picks a file."""
    folder.mkdir()
    (folder / "ovcf_pathway.bpmn").write_bytes(content)
    page.get_by_label("BPMN diagrams, DMN tables or safety properties").set_input_files(str(folder / "ovcf_pathway.bpmn"))
    page.get_by_role("button", name="Check and deploy").click()


def test_pages_fit_a_phone_width_and_work_from_the_keyboard(site: dict[str, Any], browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    try:
        url = site["url"]
        sign_in_browser(page, url, site["tokens"]["coordinator"])
        page.wait_for_load_state("networkidle")

        def fits() -> bool:
            return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")

        assert fits(), "the worklist scrolls sideways on a phone"
        accessible(page)
        # keyboard only: the skip link first, then on to the first task and open it
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.textContent") == "Skip to main content"
        page.keyboard.press("Enter")
        for _ in range(40):
            page.keyboard.press("Tab")
            if "/tasks/" in (page.evaluate("() => document.activeElement.getAttribute('href')") or ""):
                break
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*/tasks/"))
        page.wait_for_load_state("networkidle")
        assert fits(), "a task page scrolls sideways on a phone"
        accessible(page)
        patient = site["app"].extensions["pathway"]["service"].patient(external_id="DEMO-002")["id"]
        page.goto(f"{url}/patients/{patient}")
        assert fits(), "the patient page scrolls sideways on a phone"
    finally:
        context.close()
