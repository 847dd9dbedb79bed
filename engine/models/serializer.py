"""Serializer set-up: SpiffWorkflow's Camunda configuration plus our specs and value types.

Instances are stored without their spec (the definition row holds it once); see
``dump_workflow``/``load_workflow``.
"""

from __future__ import annotations

import json
import threading
from copy import deepcopy
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.task_spec import EventConverter, SubWorkflowConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.spec import TaskSpecConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessage

from .. import feel
from .specs import (
    HUMAN_ATTRIBUTES,
    DecisionTask,
    HumanTask,
    PathwayEventSubprocess,
    PathwayMessage,
    PathwayStartEvent,
)
from .timers import ClockCycle, ClockDuration, ClockTimeDate

SERIALIZER_VERSION = VERSION


class HumanTaskConverter(TaskSpecConverter):
    def to_dict(self, spec: HumanTask) -> dict[str, Any]:
        dct = self.get_default_attributes(spec)
        dct["form"] = spec.form
        for name in HUMAN_ATTRIBUTES:
            dct[name] = getattr(spec, name)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> HumanTask:
        return self.task_spec_from_dict(dct)


class DecisionTaskConverter(TaskSpecConverter):
    def to_dict(self, spec: DecisionTask) -> dict[str, Any]:
        dct = self.get_default_attributes(spec)
        dct.update(decision_ref=spec.decision_ref, result_variable=spec.result_variable,
                   map_decision_result=spec.map_decision_result, refresh_on_migration=spec.refresh_on_migration)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> DecisionTask:
        return self.task_spec_from_dict(dct)


class EventSubprocessConverter(SubWorkflowConverter):
    def to_dict(self, spec: PathwayEventSubprocess) -> dict[str, Any]:
        dct = super().to_dict(spec)
        dct["interrupting"] = spec.interrupting
        return dct


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Writes a workflow without its specs; reads one given spec objects (or spec dicts).

    The library embeds the whole process spec in every instance (about half its bytes) and
    restores it on every load. Our definition row holds the spec once and the bundle cache
    holds it parsed, so instances carry only their own state.
    """

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        spec, subprocess_specs = dct.pop("spec"), dct.pop("subprocess_specs", {})
        if isinstance(spec, dict):
            spec = self.registry.restore(spec)
            subprocess_specs = self.mapping_from_dict(subprocess_specs)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class StartEventConverter(EventConverter):
    def to_dict(self, spec: PathwayStartEvent) -> dict[str, Any]:
        dct = super().to_dict(spec)
        dct["form"] = spec.form
        return dct


def _config() -> dict:
    config = deepcopy(CAMUNDA_CONFIG)
    config[HumanTask] = HumanTaskConverter
    config[DecisionTask] = DecisionTaskConverter
    config[PathwayEventSubprocess] = EventSubprocessConverter
    config[PathwayStartEvent] = StartEventConverter
    config[BpmnWorkflow] = SpeclessWorkflowConverter
    config[PathwayMessage] = config[CamundaMessage]
    for ours, theirs in ((ClockTimeDate, "TimeDate"), (ClockDuration, "DurationTimer"), (ClockCycle, "CycleTimer")):
        parent = next(cls for cls in config if cls.__name__ == f"{theirs}EventDefinition")
        config[ours] = config[parent]
    return config


def make_serializer() -> BpmnWorkflowSerializer:
    registry = BpmnWorkflowSerializer.configure(_config())
    # Task data holds FEEL results: exact decimals, dates, times and year-month durations.
    # The library's own timedelta converter drops microseconds (PT1.5S would come back as 1 s).
    registry.register(timedelta, lambda v: {"days": v.days, "seconds": v.seconds, "microseconds": v.microseconds},
                      lambda v: timedelta(**v))
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    registry.register(time, lambda v: {"value": v.isoformat()}, lambda v: time.fromisoformat(v["value"]))
    registry.register(feel.YearsMonthsDuration, lambda v: {"months": v.months},
                      lambda v: feel.YearsMonthsDuration(v["months"]))
    return BpmnWorkflowSerializer(registry)


_local = threading.local()


def _serializer() -> BpmnWorkflowSerializer:
    # The registry's JSON "encoder mode" is a flag on the registry, so each thread gets its own.
    serializer = getattr(_local, "serializer", None)
    if serializer is None:
        serializer = _local.serializer = make_serializer()
    return serializer


def dump_workflow(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The instance state as plain JSON data, without the spec."""
    serializer = _serializer()
    registry = serializer.registry
    registry._encoder_mode = True
    try:
        text = json.dumps(registry.convert(workflow), cls=serializer._encoder_cls)
    finally:
        registry._encoder_mode = False
    return json.loads(text)


def load_workflow(state: dict[str, Any], spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    """Rebuild a workflow from stored state and the definition's (parsed or serialized) specs."""
    dct = json.loads(json.dumps(state))  # the converter consumes its input; never mutate the caller's
    dct["spec"], dct["subprocess_specs"] = spec, subprocess_specs
    return _serializer().registry.restore(dct)


def spec_state(spec: Any, subprocess_specs: dict[str, Any]) -> dict[str, Any]:
    """The specs as the serializer writes them, stored once per definition."""
    registry = _serializer().registry
    return {"spec": registry.convert(spec),
            "subprocess_specs": {k: registry.convert(v) for k, v in subprocess_specs.items()}}
