"""The script engine our workflows run with: FEEL instead of Python, our clock, our decisions.

SpiffWorkflow routes every expression (gateway conditions, timers, message payloads) through
``workflow.script_engine``; replacing it is the library's intended seam for other expression
languages. It is attached to each workflow when it is created or loaded, never serialized.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine

from .. import feel
from ..clock import Clock, SystemClock
from ..decisions import DecisionError, DecisionRegistry, apply_result_mapping
from ..isotime import IsoCycle, IsoDuration, looks_like_iso_timer, parse_cycle, parse_datetime, parse_duration

PROCESS_VARIABLES = "processVariables"


def process_variables(workflow) -> dict[str, Any]:
    """The pathway's variables, one scope for the whole instance as in Camunda 7.

    SpiffWorkflow passes data from task to task, so a value entered inside a sub-process is lost
    when a boundary event interrupts it, and a parallel branch never sees it. Every write we make
    (enrolment, form submission, message, decision) also lands here, and expressions see these
    values over the task's own data.
    """
    return workflow.top_workflow.data.setdefault(PROCESS_VARIABLES, {})


def is_feel(text: str) -> bool:
    """Camunda 7 wraps expressions in ``${…}``, Camunda 8 prefixes ``=``; bare text may be either."""
    raw = text.strip()
    return raw.startswith("${") or raw.startswith("=")


class FeelScriptEngine(PythonScriptEngine):
    def __init__(self, decisions: DecisionRegistry | None = None, clock: Clock | None = None,
                 conditions: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.decisions = decisions or DecisionRegistry()
        self.clock: Clock = clock or SystemClock()
        # The texts of sequence-flow conditions: FEEL demands a boolean there, where
        # SpiffWorkflow would take any truthy value ("false", "no", 1) as true.
        self.conditions = conditions
        self._parsed: dict[str, Any] = {}
        # how decisions are evaluated: the registry, unless a caller (the verifier, which runs the
        # same decisions on the same inputs many times) puts a memoising evaluator in front of it
        self.evaluate_decision = self.decisions.evaluate
        # the decisions run since the caller last took them (the audit trail records each step's)
        self.decided: list[dict[str, Any]] = []

    # -- expressions -------------------------------------------------------------------------
    def compile(self, expression: str):
        parsed = self._parsed.get(expression)
        if parsed is None:
            parsed = feel.parse_expression(feel.strip_wrapper(expression))
            self._parsed[expression] = parsed
        return parsed

    def validate(self, expression: str) -> None:
        self.compile(expression)

    def context(self, task) -> dict[str, Any]:
        return {**task.data, **process_variables(task.workflow)}

    def evaluate(self, task, expression, external_context=None):
        context = self.context(task)
        if external_context:
            context.update(external_context)
        try:
            value = feel.to_python(self.compile(expression).evaluate(context, clock=self.clock))
        except feel.FeelError as exc:
            raise WorkflowTaskException(f"FEEL error in '{expression}': {exc}", task=task, exception=exc) from exc
        if expression in self.conditions and value is not None and not isinstance(value, bool):
            raise WorkflowTaskException(
                f"condition '{expression.strip()}' gave {value!r}, not true or false", task=task)
        return value

    def execute(self, task, script, external_context=None):
        # Pathways hold no executable code: lint refuses script tasks before they get here.
        raise WorkflowTaskException("script tasks are not supported; use a business rule task", task=task)

    def _value(self, task, text: str):
        """An attribute's value: FEEL when wrapped, else the ISO/literal text itself."""
        if is_feel(text):
            return self.evaluate(task, text)
        return text.strip()

    # -- timers ------------------------------------------------------------------------------
    def timer_instant(self, task, text: str) -> datetime:
        value = text.strip() if _iso_like(text) else self.evaluate(task, text)
        return self._as_instant(task, value, text)

    def _iso(self, task, parse, value: str, text: str):
        try:
            return parse(value)
        except ValueError as exc:
            raise WorkflowTaskException(f"'{text.strip()}' gave '{value}': {exc}", task=task) from exc

    def timer_duration(self, task, text: str) -> IsoDuration | timedelta:
        value = text.strip() if _iso_like(text) else self.evaluate(task, text)
        if isinstance(value, timedelta):
            return value
        if isinstance(value, feel.YearsMonthsDuration):
            return IsoDuration(months=value.months)
        if isinstance(value, str):
            return self._iso(task, parse_duration, value, text)
        raise WorkflowTaskException(f"timer '{text}' did not give a duration (got {value!r})", task=task)

    def timer_cycle(self, task, text: str) -> IsoCycle:
        value = text.strip() if _iso_like(text) else self.evaluate(task, text)
        if not isinstance(value, str):
            raise WorkflowTaskException(f"timer cycle '{text}' did not give an ISO text (got {value!r})", task=task)
        return self._iso(task, lambda v: parse_cycle(v, self.clock.tz), value, text)

    def _as_instant(self, task, value: Any, text: str) -> datetime:
        if isinstance(value, datetime):
            return parse_datetime(value.isoformat(), self.clock.tz)
        if isinstance(value, date):
            return parse_datetime(datetime.combine(value, time()).isoformat(), self.clock.tz)
        if isinstance(value, str):
            raw = value.strip()
            if raw.upper().startswith(("P", "-P")):
                return self._iso(task, parse_duration, raw, text).add_to(self.clock.now(), self.clock.tz)
            return self._iso(task, lambda v: parse_datetime(v, self.clock.tz), raw, text)
        if isinstance(value, timedelta):
            return self.clock.now() + value
        if isinstance(value, feel.YearsMonthsDuration):
            return IsoDuration(months=value.months).add_to(self.clock.now(), self.clock.tz)
        raise WorkflowTaskException(f"'{text}' did not give a date or date-time (got {value!r})", task=task)

    # -- human tasks -------------------------------------------------------------------------
    def human_task_attributes(self, task, spec) -> dict[str, Any]:
        """Evaluate a user task's Camunda attributes once, when it becomes ready."""
        return {
            "candidateGroups": self._names(task, spec.candidate_groups),
            "candidateUsers": self._names(task, spec.candidate_users),
            "assignee": self._scalar(task, spec.assignee),
            "due": self._instant_or_none(task, spec.due_date),
            "followUp": self._instant_or_none(task, spec.follow_up_date),
            "priority": self._priority(task, spec.priority),
            "createdAt": self.clock.now().isoformat(),
            "defaults": self._form_defaults(task, spec.form),
        }

    def _form_defaults(self, task, form: dict[str, Any] | None) -> dict[str, Any]:
        """Each form field's ``defaultValue``, evaluated now when it is an expression (e.g.
        ``${lastDoseDate + duration("P6M")}``), as JSON-friendly values the form can show."""
        defaults = {}
        for field in (form or {}).get("fields", []):
            text = field.get("defaultValue")
            if not text:
                continue
            value = self.evaluate(task, text) if is_feel(text) else text
            if value is not None:
                defaults[field["id"]] = value.isoformat() if isinstance(value, date | time) else value
        return defaults

    def _names(self, task, text: str | None) -> list[str]:
        if not text:
            return []
        value = self._value(task, text)
        items = value if isinstance(value, list) else str(value).split(",")
        return [str(item).strip() for item in items if str(item).strip()]

    def _scalar(self, task, text: str | None) -> str | None:
        if not text:
            return None
        value = self._value(task, text)
        return None if value is None else str(value)

    def _instant_or_none(self, task, text: str | None) -> str | None:
        if not text:
            return None
        value = self.evaluate(task, text) if (is_feel(text) or not _iso_like(text)) else text.strip()
        if value is None:
            return None
        return self._as_instant(task, value, text).isoformat()

    def _priority(self, task, text: str | None) -> int | None:
        if not text:
            return None
        value = self._value(task, text)
        try:
            return int(Decimal(str(value)))
        except Exception:
            raise WorkflowTaskException(f"priority '{text}' is not a whole number", task=task) from None

    # -- decisions ---------------------------------------------------------------------------
    def decide(self, spec, context: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Evaluate a decision task's ``camunda:decisionRef`` on ``context``: the result and the
        variables Camunda 7 stores from it (raises ``DecisionError``)."""
        result = self.evaluate_decision(spec.decision_ref, context, clock=self.clock)
        # Typed values (a date output stays a date, so later FEEL date arithmetic works);
        # result.rows is the JSON-friendly form for traces and the API.
        rows = [{name: feel.to_python(value) for name, value in row.items()} for row in result.raw_rows]
        if spec.result_variable:
            return result, {spec.result_variable: apply_result_mapping(rows, spec.map_decision_result)}
        if len(rows) == 1:
            # Without resultVariable Camunda keeps nothing; we merge a single row's outputs,
            # which is what a modeller who left the field empty almost always meant.
            return result, dict(rows[0])
        return result, {}

    def run_decision(self, task, spec) -> None:
        """Evaluate ``camunda:decisionRef`` and store the result as Camunda 7 does."""
        try:
            result, values = self.decide(spec, self.context(task))
            task.data.update(values)
            process_variables(task.workflow).update(values)
        except DecisionError as exc:
            raise WorkflowTaskException(f"decision '{spec.decision_ref}': {exc}", task=task, exception=exc) from exc
        # What "why this task" shows: this decision's own trace entry (inputs, rules, outputs), on
        # its latest run only. The required decisions' entries and earlier runs are in the audit
        # trail (``decided``); keeping them here made a year's state grow to megabytes.
        own = [entry for entry in result.trace if entry.get("decision") == spec.decision_ref] or result.trace[-1:]
        for earlier in task.workflow.tasks.values():  # this (sub)process's tasks, a plain scan
            if earlier.task_spec is task.task_spec and earlier is not task:
                earlier.internal_data.pop("decision", None)
        task._set_internal_data(decision={
            "decision": spec.decision_ref, "matchedRules": result.matched_rules, "trace": own,
        })
        self.decided.append({"elementId": spec.bpmn_id, "decision": spec.decision_ref, "table": bool(result.trace and
                             "hitPolicy" in result.trace[-1]), "matchedRules": list(result.matched_rules),
                             "result": result.value,
                             # what the pathway keeps (the result variable after Camunda's mapping)
                             "output": values.get(spec.result_variable) if spec.result_variable else None})


def _iso_like(text: str) -> bool:
    raw = text.strip()
    return not is_feel(raw) and looks_like_iso_timer(raw)

