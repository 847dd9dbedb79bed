"""Time-travel scenarios for the OVCF pathway, written in YAML under ``tests/scenarios/``.

Each scenario deploys ``pathways/`` + ``dmn/`` through ``engine.service.Service`` on a
``SimulatedClock``, enrols a patient and then plays its steps in order:

- ``complete: <elementId>`` with ``with: {field: value}`` answers (merged over
  ``_defaults.yaml`` unless the scenario says ``defaults: false``; ``null`` removes a default) completes the one ready task of that BPMN
  element; with ``rejected: [field, ...]`` the submission must be refused for those fields;
- ``at: <time>`` moves the clock and fires every timer that became due, in due order;
- ``message: <name>`` with ``variables:`` correlates a message (e.g. ``RedFlagReported``); with
  ``rejected: [name, ...]`` it must be refused for those missing payload variables;
- ``cancel: <reason>`` cancels the pathway as an administrator would; with ``refused: <text>`` the
  cancel must be refused (409) with a message containing the text, and nothing changes;
- ``anchor: {name: <time>}`` names an instant for later expectations (e.g. the last dose);
- ``expect:`` checks ready tasks, due dates, candidate groups, priorities, pending timers,
  decision results, status, the defaults a ready task's form shows (``form_defaults:
  {element: {field: value}}``) and pathway variables (``variables: {name: value}``); a
  value written as a time (``dose1+P6M``, ``today``) means that date.

A counterexample written by ``pathway verify`` names the folder it was found in (``files:``,
relative to the repository; ``lint: false`` when that model breaks a static check) and writes
every answer out (``defaults: false``).

A scenario may run at a site with its own policy: ``site_policy: {siteId: X, <SitePolicy output>:
value}`` adds that SitePolicy row (the default row's values with these overrides) to the
deployed copy of ``dmn/`` only, and ``variables: {siteId: X}`` enrols the patient there.

Times are ``<anchor>[+|-<ISO duration>]...``: ``start`` (enrolment instant), ``fracture``
(midnight of the fracture date = the enrolment day), ``today`` (midnight of the clock's day),
``now``, or a name defined with ``anchor:``. Answers may use ``today``, ``today+P3D`` ... for
dates. Nothing clinical is decided here: every threshold and interval comes from the BPMN/DMN.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.orm import Session, sessionmaker

from engine.clock import SimulatedClock
from engine.isotime import parse_duration
from engine.service import Conflict, InvalidInput, Service

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = Path(__file__).parent / "scenarios"
KEY = "ovcf_pathway"
ACTOR = "scenario:runner"
TERM = re.compile(r"([+-])(P[0-9YMWDTHS.]+)")


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


DEFAULTS: dict[str, dict[str, Any]] = load_yaml(SCENARIOS / "_defaults.yaml")
SCENARIO_FILES = sorted(p for p in SCENARIOS.glob("*.yaml") if not p.name.startswith("_"))


def bundle_files(*folders: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for folder in folders or (ROOT / "pathways", ROOT / "dmn"):
        for path in sorted(folder.glob("*")):
            if path.suffix in (".bpmn", ".dmn"):
                files[path.name] = path.read_bytes()
    return files


def with_site_policy(files: dict[str, bytes], row: dict[str, Any]) -> dict[str, bytes]:
    """A copy of ``files`` whose SitePolicy table has one more row, above the default row: the
    default's values with ``row``'s overrides, for ``siteId = row["siteId"]``. A scenario at a
    site with another policy (``site_policy:``) enrols with that ``siteId``; ``dmn/`` is untouched."""
    row = dict(row)
    site = row.pop("siteId")
    text = files["ovcf_pathway.dmn"].decode("utf-8")
    table = text[text.index('<decision id="SitePolicy"'):]
    table = table[:table.index("</decision>")]
    outputs = re.findall(r'<output [^>]*name="([^"]+)"', table)
    default = re.search(r'<rule id="SP_R1">.*?</rule>', table, re.S)
    assert default, "SitePolicy has no default row SP_R1"
    unknown = set(row) - set(outputs)
    assert not unknown, f"site_policy: {sorted(unknown)} are not SitePolicy outputs ({outputs})"
    rule = re.sub(r'id="([^"]+)"', r'id="\1_scenario"', default.group(0))
    rule = re.sub(r"<description>.*?</description>", "<description>Scenario site</description>", rule, flags=re.S)
    rule = re.sub(r"(<inputEntry [^>]*>\s*<text>)-(</text>)", lambda m: f'{m.group(1)}"{site}"{m.group(2)}', rule)
    entries = list(re.finditer(r"(<outputEntry [^>]*>\s*<text>)(.*?)(</text>)", rule, re.S))
    assert len(entries) == len(outputs), "SitePolicy default row does not match its outputs"
    for name, entry in reversed(list(zip(outputs, entries, strict=True))):
        if name in row:
            value = row[name]
            literal = f'"{value}"' if isinstance(value, str) else str(value).lower() if isinstance(value, bool) \
                else str(value)
            rule = rule[:entry.start(2)] + literal + rule[entry.end(2):]
    start = text.index(default.group(0))
    patched = text[:start] + rule + "\n      " + text[start:]
    return {**files, "ovcf_pathway.dmn": patched.encode("utf-8")}


# -- the runner ------------------------------------------------------------------------------------
class Scenario:
    def __init__(self, spec: dict[str, Any], svc: Service, clock: SimulatedClock, key: str = KEY) -> None:
        self.spec = spec
        self.svc = svc
        self.clock = clock
        self.start = clock.now()
        self.anchors: dict[str, datetime] = {"start": self.start, "fracture": _midnight(self.start.date())}
        self.pid = svc.enroll(key, actor=ACTOR, variables=spec.get("variables") or {})

    # times and values
    def instant(self, text: Any) -> datetime:
        if isinstance(text, datetime):
            return text if text.tzinfo else text.replace(tzinfo=UTC)
        if isinstance(text, date):
            return _midnight(text)
        raw = str(text).strip()
        match = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)", raw)
        if not match:
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
        name = match.group(1)
        if name == "now":
            base = self.clock.now()
        elif name == "today":
            base = _midnight(self.clock.now().date())
        else:
            assert name in self.anchors, f"unknown time anchor '{name}'"
            base = self.anchors[name]
        rest = raw[match.end():].replace(" ", "")
        pos = 0
        for term in TERM.finditer(rest):
            assert term.start() == pos, f"cannot read time '{raw}'"
            duration = parse_duration(term.group(2))
            base = duration.add_to(base, UTC) if term.group(1) == "+" else duration.subtract_from(base, UTC)
            pos = term.end()
        assert pos == len(rest), f"cannot read time '{raw}'"
        return base

    def answer(self, value: Any) -> Any:
        if isinstance(value, str) and re.match(r"^today([+-]P|$)", value):
            return self.instant(value).date().isoformat()
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return value

    # reading state
    def ready(self) -> list[dict[str, Any]]:
        return self.svc.tasks(pathway_id=self.pid, limit=200)["items"]

    def ready_ids(self) -> list[str]:
        return sorted(t["elementId"] for t in self.ready())

    def one_ready(self, element: str) -> dict[str, Any]:
        found = [t for t in self.ready() if t["elementId"] == element]
        assert found, f"'{element}' is not ready at {self.clock.now()}; ready: {self.ready_ids()}"
        return found[0]

    def decisions(self) -> dict[str, list[dict[str, Any]]]:
        """Every decision run so far, per element, oldest first, from the audit trail (the saved
        state keeps only recent history)."""
        log: dict[str, list[dict[str, Any]]] = {}
        for event in self.svc.timeline(self.pid):
            for decided in (event["details"] or {}).get("decisions", []):
                log.setdefault(decided["elementId"], []).append(
                    {"rules": decided["matchedRules"], "result": decided.get("output")})
        return log

    # steps
    def run(self) -> None:
        for index, step in enumerate(self.spec.get("steps") or []):
            where = f"step {index + 1} {_describe(step)}"
            try:
                self.step(step)
            except AssertionError as exc:
                raise AssertionError(f"{self.spec.get('name')}: {where}: {exc}") from None

    def step(self, step: dict[str, Any]) -> None:
        if "signal" in step:
            raise AssertionError(f"signal '{step['signal']}' comes from a track the verifier explored apart: "
                                 "replace this step with that track's steps up to the throw")
        if "at" in step:
            target = self.instant(step["at"])
            self.clock.set(target)
            self.svc.fire_due_timers()
        if "anchor" in step:
            for name, value in step["anchor"].items():
                self.anchors[name] = self.instant(value)
        if "complete" in step:
            element = step["complete"]
            defaults = DEFAULTS.get(element, {}) if self.spec.get("defaults", True) else {}
            answers = {**defaults, **(step.get("with") or {})}
            answers = {k: self.answer(v) for k, v in answers.items() if v is not None}
            task = self.one_ready(element)
            _maybe_rejected(step, lambda: self.svc.complete(task["id"], answers, actor=step.get("actor", ACTOR)))
        if "message" in step:
            variables = {k: self.answer(v) for k, v in (step.get("variables") or {}).items()}
            _maybe_rejected(step, lambda: self.svc.correlate_message(self.pid, step["message"], actor=ACTOR,
                                                                     variables=variables))
        if "cancel" in step:  # an administrator cancels the pathway (POST /api/pathways/{id}/cancel)
            if "refused" in step:
                with pytest.raises(Conflict) as refused:
                    self.svc.change_status(self.pid, "cancel", actor=ACTOR, reason=step["cancel"])
                assert step["refused"] in str(refused.value), f"refusal '{refused.value}'"
            else:
                self.svc.change_status(self.pid, "cancel", actor=ACTOR, reason=step["cancel"])
        if "expect" in step:
            self.check(step["expect"])

    def check(self, expect: dict[str, Any]) -> None:
        ready = self.ready()
        ids = sorted(t["elementId"] for t in ready)
        if "ready" in expect:
            assert ids == sorted(expect["ready"]), f"ready tasks {ids} != {sorted(expect['ready'])}"
        for element in expect.get("ready_include") or []:
            assert element in ids, f"'{element}' should be ready; ready: {ids}"
        for element in expect.get("ready_exclude") or []:
            assert element not in ids, f"'{element}' should not be ready; ready: {ids}"
        for element, when in (expect.get("due") or {}).items():
            task = self.one_ready(element)
            assert task["due"] is not None, f"'{element}' has no due date"
            got = datetime.fromisoformat(task["due"])
            assert got == self.instant(when), f"'{element}' due {got.isoformat()} != {when} ({self.instant(when)})"
        for element, groups in (expect.get("groups") or {}).items():
            assert self.one_ready(element)["candidateGroups"] == sorted(groups), f"'{element}' candidate groups"
        for element, priority in (expect.get("priority") or {}).items():
            assert self.one_ready(element)["priority"] == priority, f"'{element}' priority"
        for element in expect.get("overdue") or []:
            assert self.one_ready(element)["overdue"], f"'{element}' should be overdue"
        pathway = self.svc.pathway(self.pid)
        if "status" in expect:
            assert pathway["status"] == expect["status"], f"status {pathway['status']}"
        timers = {t["elementId"] for t in pathway["timers"]}
        if "timers" in expect:
            assert timers == set(expect["timers"]), f"pending timers {sorted(timers)} != {sorted(expect['timers'])}"
        for element in expect.get("timers_include") or []:
            assert element in timers, f"timer '{element}' should be pending; pending: {sorted(timers)}"
        for element in expect.get("timers_exclude") or []:
            assert element not in timers, f"timer '{element}' should not be pending; pending: {sorted(timers)}"
        if expect.get("decisions"):
            self.check_decisions(expect["decisions"])
        for element in expect.get("not_evaluated") or []:
            assert element not in self.decisions(), f"decision task '{element}' should not have run"
        for element, fields in (expect.get("form_defaults") or {}).items():
            form = self.svc.task(self.one_ready(element)["id"]).get("form") or {}
            shown = {f["id"]: f.get("default") for f in form.get("fields", [])}
            for name, want in fields.items():
                assert _same(_plain(shown.get(name)), self.answer_or_date(want)), \
                    f"'{element}' form default {name} = {shown.get(name)!r}, expected {want!r}"
        for name, want in (expect.get("variables") or {}).items():
            got = pathway["variables"].get(name)
            assert _same(_plain(got), self.answer_or_date(want)), f"variable {name} = {got!r}, expected {want!r}"

    def answer_or_date(self, value: Any) -> Any:
        """An expected value; a time such as ``dose1+P6M`` or ``today`` means that date."""
        if isinstance(value, str) and re.match(r"^[A-Za-z_][A-Za-z0-9_]*([+-]P[0-9YMWDTHS.]+)*$", value):
            name = re.match(r"^[A-Za-z_][A-Za-z0-9_]*", value).group(0)
            if name in self.anchors or name in ("today", "now"):
                return self.instant(value).date().isoformat()
        return self.answer(value)

    def check_decisions(self, expected: dict[str, Any]) -> None:
        log = self.decisions()
        for element, want in expected.items():
            assert element in log, f"decision task '{element}' has not run; ran: {sorted(log)}"
            last = log[element][-1]
            want = dict(want)
            rules = want.pop("_rules", None)
            if rules is not None:
                assert last["rules"] == rules, f"'{element}' matched {last['rules']} != {rules}"
            result = last["result"]
            for key, value in want.items():
                if key == "_value":
                    got = result
                elif isinstance(result, list):
                    got = [row.get(key) for row in result]
                else:
                    assert isinstance(result, dict), f"'{element}' result {result!r} has no '{key}'"
                    got = result.get(key)
                assert _same(got, _plain(value)), f"'{element}'.{key} = {got!r}, expected {value!r}"


def _maybe_rejected(step: dict[str, Any], call: Callable[[], Any]) -> None:
    """Run the step's command; with ``rejected: [field, ...]`` it must be refused for exactly those."""
    if "rejected" not in step:
        call()
        return
    with pytest.raises(InvalidInput) as caught:
        call()
    fields = sorted({e.field for e in caught.value.errors})
    assert fields == sorted(step["rejected"]), f"rejected fields {fields} != {sorted(step['rejected'])}"


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, int | float) and not isinstance(want, bool) and isinstance(got, int | float | Decimal) \
            and not isinstance(got, bool):
        return abs(float(got) - float(want)) < 5e-5  # numbers are written with up to 4 decimals
    if isinstance(want, list) and isinstance(got, list):
        return len(got) == len(want) and all(_same(g, w) for g, w in zip(got, want, strict=True))
    return got == want


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) and not isinstance(value, datetime) else value


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def task_answers(task: dict[str, Any], clock: SimulatedClock, extra: dict[str, Any]) -> dict[str, Any]:
    """A ready task's ``_defaults.yaml`` answers with ``extra`` over them, ``today`` /
    ``today+P7D`` on the clock's day, validated against its form as the service does: what a
    test driving the runtime directly (not through a scenario) submits."""
    from engine.forms import validate_submission

    today = _midnight(clock.now().date())
    values = {}
    for key, value in {**DEFAULTS.get(task["elementId"], {}), **extra}.items():
        if isinstance(value, str) and value.startswith("today"):
            value = (today if value == "today" else parse_duration(value[6:]).add_to(today, UTC)).date().isoformat()
        values[key] = value
    return validate_submission(task["form"], values)


def _describe(step: dict[str, Any]) -> str:
    keys = [k for k in ("at", "complete", "message", "cancel", "expect") if k in step]
    return ", ".join(f"{k}={step[k]!r}" if k != "expect" else "expect" for k in keys)


# -- tests -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return bundle_files()


def test_scenario_files_exist() -> None:
    assert SCENARIO_FILES, "no scenarios under tests/scenarios"
    for path in SCENARIO_FILES:
        spec = load_yaml(path)
        assert spec.get("name") and spec.get("steps"), f"{path.name}: needs a name and steps"


def run_scenario(spec: dict[str, Any], files: dict[str, bytes], session_factory: sessionmaker[Session]) -> None:
    """Deploy ``files`` (or the folder a scenario names with ``files:``, relative to the repository,
    as the verifier writes its counterexamples) and play the scenario."""
    if spec.get("files"):
        files = bundle_files(ROOT / spec["files"])
    start = spec.get("start") or "2026-03-02T09:00:00Z"
    start = start if isinstance(start, datetime) else datetime.fromisoformat(str(start).replace("Z", "+00:00"))
    clock = SimulatedClock(start if start.tzinfo else start.replace(tzinfo=UTC))
    svc = Service(session_factory, clock)
    if spec.get("site_policy"):
        files = with_site_policy(files, spec["site_policy"])
    deployed = svc.deploy(files, actor="lead:scenario", lint=spec.get("lint", True))
    Scenario(spec, svc, clock, deployed["key"]).run()


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_scenario(path: Path, files: dict[str, bytes], session_factory: sessionmaker[Session]) -> None:
    run_scenario(load_yaml(path), files, session_factory)


# -- safety properties -----------------------------------------------------------------------------
BPMN_NS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def _graph(process) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """Sequence flows plus interrupting boundary events as edges host -> boundary (one scope)."""
    nodes = {n.get("id"): n for n in process if isinstance(n.tag, str) and n.get("id")}
    edges: dict[str, list[str]] = {}
    for flow in process.findall(f"{BPMN_NS}sequenceFlow"):
        edges.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    for node in process.findall(f"{BPMN_NS}boundaryEvent"):
        if node.get("cancelActivity", "true") == "true":
            edges.setdefault(node.get("attachedToRef"), []).append(node.get("id"))
    return edges, nodes


def _reachable(edges: dict[str, list[str]], start: str, blocked: set[str]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        current = todo.pop()
        if current in seen or current in blocked:
            continue
        seen.add(current)
        todo.extend(edges.get(current, []))
    return seen


def test_denosumab_only_ends_through_the_exit_plan() -> None:
    """clinical-design 4.5: no path of the main token ends the denosumab course without UT12.

    Interrupting boundaries count as paths; the tokens of non-interrupting escalations (late,
    critical, follow-on late) end on their own end events but never complete the call activity
    while the main token is still waiting, and the main token's only end is End_Dmab.
    """
    from lxml import etree

    root = etree.parse(str(ROOT / "pathways" / "denosumab.bpmn")).getroot()
    process = root.find(f"{BPMN_NS}process")
    edges, nodes = _graph(process)
    ends = {i for i, n in nodes.items() if n.tag == f"{BPMN_NS}endEvent"}
    main = _reachable(edges, "Start_Dmab", blocked=set())
    assert main & ends == {"End_Dmab"}
    assert not _reachable(edges, "Start_Dmab", blocked={"UT12_ExitPlan"}) & ends
    # every way out of the dose loop (stop at a dose, discontinue or new fracture while waiting
    # or at the dose task) leads to DT10 and the exit plan
    for exit_event in ("BE_WaitDiscontinue", "BE_WaitNewFracture", "BE_DoseDiscontinue", "BE_DoseNewFracture",
                       "BE_FirstDoseNewFracture", "BE_DoseExitPlan"):
        assert "UT12_ExitPlan" in _reachable(edges, exit_event, blocked=set())
    # the exit plan itself has no way out except a follow-on dose or back into the dose cycle
    after_plan = _reachable(edges, "UT12_ExitPlan", blocked={"SP_Wait"})
    assert after_plan & ends == {"End_Dmab"} and "UT13_FollowOnZol" in after_plan
    # the critical review's START_EXIT_PLAN throws the error that BE_DoseExitPlan catches
    dose_scope = process.find(f"{BPMN_NS}subProcess[@id='SP_Dose']")
    inner, _ = _graph(dose_scope)
    critical_exit = dose_scope.find(f"{BPMN_NS}endEvent[@id='End_CriticalExit']/{BPMN_NS}errorEventDefinition")
    caught = process.find(f"{BPMN_NS}boundaryEvent[@id='BE_DoseExitPlan']/{BPMN_NS}errorEventDefinition")
    assert critical_exit.get("errorRef") == caught.get("errorRef")
    assert "End_CriticalExit" in _reachable(inner, "UT_CriticalDose", blocked=set())


_INTAKE = [{"complete": "UT1_Intake"}]
_CLOSED = [{"complete": "UT1_Intake"}, {"complete": "UT_Analgesia"}, {"complete": "UT3_Workup"},
           {"complete": "UT4_Prescribe", "with": {"therapyClass": "ORAL_BP", "chosenAgent": "alendronate"}},
           {"at": "fracture+P4W+PT9H", "complete": "UT5_Reassess", "with": {"painScore": 2}},
           {"at": "fracture+P12W+PT10H", "complete": "UT7_ThreeMonth", "with": {"painScore": 2}},
           {"expect": {"decisions": {"BRT_DT7": {"referralDecision": "CLOSE_ACUTE_PHASE"}}}}]
_IR_CONSULT = [{"complete": "UT1_Intake"}, {"complete": "UT_Analgesia"},
               {"at": "fracture+P4W", "complete": "UT5_Reassess", "with": {"parenteralOpioidOrAdmission": True}},
               {"expect": {"ready_include": ["UT8_Consult"]}}]
_IR_DONE = [*_IR_CONSULT,
            {"complete": "UT8_Consult", "with": {"mriEdemaAtLevel": "POSITIVE", "painConcordantWithLevel": True,
                                                 "heightLossPct": 25}},
            {"complete": "UT_Consent", "with": {"aaosAcrControversyDiscussed": True, "procedureChoice": "BKP"}},
            {"at": "now+P5D", "complete": "UT_Procedure", "with": {"procedureDate": "today"}},
            {"at": "now+P2W", "complete": "UT9_PostProcedure"},
            {"expect": {"ready_exclude": ["UT9_PostProcedure", "UT8_Consult", "UT_Analgesia"]}}]
# every kind of wait state of the pathway: (steps to get there, is the acute track interruptible there?)
RED_FLAG_POINTS: dict[str, tuple[list[dict[str, Any]], bool]] = {
    "intake open (nothing triaged yet)": ([], False),
    "awaiting urgent MRI": ([
        {"complete": "UT1_Intake", "with": {"subjectiveRadicularSymptoms": True}},
        {"expect": {"ready_include": ["UT_UrgentMRI"]}}], True),
    "surgical referral open": ([
        {"complete": "UT1_Intake", "with": {"sphincterDysfunction": True}},
        {"expect": {"ready_include": ["UT_SurgicalReferral"]}}], False),
    "analgesia plan open": (_INTAKE, True),
    "waiting for week 4": ([*_INTAKE, {"complete": "UT_Analgesia"}], True),
    "4-6 week reassessment open": ([*_INTAKE, {"complete": "UT_Analgesia"}, {"at": "fracture+P4W"}], True),
    "overdue chase open": ([*_INTAKE, {"complete": "UT_Analgesia"}, {"at": "fracture+P6W"}], True),
    "imaging task open": ([
        *_INTAKE, {"complete": "UT_Analgesia"},
        {"at": "fracture+P4W", "complete": "UT5_Reassess", "with": {"painTrend": "WORSENING"}},
        {"expect": {"ready_include": ["UT_ImagingNow"]}}], True),
    "waiting for day 57": ([
        *_INTAKE, {"complete": "UT_Analgesia"}, {"at": "fracture+P4W", "complete": "UT5_Reassess"}], True),
    "8-week check open": ([
        *_INTAKE, {"complete": "UT_Analgesia"},
        {"at": "fracture+P4W", "complete": "UT5_Reassess"}, {"at": "fracture+P57D"}], True),
    "waiting for 3 months": ([
        *_INTAKE, {"complete": "UT_Analgesia"},
        {"at": "fracture+P4W", "complete": "UT5_Reassess", "with": {"painScore": 2}}], True),
    "3-month reassessment open": ([
        *_INTAKE, {"complete": "UT_Analgesia"},
        {"at": "fracture+P4W", "complete": "UT5_Reassess", "with": {"painScore": 2}}, {"at": "fracture+P12W"}], True),
    "red flag found at reassessment, assessment open": ([
        *_INTAKE, {"complete": "UT_Analgesia"},
        {"at": "fracture+P4W", "complete": "UT5_Reassess", "with": {"newRedFlag": True}},
        {"expect": {"ready_include": ["UT_UrgentRedFlag"]}}], False),
    "IR consultation open": (_IR_CONSULT, True),
    "IR episode ended (procedure done)": (_IR_DONE, False),
    "acute phase closed, on oral bisphosphonate": (_CLOSED, False),
    "month 5, bone therapy only": ([*_CLOSED, {"at": "fracture+P5M"}], False),
    "a reported red flag already being assessed": ([
        *_INTAKE, {"complete": "UT_Analgesia"}, {"message": "RedFlagReported"},
        {"expect": {"ready_include": ["UT_RedFlagReported"]}}], False),
    "a late red flag's referral open": ([
        *_CLOSED, {"at": "fracture+P5M", "message": "RedFlagReported"},
        {"complete": "UT_RedFlagReported", "with": {"objectiveMotorDeficit": True}},
        {"expect": {"ready_include": ["UT_RedFlagReferral"]}}], False),
}
# work of the acute track that a red flag withdraws (SP-A, the urgent MRI, the IR episode)
ACUTE_INTERRUPTIBLE = {"UT_Analgesia", "UT_Calcitonin", "UT_StopCalcitonin", "UT_Mobilise", "UT5_Reassess",
                       "UT_ChaseUT5", "UT_ImagingNow", "UT6_EightWeek", "UT_ImagingPersistent", "UT7_ThreeMonth", "UT_ChaseUT7",
                       "UT_UrgentMRI", "UT8_Consult", "UT_ChaseIR", "UT_IRMRI", "UT_Consent", "UT_Procedure",
                       "UT9_PostProcedure", "UT_IROutcome"}


@pytest.mark.parametrize("point", sorted(RED_FLAG_POINTS))
def test_red_flag_at_every_wait_state_yields_one_urgent_task(
        point: str, files: dict[str, bytes], session_factory: sessionmaker[Session]) -> None:
    """Issue 3 / clinical-design 4.2 ESP-1: at every wait state while the pathway runs (before
    triage, in the acute phase, during the IR episode, after the acute phase or the IR episode
    ended, during bone therapy, with another red flag open) RedFlagReported is accepted and gives
    exactly one new urgent red-flag assessment; only acute-track work is withdrawn (bone therapy,
    coordination, open urgent tasks stay), and a surgical finding leads to exactly one surgical
    referral: the acute track's UT_SurgicalReferral when it was interrupted, else
    ESP_RedFlag's own UT_RedFlagReferral."""
    steps, interruptible = RED_FLAG_POINTS[point]
    clock = SimulatedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    svc = Service(session_factory, clock)
    svc.deploy(files, actor="lead:scenario")
    run = Scenario({"name": point, "steps": steps}, svc, clock)
    run.run()
    assert svc.pathway(run.pid)["status"] == "running"
    before = {t["id"]: t["elementId"] for t in run.ready()}
    timers_before = {t["elementId"] for t in svc.pathway(run.pid)["timers"]}
    assert "RedFlagReported" in svc.pathway(run.pid)["waitingMessages"]
    svc.correlate_message(run.pid, "RedFlagReported", actor=ACTOR, variables={"redFlagReport": point})
    after = {t["id"]: t for t in run.ready()}
    new = [t for i, t in after.items() if i not in before]
    assert [t["elementId"] for t in new] == ["UT_RedFlagReported"], run.ready_ids()
    [urgent] = new
    assert urgent["priority"] == 100 and urgent["candidateGroups"] == ["clinician"]
    assert datetime.fromisoformat(urgent["due"]) == clock.now() + timedelta(hours=1)
    withdrawn = {e for i, e in before.items() if i not in after}
    acute_open = {e for e in before.values() if e in ACUTE_INTERRUPTIBLE}
    # acute-track work is withdrawn where it runs; everything else (bone therapy, coordination,
    # surgical referral, other urgent tasks) is untouched
    assert withdrawn == acute_open, (point, withdrawn, acute_open)
    assert bool(acute_open) <= interruptible, point
    timers_after = {t["elementId"] for t in svc.pathway(run.pid)["timers"]}
    bone = {"TC_BTM", "TC_FiveYears", "TC_DXA"}
    assert timers_before & bone <= timers_after, point
    # urgent assessment -> DT1 -> exactly one surgical referral
    ready_before = {t["id"] for t in run.ready()}
    svc.complete(urgent["id"], {**DEFAULTS["UT_RedFlagReported"], "objectiveMotorDeficit": True}, actor=ACTOR)
    assert run.decisions()["BRT_DT1_Reported"][-1]["result"]["triageCategory"] == "EMERGENT_SURGICAL"
    referrals = [t for t in run.ready() if t["id"] not in ready_before
                 and t["elementId"] in ("UT_SurgicalReferral", "UT_RedFlagReferral")]
    # the acute track takes the DT1 result when this red flag (or an earlier one still being
    # assessed) interrupted it; otherwise ESP_RedFlag refers
    waiting = interruptible or point == "a reported red flag already being assessed"
    expected = "UT_SurgicalReferral" if waiting else "UT_RedFlagReferral"
    assert [t["elementId"] for t in referrals] == [expected], (point, run.ready_ids())
    assert referrals[0]["priority"] == 100
    assert datetime.fromisoformat(referrals[0]["due"]) == clock.now() + timedelta(hours=1)
    assert svc.pathway(run.pid)["waitingMessages"].count("RedFlagReported") == 1


def test_red_flag_reported_has_one_catcher_and_interrupts_only_the_acute_track() -> None:
    """SpiffWorkflow hands a message to every waiting catcher: RedFlagReported must have exactly
    one (the non-interrupting event sub-process ESP_RedFlag), and its signal interrupts only the
    acute track (SP-A, the urgent MRI, the IR episode), never bone therapy."""
    from lxml import etree

    catchers, interrupted = [], set()
    for path in sorted((ROOT / "pathways").glob("*.bpmn")):
        root = etree.parse(str(path)).getroot()
        messages = {m.get("id") for m in root.iter(f"{BPMN_NS}message") if m.get("name") == "RedFlagReported"}
        signals = {m.get("id") for m in root.iter(f"{BPMN_NS}signal") if m.get("name") == "AcutePhaseInterrupted"}
        for definition in root.iter(f"{BPMN_NS}messageEventDefinition"):
            if definition.get("messageRef") in messages:
                catchers.append(definition.getparent())
        for definition in root.iter(f"{BPMN_NS}signalEventDefinition"):
            event = definition.getparent()
            if definition.get("signalRef") in signals and event.tag == f"{BPMN_NS}boundaryEvent":
                assert event.get("cancelActivity", "true") == "true", event.get("id")
                interrupted.add(event.get("attachedToRef"))
    assert [c.get("id") for c in catchers] == ["ESP4_Start"]
    [start] = catchers
    assert start.get("isInterrupting") == "false" and start.getparent().get("triggeredByEvent") == "true"
    assert start.getparent().getparent().tag == f"{BPMN_NS}process"
    assert interrupted == {"SP_A_Conservative", "UT_UrgentMRI", "CA_IR"}


LANE_GROUPS = {"Care coordinator": "coordinator", "Clinician": "clinician",
               "Interventional radiology": "interventional_radiology",
               "Endocrinology / metabolic bone": "endocrinology"}
CAMUNDA_NS = "{http://camunda.org/schema/1.0/bpmn}"


@pytest.mark.parametrize("path", sorted((ROOT / "pathways").glob("*.bpmn")), ids=lambda p: p.stem)
def test_every_user_task_has_a_group_a_due_date_and_a_typed_form(path: Path) -> None:
    """Issue 3: every user task has form fields with types/constraints, a candidate group and a
    due date; a task drawn in a lane is offered to that lane's group."""
    from lxml import etree

    root = etree.parse(str(path)).getroot()
    lane_of = {ref.text: lane.get("name") for lane in root.iter(f"{BPMN_NS}lane")
               for ref in lane.iter(f"{BPMN_NS}flowNodeRef")}
    assert len(root.findall(f"{BPMN_NS}collaboration/{BPMN_NS}participant")) == 1
    tasks = list(root.iter(f"{BPMN_NS}userTask"))
    # a process with no task of its own (risk_reassessment: decisions only) must not wait either
    waits = [e for tag in ("intermediateCatchEvent", "receiveTask", "boundaryEvent") for e in root.iter(f"{BPMN_NS}{tag}")]
    assert tasks or not waits, "a process that waits must give someone a task"
    for task in tasks:
        tid = task.get("id")
        groups = [g.strip() for g in (task.get(f"{CAMUNDA_NS}candidateGroups") or "").split(",") if g.strip()]
        assert groups, f"{tid}: no candidate group"
        assert task.get(f"{CAMUNDA_NS}dueDate"), f"{tid}: no due date"
        if tid in lane_of:
            assert LANE_GROUPS[lane_of[tid]] in groups, f"{tid}: lane {lane_of[tid]} vs groups {groups}"
        fields = list(task.iter(f"{CAMUNDA_NS}formField"))
        assert fields, f"{tid}: no form fields"
        for field in fields:
            assert field.get("type") in ("string", "long", "double", "boolean", "date", "enum"), tid
        assert any(c.get("name") == "required" for c in task.iter(f"{CAMUNDA_NS}constraint")), \
            f"{tid}: no required field"


# -- bounded exploration of the denosumab cycle -------------------------------------------------------
DMAB_VARIANTS: dict[str, list[dict[str, Any]]] = {
    "UT11_FirstDose": [{}, {"discontinuationRequested": True}, {"newVertebralFractureSinceLastDose": True}],
    "UT11_Dose": [{}, {"discontinuationRequested": True}],
    "UT12_ExitPlan": [{"therapyClass": "IV_ZOLEDRONATE"}, {"therapyClass": "ORAL_BP"}, {"therapyClass": "DENOSUMAB"}],
    "UT_Withdrawal": [{}, {"discontinuationRequested": True}],
    "UT_CriticalDose": [{}, {"criticalAction": "START_EXIT_PLAN"}],
    "UT_PreDoseCheck": [{}, {"hypocalcemiaUncorrected": True}],
    "UT_DoseHeld": [{"doseHeldDecision": "RECHECK"}, {"doseHeldDecision": "START_EXIT_PLAN"}],
    "UT_FirstDoseHeld": [{"doseHeldDecision": "START_EXIT_PLAN"}],
}
# every message the pathway may be waiting for; PatientWithdrew cancels the whole pathway (and the
# denosumab course with it), RedFlagReported cancels the acute phase only
DMAB_MESSAGES = ({"name": "DenosumabDiscontinuationRequested", "variables": {"discontinuationRequested": True}},
                 {"name": "NewVertebralFracture", "variables": {"newVertebralFractureSinceLastDose": True}},
                 {"name": "PatientWithdrew", "variables": {}},
                 {"name": "RedFlagReported", "variables": {}})
DMAB_ELEMENTS = {"UT11_FirstDose", "UT11_Dose", "UT12_ExitPlan", "UT13_FollowOnZol", "UT_FollowOnOral",
                 "UT_LateDose", "UT_CriticalDose", "UT_FirstDoseLate", "UT_FollowOnLate",
                 "UT_Withdrawal", "UT_WithdrawalExitPlan", "UT_WithdrawalHandover", "UT_ExitLabs", "UT_WdExitLabs",
                 "UT_FollowOnZolCheck", "UT_FollowOnZolNotGiven", "UT_FirstPreDoseCheck", "UT_PreDoseCheck",
                 "UT_FirstDoseHeld", "UT_DoseHeld"}
DOSES = ("UT11_FirstDose", "UT11_Dose")


def test_no_explored_path_ends_denosumab_without_the_exit_plan() -> None:
    """Explore (bounded) every task answer variant, message (withdrawal included) and timer at
    every wait state of the denosumab cycle, and check every way the course or the pathway ends:

    - the course ends (End_Dmab) only after UT12 (exit plan) and a follow-on task;
    - the pathway ends after a withdrawal only once DT10 has run and the withdrawal exit plan
      (endocrinology, required follow-on due date) is done, whenever a dose had been given;
      without a dose no exit plan is asked for;
    - at every explored state before a withdrawal, RedFlagReported is accepted and gives exactly
      one new urgent red-flag assessment without touching the denosumab course.
    """
    from engine.models.bundle import load_bundle
    from engine.runtime import PathwayRuntime

    bundle = load_bundle(bundle_files())
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def complete(rt: PathwayRuntime, element: str, extra: dict[str, Any], clock: SimulatedClock) -> None:
        task = next(t for t in rt.ready_human_tasks() if t["elementId"] == element)
        rt.complete_task(task["id"], task_answers(task, clock, extra))

    clock = SimulatedClock(start)
    rt = PathwayRuntime.start(bundle, clock, {})
    complete(rt, "UT1_Intake", {}, clock)
    complete(rt, "UT3_Workup", {}, clock)
    complete(rt, "UT4_Prescribe", {"therapyClass": "DENOSUMAB", "chosenAgent": "denosumab"}, clock)

    def in_course(rt: PathwayRuntime) -> set[str]:
        return {t["elementId"] for t in rt.ready_human_tasks()} & DMAB_ELEMENTS

    frontier = [(rt.dump(), start, ())]
    seen: set[tuple] = set()
    explored = 0
    red_flag_probes = 0
    endings: dict[str, int] = {}
    while frontier and explored < 1500:
        state, now, history = frontier.pop(0)  # breadth first: a state is kept at its shortest history
        explored += 1
        clock = SimulatedClock(now)
        probe = PathwayRuntime.load(state, bundle, clock)
        withdrawn = "PatientWithdrew" in history
        if {"End_Dmab", "BRT_FollowOnAgent"} & set(probe.completed_elements()):
            # the follow-on is in place: the course ends (End_Dmab), after zoledronic acid once CTX has
            # been monitored (DT10b, checked by the scenarios denosumab_exit_ctx_*)
            endings["course ended (End_Dmab)"] = endings.get("course ended (End_Dmab)", 0) + 1
            assert not withdrawn, history
            assert "UT12_ExitPlan" in history, f"denosumab ended without the exit plan: {history}"
            assert history[-1] in ("UT13_FollowOnZol", "UT_FollowOnOral"), history
            continue
        if probe.status == "completed":
            assert withdrawn, f"pathway ended without End_Dmab or a withdrawal: {history}"
            after = history[history.index("PatientWithdrew"):]
            dosed = any(step in DOSES for step in history[:history.index("PatientWithdrew")])
            kind = "withdrawn after a dose" if dosed else "withdrawn before any dose"
            endings[kind] = endings.get(kind, 0) + 1
            assert "BRT_WdDT10" in probe.completed_elements() if dosed else True, history
            assert ("UT_WithdrawalExitPlan" in after) == dosed, f"withdrawal exit plan vs doses: {history}"
            assert after[-1] == "UT_WithdrawalHandover", history
            continue
        if len(history) >= (16 if withdrawn else 11):  # a dose is two steps: its check, then the dose
            continue
        key = (tuple(sorted(in_course(probe))), tuple(e for _, e in probe.pending_timers()),
               tuple(probe.waiting_messages()), history.count("UT11_Dose"), "UT12_ExitPlan" in history,
               withdrawn, any(step in DOSES for step in history))
        if key in seen:
            continue
        seen.add(key)
        if not withdrawn:
            # issue 3: a red flag reported at any wait state of bone therapy gives exactly one new
            # urgent assessment and leaves the denosumab course as it is
            assert "RedFlagReported" in probe.waiting_messages(), history
            flagged = PathwayRuntime.load(state, bundle, SimulatedClock(now))
            open_ids = {t["id"] for t in flagged.ready_human_tasks()}
            flagged.correlate_message("RedFlagReported", {})
            new = [t["elementId"] for t in flagged.ready_human_tasks() if t["id"] not in open_ids]
            assert new == ["UT_RedFlagReported"], (history, new)
            assert in_course(flagged) == in_course(probe), history
            red_flag_probes += 1
        actions: list[tuple[str, Any]] = []
        for element in sorted(in_course(probe)):
            for extra in DMAB_VARIANTS.get(element, [{}]):
                actions.append(("task", (element, extra)))
        for message in DMAB_MESSAGES:
            if message["name"] in probe.waiting_messages():
                actions.append(("message", message))
        if probe.next_due_at() is not None:
            actions.append(("timer", probe.next_due_at()))
        for kind, action in actions:
            clock = SimulatedClock(now)
            branch = PathwayRuntime.load(state, bundle, clock)
            if kind == "task":
                complete(branch, action[0], action[1], clock)
                step = action[0]
            elif kind == "message":
                branch.correlate_message(action["name"], action["variables"])
                step = action["name"]
            else:
                clock.set(action)
                branch.fire_due_timers()
                step = "timer"
            frontier.append((branch.dump(), clock.now(), (*history, step)))
    print(f"explored {explored} states, endings: {endings}, red-flag probes: {red_flag_probes}")
    assert explored > 50 and red_flag_probes > 50, (explored, red_flag_probes)
    assert set(endings) == {"course ended (End_Dmab)", "withdrawn after a dose", "withdrawn before any dose"}, endings
