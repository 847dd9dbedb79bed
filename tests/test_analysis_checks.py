"""Static checks of issue 7: each fires on a broken model (naming file and element) and not on the
fixed one. Models are small Camunda-Modeler style processes written inline; the DMN is
``tests/fixtures/bundle/triage.dmn`` (decision ``Triage``: neuroDeficit, painScore -> urgency)."""

from __future__ import annotations

from pathlib import Path

from engine.models.bundle import lint_paths, load_bundle
from engine.problems import ModelError, Problem

TRIAGE = (Path(__file__).parent / "fixtures" / "bundle" / "triage.dmn").read_bytes()

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  id="Defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:message id="Msg_stop" name="StopRequested" />
  <bpmn:process id="p" isExecutable="true">
"""
TAIL = """  </bpmn:process>
</bpmn:definitions>
"""
START_FORM = """<bpmn:startEvent id="S"><bpmn:extensionElements><camunda:formData>
      <camunda:formField id="painScore" label="Pain" type="long"><camunda:validation>
        <camunda:constraint name="required" /></camunda:validation></camunda:formField>
      <camunda:formField id="neuroDeficit" label="Deficit" type="boolean"><camunda:validation>
        <camunda:constraint name="required" /></camunda:validation></camunda:formField>
    </camunda:formData></bpmn:extensionElements><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>"""


def field(fid: str, ftype: str = "boolean", required: bool = True, record: str | None = None,
          values: tuple[str, ...] = ()) -> str:
    props = f'<camunda:properties><camunda:property id="record" value="{record}" /></camunda:properties>' \
        if record else ""
    checks = '<camunda:validation><camunda:constraint name="required" /></camunda:validation>' if required else ""
    options = "".join(f'<camunda:value id="{v}" name="{v}" />' for v in values)
    return f'<camunda:formField id="{fid}" label="{fid}" type="{ftype}">{props}{checks}{options}</camunda:formField>'


def task(tid: str, fields: str, incoming: str, outgoing: str, due: str = "P1D") -> str:
    return (f'<bpmn:userTask id="{tid}" name="{tid}" camunda:candidateGroups="clinician" camunda:dueDate="{due}">'
            f'<bpmn:extensionElements><camunda:formData>{fields}</camunda:formData></bpmn:extensionElements>'
            f'<bpmn:incoming>{incoming}</bpmn:incoming><bpmn:outgoing>{outgoing}</bpmn:outgoing></bpmn:userTask>')


def flow(fid: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}" />'
    return (f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}"><bpmn:conditionExpression '
            f'xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>')


def findings(body: str, with_dmn: bool = True) -> list[Problem]:
    files: dict[str, bytes] = {"check.bpmn": (HEAD + body + TAIL).encode()}
    if with_dmn:
        files["triage.dmn"] = TRIAGE
    try:
        return load_bundle(files).warnings
    except ModelError as exc:
        return exc.problems


def on(problems: list[Problem], element: str) -> list[str]:
    return [p.message for p in problems if p.element == element and p.file == "check.bpmn"]


# a decision, a gateway on its result, two tasks; {cond} is the urgent condition
TRIAGE_FLOW = START_FORM + """
    <bpmn:businessRuleTask id="B" name="Triage" camunda:decisionRef="Triage" camunda:resultVariable="urgency"
      camunda:mapDecisionResult="singleEntry"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:exclusiveGateway id="G" default="F4"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:outgoing>F4</bpmn:outgoing></bpmn:exclusiveGateway>
    {urgent}
    {routine}
    <bpmn:endEvent id="E"><bpmn:incoming>F5</bpmn:incoming><bpmn:incoming>F6</bpmn:incoming></bpmn:endEvent>
    """ + flow("F1", "S", "B") + flow("F2", "B", "G") + "{f3}" + flow("F4", "G", "Routine") \
    + flow("F5", "Urgent", "E") + flow("F6", "Routine", "E")


def triage_model(condition: str, urgent_fields: str = "", routine_fields: str = "") -> str:
    ok = field("done", record="test")
    return TRIAGE_FLOW.format(
        urgent=task("Urgent", urgent_fields or ok, "F3", "F5"),
        routine=task("Routine", routine_fields or ok, "F4", "F6"),
        f3=flow("F3", "G", "Urgent", condition))


# -- names -----------------------------------------------------------------------------------------
def test_a_misspelt_name_is_refused_with_did_you_mean() -> None:
    broken = findings(triage_model("${urgensy = &#34;urgent&#34;}".replace("&#34;", '"')))
    [message] = on(broken, "F3")
    assert "'urgensy'" in message and "nothing in the pathway writes" in message and "did you mean 'urgency'" in message
    assert on(findings(triage_model('${urgency = "urgent"}')), "F3") == []


def test_a_misspelt_member_of_a_decision_result_is_refused() -> None:
    model = triage_model('${urgency = "urgent"}').replace(
        'camunda:mapDecisionResult="singleEntry"', 'camunda:mapDecisionResult="singleResult"')
    broken = findings(model.replace('${urgency = "urgent"}', '${urgency.urgncy = "urgent"}'))
    [message] = on(broken, "F3")
    assert "'urgency' has no member 'urgncy'" in message and "did you mean 'urgency'" in message
    assert on(findings(model.replace('${urgency = "urgent"}', '${urgency.urgency = "urgent"}')), "F3") == []


def test_a_name_read_before_any_path_writes_it_is_refused() -> None:
    # the urgent task's due date reads an answer of the routine task, which never runs before it
    routine = field("reviewDate", "date", record="test")
    broken = findings(triage_model('${urgency = "urgent"}', routine_fields=routine).replace(
        'camunda:dueDate="P1D"><bpmn:extensionElements><camunda:formData><camunda:formField id="done"',
        'camunda:dueDate="${reviewDate}"><bpmn:extensionElements><camunda:formData><camunda:formField id="done"', 1))
    assert any("before anything writes it" in m for m in on(broken, "Urgent"))


def test_an_optional_answer_must_be_tested_for_null_where_it_is_read() -> None:
    body = START_FORM + task("Ask", field("flag", required=False), "F1", "F2") + """
    <bpmn:exclusiveGateway id="G" default="F4"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:outgoing>F4</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="E1"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="E2"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>""" + flow("F1", "S", "Ask") \
        + flow("F2", "Ask", "G") + "{f3}" + flow("F4", "G", "E2")
    broken = findings(body.format(f3=flow("F3", "G", "E1", "${flag != true}")), with_dmn=False)
    [message] = on(broken, "F3")
    assert "not written on every path" in message and "flag = null" in message
    fixed = findings(body.format(f3=flow("F3", "G", "E1", "${flag = null or flag = false}")), with_dmn=False)
    assert on(fixed, "F3") == []


def test_a_declared_input_and_a_gateway_guard_count_as_written() -> None:
    """A process 'inputs' property declares enrolment variables; a condition that holds only when
    a variable is set (x != null, x = "A") makes it set on that flow."""
    body = START_FORM + task("Ask", field("dose", "date", required=False), "F1", "F2") + """
    <bpmn:exclusiveGateway id="G" default="F4"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:outgoing>F4</bpmn:outgoing></bpmn:exclusiveGateway>""" + task(
        "Next", field("ok", record="test"), "F3", "F5", due="${dose + duration(&#34;P6M&#34;)}") + """
    <bpmn:endEvent id="E1"><bpmn:incoming>F5</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="E2"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>""" + flow("F1", "S", "Ask") \
        + flow("F2", "Ask", "G") + flow("F3", "G", "Next", "${dose != null and siteId = &#34;A&#34;}") \
        + flow("F4", "G", "E2") + flow("F5", "Next", "E1")
    undeclared = findings(body, with_dmn=False)
    assert any("nothing in the pathway writes 'siteId'" in m for m in on(undeclared, "F3"))
    assert on(undeclared, "Next") == []  # the guard makes dose set on F3
    declared = body.replace('<bpmn:process id="p" isExecutable="true">', "")
    declared = HEAD.replace('<bpmn:process id="p" isExecutable="true">',
                            '<bpmn:process id="p" isExecutable="true"><bpmn:extensionElements><camunda:properties>'
                            '<camunda:property name="inputs" value="siteId" /></camunda:properties>'
                            '</bpmn:extensionElements>') + declared + TAIL
    assert [p for p in load_bundle({"check.bpmn": declared.encode()}).warnings if p.is_error] == []


def late_review_model(guard: str | None) -> str:
    """A work-up task, then a decision on its answer; an event sub-process that may start at any
    time reads the work-up answer, behind ``guard`` on the decision's result (or unguarded)."""
    workup = task("Workup", field("weight", "long"), "F1", "F2")
    check = (flow("F12", "G2", "Use", guard) + flow("F13", "G2", "E3")) if guard else flow("F12", "G2", "Use")
    gateway = ('<bpmn:exclusiveGateway id="G2" default="F13"><bpmn:incoming>F11</bpmn:incoming>'
               '<bpmn:outgoing>F12</bpmn:outgoing><bpmn:outgoing>F13</bpmn:outgoing></bpmn:exclusiveGateway>'
               if guard else '<bpmn:exclusiveGateway id="G2"><bpmn:incoming>F11</bpmn:incoming>'
               '<bpmn:outgoing>F12</bpmn:outgoing></bpmn:exclusiveGateway>')
    end3 = '<bpmn:endEvent id="E3"><bpmn:incoming>F13</bpmn:incoming></bpmn:endEvent>' if guard else ""
    return START_FORM + workup + """
    <bpmn:businessRuleTask id="B" name="Triage" camunda:decisionRef="Triage" camunda:resultVariable="urgency"
      camunda:mapDecisionResult="singleEntry"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
    </bpmn:businessRuleTask>""" + task("Wait", field("done", record="t"), "F3", "F4") + """
    <bpmn:endEvent id="E1"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:subProcess id="Late" triggeredByEvent="true">
      <bpmn:startEvent id="LS" isInterrupting="false"><bpmn:outgoing>F11</bpmn:outgoing>
        <bpmn:timerEventDefinition><bpmn:timeDuration>P1D</bpmn:timeDuration></bpmn:timerEventDefinition>
      </bpmn:startEvent>""" + gateway + task("Use", field("ok", record="t"), "F12", "F14",
                                             due="${now() + duration(&#34;P1D&#34;) * weight}") + end3 + """
      <bpmn:endEvent id="E2"><bpmn:incoming>F14</bpmn:incoming></bpmn:endEvent>
      """ + flow("F11", "LS", "G2") + check + flow("F14", "Use", "E2") + """
    </bpmn:subProcess>""" + flow("F1", "S", "Workup") + flow("F2", "Workup", "B") + flow("F3", "B", "Wait") \
        + flow("F4", "Wait", "E1")


def test_a_guard_on_a_result_vouches_for_what_its_writers_had_read() -> None:
    """An event sub-process may start before the work-up: reading its answer there is refused,
    unless a guard lets through only paths on which the decision after the work-up has run."""
    unguarded = findings(late_review_model(None))
    assert any("'weight', which is not written on every path" in m for m in on(unguarded, "Use"))
    guarded = findings(late_review_model("${urgency != null}"))
    assert on(guarded, "Use") == []
    # a guard on a name the work-up does not precede vouches for nothing more than that name
    assert any("'weight'" in m for m in on(findings(late_review_model("${neuroDeficit != null}")), "Use"))


# -- values ----------------------------------------------------------------------------------------
def test_comparing_with_a_value_the_output_never_has_is_refused() -> None:
    broken = findings(triage_model('${urgency = "URGENT"}'))
    [message] = on(broken, "F3")
    assert '"URGENT", which it can never be' in message and "did you mean 'urgent'" in message
    assert on(findings(triage_model('${urgency = "urgent"}')), "F3") == []


def test_an_enum_answer_compared_with_an_impossible_value_is_refused() -> None:
    choice = field("route", "enum", values=("ORAL", "IV"))
    body = START_FORM + task("Ask", choice, "F1", "F2") + """
    <bpmn:exclusiveGateway id="G" default="F4"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:outgoing>F4</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="E1"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="E2"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>""" + flow("F1", "S", "Ask") \
        + flow("F2", "Ask", "G") + "{f3}" + flow("F4", "G", "E2")
    [message] = on(findings(body.format(f3=flow("F3", "G", "E1", '${route = "SC"}')), with_dmn=False), "F3")
    assert "its values: IV, ORAL" in message
    assert on(findings(body.format(f3=flow("F3", "G", "E1", '${route = "IV"}')), with_dmn=False), "F3") == []


# -- gateways --------------------------------------------------------------------------------------
def gateway_model(conditions: dict[str, str], default: str | None = None) -> str:
    choice = field("route", "enum", values=("ORAL", "IV", "SC"))
    outs = "".join(f"<bpmn:outgoing>{f}</bpmn:outgoing>" for f in conditions)
    default_attr = f' default="{default}"' if default else ""
    ends = "".join(f'<bpmn:endEvent id="E_{f}"><bpmn:incoming>{f}</bpmn:incoming></bpmn:endEvent>' for f in conditions)
    flows = "".join(flow(f, "G", f"E_{f}", c or None) for f, c in conditions.items())
    return (START_FORM + task("Ask", choice, "F1", "F2") + f'<bpmn:exclusiveGateway id="G"{default_attr}>'
            f"<bpmn:incoming>F2</bpmn:incoming>{outs}</bpmn:exclusiveGateway>{ends}"
            + flow("F1", "S", "Ask") + flow("F2", "Ask", "G") + flows)


def test_a_gateway_that_can_take_no_flow_is_refused_naming_the_value() -> None:
    broken = findings(gateway_model({"FO": '${route = "ORAL"}', "FI": '${route = "IV"}'}), with_dmn=False)
    [message] = on(broken, "G")
    assert 'route = "SC"' in message and "no outgoing flow is taken" in message
    fixed = gateway_model({"FO": '${route = "ORAL"}', "FI": '${route = "IV"}', "FS": '${route = "SC"}'})
    assert on(findings(fixed, with_dmn=False), "G") == []
    with_default = gateway_model({"FO": '${route = "ORAL"}', "FD": ""}, default="FD")
    assert on(findings(with_default, with_dmn=False), "G") == []


def test_a_default_flow_that_loops_back_without_a_wait_is_refused() -> None:
    body = START_FORM + task("Ask", field("again"), "F1", "F2") + """
    <bpmn:exclusiveGateway id="M"><bpmn:incoming>F2</bpmn:incoming><bpmn:incoming>{back}</bpmn:incoming>
      <bpmn:outgoing>F3</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:exclusiveGateway id="G" default="F5"><bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing>
      <bpmn:outgoing>F5</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="E"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    {extra}"""
    flows = flow("F1", "S", "Ask") + flow("F2", "Ask", "M") + flow("F3", "M", "G") + flow("F4", "G", "E", "${again = false}")
    spin = body.format(back="F5", extra="") + flows + flow("F5", "G", "M")
    [message] = on(findings(spin, with_dmn=False), "G")
    assert "leads back to this gateway with no user task, timer or message" in message
    waits = body.format(back="F6", extra=task("Retry", field("x", record="t"), "F5", "F6")) + flows \
        + flow("F5", "G", "Retry") + flow("F6", "Retry", "M")
    assert on(findings(waits, with_dmn=False), "G") == []


# -- answers ---------------------------------------------------------------------------------------
def test_an_answer_nothing_reads_is_a_warning_unless_kept_for_the_record() -> None:
    unread = findings(triage_model('${urgency = "urgent"}', urgent_fields=field("note", "string")))
    [problem] = [p for p in unread if p.element == "Urgent"]
    assert problem.severity == "warning" and "answer 'note' is recorded and never read" in problem.message
    kept = findings(triage_model('${urgency = "urgent"}', urgent_fields=field("note", "string", record="letter")))
    assert [p for p in kept if p.element == "Urgent"] == []


def test_enum_values_nothing_tells_apart_are_a_warning() -> None:
    body = gateway_model({"FO": '${route = "ORAL"}', "FD": ""}, default="FD")
    [problem] = [p for p in findings(body, with_dmn=False) if p.element == "Ask"]
    assert problem.severity == "warning" and "IV, SC are never told apart" in problem.message
    told = gateway_model({"FO": '${route = "ORAL"}', "FI": '${route = "IV"}', "FD": ""}, default="FD")
    assert [p for p in findings(told, with_dmn=False) if p.element == "Ask"] == []


# -- messages --------------------------------------------------------------------------------------
def message_model(payload: str | None) -> str:
    props = "" if payload is None else (f'<bpmn:extensionElements><camunda:properties><camunda:property '
                                        f'name="payload" value="{payload}" /></camunda:properties>'
                                        f'</bpmn:extensionElements>')
    return START_FORM + task("Wait", field("x", record="t"), "F1", "F2") + f"""
    <bpmn:boundaryEvent id="Stop" attachedToRef="Wait">{props}<bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="Msg_stop" /></bpmn:boundaryEvent>
    <bpmn:exclusiveGateway id="G" default="F5"><bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing>
      <bpmn:outgoing>F5</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="E1"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="E2"><bpmn:incoming>F4</bpmn:incoming><bpmn:incoming>F5</bpmn:incoming></bpmn:endEvent>
    """ + flow("F1", "S", "Wait") + flow("F2", "Wait", "E1") + flow("F3", "Stop", "G") \
        + flow("F4", "G", "E2", "${stopConfirmed = true}") + flow("F5", "G", "E2")


def test_a_message_catch_must_declare_its_payload() -> None:
    undeclared = findings(message_model(None), with_dmn=False)
    assert any("caught here without a declared payload" in m for m in on(undeclared, "Stop"))
    # its variable is then unknown to the rest of the model, too
    assert any("nothing in the pathway writes 'stopConfirmed'" in m for m in on(undeclared, "F4"))
    declared = findings(message_model("stopConfirmed"), with_dmn=False)
    assert [p for p in declared if p.is_error] == []


# -- no cascades -----------------------------------------------------------------------------------
def test_one_broken_dmn_cell_is_one_finding_not_one_per_task(tmp_path: Path) -> None:
    (tmp_path / "check.bpmn").write_text(HEAD + triage_model('${urgency = "urgent"}') + TAIL)
    (tmp_path / "triage.dmn").write_bytes(TRIAGE.replace(b"&gt;= 8", b"&gt;= [8"))
    problems = lint_paths([tmp_path])
    assert [p.file for p in problems if p.is_error] == ["triage.dmn"], problems
