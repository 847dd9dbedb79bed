"""Task specs that carry what Camunda Modeler writes and SpiffWorkflow's Camunda parser drops.

Each subclasses a SpiffWorkflow spec and adds plain, JSON-serialisable attributes so the
serializer (see ``serializer.py``) can store them once per definition.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import EventSubprocess, StartEvent
from SpiffWorkflow.bpmn.specs.defaults import UserTask as BpmnUserTask
from SpiffWorkflow.bpmn.specs.mixins import BpmnSpecMixin
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessage
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.util.task import TaskState

HUMAN_ATTRIBUTES = ("candidate_groups", "candidate_users", "assignee", "due_date", "follow_up_date", "priority")


class HumanTask(BpmnUserTask):
    """A user task with Camunda's assignment, scheduling and form attributes.

    The attribute values are the author's text (literal or FEEL); they are evaluated once, when
    the task becomes ready, and the results kept in ``internal_data['human']`` so the task
    projection and the worklist never re-evaluate or deserialize anything.
    """

    def __init__(
        self,
        wf_spec,
        bpmn_id,
        form: dict[str, Any] | None = None,
        candidate_groups: str | None = None,
        candidate_users: str | None = None,
        assignee: str | None = None,
        due_date: str | None = None,
        follow_up_date: str | None = None,
        priority: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.form = form or {"key": None, "fields": []}
        self.candidate_groups = candidate_groups
        self.candidate_users = candidate_users
        self.assignee = assignee
        self.due_date = due_date
        self.follow_up_date = follow_up_date
        self.priority = priority

    def _on_ready_hook(self, my_task) -> None:
        engine = my_task.workflow.top_workflow.script_engine
        my_task._set_internal_data(human=engine.human_task_attributes(my_task, self))
        super()._on_ready_hook(my_task)


class DecisionTask(BpmnSpecMixin):
    """A business rule task evaluated by our DMN engine (``camunda:decisionRef``).

    The decision registry lives on the script engine, which the runtime attaches to every loaded
    workflow, so the serialized spec holds only the reference, never the table.
    """

    def __init__(
        self,
        wf_spec,
        bpmn_id,
        decision_ref: str,
        result_variable: str | None = None,
        map_decision_result: str | None = None,
        refresh_on_migration: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.decision_ref = decision_ref
        self.result_variable = result_variable
        self.map_decision_result = map_decision_result
        # the result is a stored copy of policy (marker ``refreshOnMigration``): a migration
        # evaluates it again with the new version's tables and stores the new result
        self.refresh_on_migration = refresh_on_migration

    def _run_hook(self, my_task) -> bool:
        engine = my_task.workflow.top_workflow.script_engine
        engine.run_decision(my_task, self)
        return super()._run_hook(my_task)


class PathwayEventSubprocess(EventSubprocess):
    """An event sub-process that knows whether its start event interrupts its parent scope."""

    def __init__(self, wf_spec, bpmn_id, subworkflow_spec, interrupting: bool = True, **kwargs) -> None:
        super().__init__(wf_spec, bpmn_id, subworkflow_spec, **kwargs)
        self.interrupting = interrupting


class PathwayStartEvent(StartEvent):
    """A start event with an optional start form, which, inside an interrupting event
    sub-process, cancels the parent scope.

    SpiffWorkflow starts an event sub-process beside the parent's flow but never cancels that
    flow, so an "interrupting" event sub-process would leave the interrupted tasks ready. When
    our start event fires we cancel every unfinished task of the enclosing scope except the
    event sub-process itself, which is what BPMN 2.0 (§10.3.5) and Camunda do.
    """

    def __init__(self, wf_spec, bpmn_id, event_definition, form: dict[str, Any] | None = None, **kwargs) -> None:
        super().__init__(wf_spec, bpmn_id, event_definition, **kwargs)
        self.form = form

    def _run_hook(self, my_task) -> bool:
        parent_id = my_task.workflow.parent_task_id
        if parent_id is not None:
            host = my_task.workflow.top_workflow.get_task_from_id(parent_id)
            spec = host.task_spec if host is not None else None
            if isinstance(spec, PathwayEventSubprocess) and spec.interrupting:
                _cancel_scope_except(host)
        return super()._run_hook(my_task)


def _cancel_scope_except(keep) -> None:
    scope = keep.workflow
    protected = {keep.id}
    parent = keep.parent
    while parent is not None:
        protected.add(parent.id)
        parent = parent.parent
    # get_tasks also walks sub-workflows; only this scope's own tasks are cancelled here (a
    # cancelled sub-process task cancels its sub-workflow itself), never the event sub-process's.
    for task in list(scope.get_tasks(state=TaskState.NOT_FINISHED_MASK)):
        if task.workflow is scope and task.id not in protected and not task.has_state(TaskState.FINISHED_MASK):
            task.cancel()


class PathwayMessage(CamundaMessage):
    """A message whose correlated variables become process variables, as Camunda 7 does.

    The library's Camunda message puts an incoming payload under ``<task>_Response``; a message
    correlated through our API carries ``{"variables": {...}}`` and those are merged instead.
    """

    def update_task_data(self, my_task) -> None:
        event_data = my_task.internal_data.get(self.name) or {}
        if isinstance(event_data.get("payload"), dict) and "variables" in event_data["payload"]:
            my_task.data.update(event_data["payload"]["variables"])
        else:
            super().update_task_data(my_task)


def is_human(spec: TaskSpec) -> bool:
    return isinstance(spec, HumanTask)
