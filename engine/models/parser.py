"""``PathwayParser``: SpiffWorkflow's ``CamundaParser`` extended to keep what Camunda Modeler writes.

Extension points used (no fork): ``OVERRIDE_PARSER_CLASSES`` maps BPMN tags to our task parsers
and spec classes; our task parsers subclass the library's Camunda parsers. DMN is not given to
SpiffWorkflow at all: decisions are ours (``engine.decisions``).
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser, full_tag
from SpiffWorkflow.bpmn.parser.task_parsers import SubprocessParser
from SpiffWorkflow.bpmn.parser.util import first
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    CallActivity,
    EndEvent,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
)
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.event_parsers import (
    CamundaBoundaryEventParser,
    CamundaEndEventParser,
    CamundaIntermediateCatchEventParser,
    CamundaIntermediateThrowEventParser,
    CamundaStartEventParser,
)
from SpiffWorkflow.camunda.parser.task_spec import CamundaTaskParser, SubWorkflowParser, UserTaskParser

from .specs import DecisionTask, HumanTask, PathwayEventSubprocess, PathwayMessage, PathwayStartEvent
from .timers import ClockCycle, ClockDuration, ClockTimeDate

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
FORM_CONSTRAINTS = ("required", "readonly", "min", "max", "minlength", "maxlength")


class _PathwayEvents:
    """Build our clock-driven timers and variable-carrying messages instead of the library's."""

    def parse_message_event(self, message_event):
        parsed = super().parse_message_event(message_event)
        return PathwayMessage(parsed.name, parsed.correlation_properties, parsed.expression, parsed.result_var,
                              description=parsed.description)

    def parse_timer_event(self, event):
        name = self.node.get("name", self.node.get("id"))
        description = self.get_event_description(event)
        for tag, cls in (("timeDate", ClockTimeDate), ("timeDuration", ClockDuration), ("timeCycle", ClockCycle)):
            node = first(self.xpath(f".//bpmn:{tag}"))
            if node is not None:
                return cls(name, (node.text or "").strip(), description=description)
        raise ValidationException("A timer needs a timeDate, timeDuration or timeCycle", node=self.node,
                                  file_name=self.filename)


class StartEventParser(_PathwayEvents, CamundaStartEventParser):
    def create_task(self):
        task = super().create_task()
        # A start form types the variables a pathway is started with (e.g. fractureDate as a date).
        task.form = read_form(self) if self.xpath(".//camunda:formData") else None
        return task


class EndEventParser(_PathwayEvents, CamundaEndEventParser):
    pass


class IntermediateCatchEventParser(_PathwayEvents, CamundaIntermediateCatchEventParser):
    pass


class IntermediateThrowEventParser(_PathwayEvents, CamundaIntermediateThrowEventParser):
    pass


class BoundaryEventParser(_PathwayEvents, CamundaBoundaryEventParser):
    pass


def read_form(parser) -> dict[str, Any]:
    """The Camunda form as plain data (the library's own Form loses labels and types on reload)."""
    fields = []
    for node in parser.xpath(".//camunda:formData/camunda:formField"):
        field: dict[str, Any] = {
            "id": node.get("id"),
            "label": node.get("label") or node.get("id"),
            "type": node.get("type") or "string",
            "defaultValue": node.get("defaultValue"),
            "datePattern": node.get("datePattern"),
        }
        options = [{"id": v.get("id"), "name": v.get("name") or v.get("id")}
                   for v in node.findall(f"{{{CAMUNDA_NS}}}value")]
        if field["type"] == "enum":
            field["options"] = options
        constraints = {}
        for constraint in node.findall(f"{{{CAMUNDA_NS}}}validation/{{{CAMUNDA_NS}}}constraint"):
            constraints[constraint.get("name")] = constraint.get("config")
        field["constraints"] = constraints
        field["required"] = "required" in constraints
        field["properties"] = {p.get("id"): p.get("value")
                               for p in node.findall(f"{{{CAMUNDA_NS}}}properties/{{{CAMUNDA_NS}}}property")}
        fields.append(field)
    return {"key": parser.attribute("formKey", "camunda"), "fields": fields}


class HumanTaskParser(UserTaskParser):
    """Keeps candidate groups/users, assignee, due and follow-up dates, priority and the form."""

    def create_task(self):
        attrs = {
            "candidate_groups": self.attribute("candidateGroups", "camunda"),
            "candidate_users": self.attribute("candidateUsers", "camunda"),
            "assignee": self.attribute("assignee", "camunda"),
            "due_date": self.attribute("dueDate", "camunda"),
            "follow_up_date": self.attribute("followUpDate", "camunda"),
            "priority": self.attribute("priority", "camunda"),
        }
        return self.spec_class(self.spec, self.bpmn_id, form=read_form(self), **attrs, **self.bpmn_attributes)


class DecisionTaskParser(CamundaTaskParser):
    def create_task(self):
        return self.spec_class(
            self.spec,
            self.bpmn_id,
            decision_ref=self.attribute("decisionRef", "camunda") or "",
            result_variable=self.attribute("resultVariable", "camunda"),
            map_decision_result=self.attribute("mapDecisionResult", "camunda"),
            refresh_on_migration=self._property("refreshOnMigration") == "true",
            **self.bpmn_attributes,
        )

    def _property(self, name: str) -> str | None:
        """A Camunda extension property of the element (Modeler: "Extension properties")."""
        for prop in self.node.iterfind(f"{{{BPMN}}}extensionElements/{{{CAMUNDA_NS}}}properties/"
                                       f"{{{CAMUNDA_NS}}}property"):
            if prop.get("name") == name:
                return (prop.get("value") or "").strip().lower()
        return None


class EmbeddedSubprocessParser(SubWorkflowParser):
    """Embedded sub-processes; ``triggeredByEvent`` ones become real event sub-processes.

    The library's Camunda parser builds an event sub-process as an ordinary call activity, which
    then runs once at start-up instead of waiting for its trigger.
    """

    def create_task(self):
        subworkflow_spec = SubprocessParser.get_subprocess_spec(self)
        if self.node.get("triggeredByEvent") == "true":
            start = first(self.xpath("./bpmn:startEvent"))
            interrupting = start is None or start.get("isInterrupting", "true") == "true"
            return PathwayEventSubprocess(self.spec, self.bpmn_id, subworkflow_spec=subworkflow_spec,
                                          interrupting=interrupting, **self.bpmn_attributes)
        return self.spec_class(self.spec, self.bpmn_id, subworkflow_spec=subworkflow_spec, **self.bpmn_attributes)


class PathwayParser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (HumanTaskParser, HumanTask),
        full_tag("businessRuleTask"): (DecisionTaskParser, DecisionTask),
        full_tag("subProcess"): (EmbeddedSubprocessParser, CallActivity),
        full_tag("startEvent"): (StartEventParser, PathwayStartEvent),
        full_tag("endEvent"): (EndEventParser, EndEvent),
        full_tag("intermediateCatchEvent"): (IntermediateCatchEventParser, IntermediateCatchEvent),
        full_tag("intermediateThrowEvent"): (IntermediateThrowEventParser, IntermediateThrowEvent),
        full_tag("boundaryEvent"): (BoundaryEventParser, BoundaryEvent),
    }

    def _find_dependencies(self, process):
        # The DMN side is ours: skip BpmnDmnParser's decisionRef bookkeeping (it would insist on
        # SpiffWorkflow's DMN parser) and keep only the BPMN call-activity dependencies.
        BpmnParser._find_dependencies(self, process)
