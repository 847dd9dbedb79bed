"""Our service's dicts as FHIR R4 resources: the mapping, in one place (README "FHIR")."""

from __future__ import annotations

from typing import Any

BASE = "https://ovcf-pathway.invalid/fhir"
MRN_SYSTEM = f"{BASE}/sid/mrn"  # the hospital identifier (our externalId)
GROUP_SYSTEM = f"{BASE}/CodeSystem/candidate-group"
ELEMENT_SYSTEM = f"{BASE}/CodeSystem/pathway-element"
USER_SYSTEM = f"{BASE}/sid/user"
FIELD_SYSTEM = f"{BASE}/CodeSystem/form-field"
ACTION_SYSTEM = f"{BASE}/CodeSystem/audit-action"

# Camunda's 0–100 priority (50 when none is set) in FHIR's four request priorities
PRIORITIES = ((90, "stat"), (75, "asap"), (60, "urgent"), (0, "routine"))


def fhir_priority(priority: int | None) -> str:
    value = 50 if priority is None else priority
    return next(name for floor, name in PRIORITIES if value >= floor)


def task_status(task: dict[str, Any]) -> str:
    """ready → ready (in-progress once someone has claimed it), completed, cancelled."""
    if task["status"] == "ready":
        return "in-progress" if task.get("assignee") else "ready"
    return {"completed": "completed", "cancelled": "cancelled"}.get(task["status"], "failed")


def task_resource(task: dict[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": task["id"],
        "meta": {"versionId": task["etag"]},
        "status": task_status(task),
        "intent": "order",
        "priority": fhir_priority(task.get("priority")),
        "code": {"coding": [{"system": ELEMENT_SYSTEM, "code": task["elementId"], "display": task["name"]}],
                 "text": task["name"]},
        "description": task["name"],
        "basedOn": [{"reference": f"CarePlan/{task['pathwayId']}"}],
        "authoredOn": task["createdAt"],
        "executionPeriod": {"start": task["createdAt"], **({"end": task["completedAt"]} if task.get("completedAt") else {})},
    }
    if task.get("patientId"):
        resource["for"] = {"reference": f"Patient/{task['patientId']}"}
    if task.get("assignee"):
        resource["owner"] = {"identifier": {"system": USER_SYSTEM, "value": task["assignee"]},
                             "display": task["assignee"]}
    if task.get("candidateGroups"):
        resource["performerType"] = [{"coding": [{"system": GROUP_SYSTEM, "code": group}], "text": group}
                                     for group in task["candidateGroups"]]
    if task.get("due"):
        resource["restriction"] = {"period": {"end": task["due"]}}
    if task.get("updatedAt"):
        resource["meta"]["lastUpdated"] = task["updatedAt"]
        resource["lastModified"] = task["updatedAt"]
    if task.get("form"):
        resource["input"] = [_field_input(field) for field in task["form"].get("fields", [])]
    if task.get("answers"):
        resource["output"] = [_answer(name, value) for name, value in sorted(task["answers"].items())
                              if value is not None]
    return resource


def _field_code(field_id: str, label: str | None = None) -> dict[str, Any]:
    coding = {"system": FIELD_SYSTEM, "code": field_id, **({"display": label} if label else {})}
    return {"coding": [coding], "text": label or field_id}


def _field_input(field: dict[str, Any]) -> dict[str, Any]:
    """A form field the task asks for: its id and label, and its type, options and whether it is
    required, as text (``Task.input`` needs a value; the definition is what a client reads)."""
    kind = field.get("type") or "string"
    options = [o["id"] for o in field.get("options") or []]
    text = kind + (f" ({' | '.join(options)})" if options else "") + (", required" if field.get("required") else "")
    return {"type": _field_code(field["id"], field.get("label")), "valueString": text}


def _answer(name: str, value: Any) -> dict[str, Any]:
    key = ("valueBoolean" if isinstance(value, bool) else "valueInteger" if isinstance(value, int)
           else "valueDecimal" if isinstance(value, float) else "valueString")
    return {"type": _field_code(name), key: value}


def answers_from_output(output: list[dict[str, Any]]) -> dict[str, Any]:
    """``Task.output`` as the answers a form takes (field id → value); raises ValueError naming
    the entry that has no field code or no value."""
    answers: dict[str, Any] = {}
    for n, entry in enumerate(output):
        codes = [c.get("code") for c in (entry.get("type") or {}).get("coding", []) if c.get("code")]
        values = [v for k, v in entry.items() if k.startswith("value")]
        if not codes or len(values) != 1:
            raise ValueError(f"Task.output[{n}]: give the field id as type.coding.code and exactly one value[x]")
        answers[codes[0]] = values[0]
    return answers


def care_plan_resource(pathway: dict[str, Any], tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """A pathway: its definition, status, and activities = open tasks and pending timers."""
    status = {"running": "active", "suspended": "on-hold", "completed": "completed", "cancelled": "revoked",
              "failed": "on-hold"}.get(pathway["status"], "unknown")
    # a task activity is a reference (cpl-3: a reference or a detail, not both); its due date rides
    # along as progress text, the Task itself has it as restriction.period.end
    activities = [{"reference": {"reference": f"Task/{t['id']}", "display": t["name"]},
                   **({"progress": [{"text": f"due {t['due']}"}]} if t.get("due") else {})} for t in tasks]
    activities += [{"detail": {"kind": "Task", "code": {"coding": [{"system": ELEMENT_SYSTEM,
                                                                    "code": timer["elementId"]}]},
                               "status": "scheduled", "description": f"timer {timer['elementId']}",
                               "scheduledPeriod": {"end": timer["due"]}}}
                   for timer in pathway.get("timers", [])]
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": pathway["id"],
        "meta": {"versionId": str(pathway["version"])},
        "status": status,
        "intent": "plan",
        "title": pathway["definition"]["key"],
        "instantiatesUri": [f"{BASE}/PlanDefinition/{pathway['definition']['key']}|{pathway['definition']['version']}"],
        "activity": activities,
    }
    if pathway.get("patientId"):
        resource["subject"] = {"reference": f"Patient/{pathway['patientId']}"}
    else:
        resource["subject"] = {"display": "no registered patient"}
    return resource


def provenance_resource(event: dict[str, Any], target: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Provenance",
        "id": str(event["id"]),
        "target": [{"reference": target}],
        "recorded": event["at"],
        "activity": {"coding": [{"system": ACTION_SYSTEM, "code": event["action"]}], "text": event["action"]},
        "agent": [{"who": {"identifier": {"system": USER_SYSTEM, "value": event["actor"]}, "display": event["actor"]}}],
    }
    if event.get("reason"):
        resource["reason"] = [{"text": event["reason"]}]
    return resource


def patient_resource(patient: dict[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": patient["id"],
        "identifier": [{"system": MRN_SYSTEM, "value": patient["externalId"]}],
    }
    if patient.get("displayName"):
        resource["name"] = [{"text": patient["displayName"]}]
    if patient.get("birthDate"):
        resource["birthDate"] = patient["birthDate"]
    if patient.get("sex") in ("male", "female", "other", "unknown"):
        resource["gender"] = patient["sex"]
    return resource


def search_bundle(resources: list[dict[str, Any]], self_url: str, next_url: str | None) -> dict[str, Any]:
    links = [{"relation": "self", "url": self_url}] + ([{"relation": "next", "url": next_url}] if next_url else [])
    return {"resourceType": "Bundle", "type": "searchset", "link": links,
            "entry": [{"fullUrl": f"{BASE}/{r['resourceType']}/{r['id']}", "resource": r,
                       "search": {"mode": "match"}} for r in resources]}


def operation_outcome(status: int, diagnostics: str, *, code: str | None = None,
                      expression: list[str] | None = None) -> dict[str, Any]:
    issue_code = code or {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 409: "conflict",
                          412: "conflict", 415: "not-supported", 422: "processing"}.get(status, "exception")
    issue: dict[str, Any] = {"severity": "error", "code": issue_code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = expression
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def capability_statement(now: str, software_version: str) -> dict[str, Any]:
    """Exactly what this facade supports."""
    def search(name: str, kind: str, doc: str) -> dict[str, str]:
        return {"name": name, "type": kind, "documentation": doc}

    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": now,
        "kind": "instance",
        "software": {"name": "OVCF care pathway", "version": software_version},
        "implementation": {"description": "Care pathway tasks as FHIR R4 resources", "url": BASE},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "security": {"description": "Bearer token (the same tokens and roles as the JSON API)"},
            "resource": [
                {"type": "Patient", "interaction": [{"code": "read"}, {"code": "search-type"}],
                 "searchParam": [search("identifier", "token", f"{MRN_SYSTEM}|value or value alone"),
                                 search("name", "string", "any part of the name"),
                                 search("birthdate", "date", "the date of birth (YYYY-MM-DD)"),
                                 search("_count", "number", "page size, 1 to 200 (default 50)")]},
                {"type": "CarePlan", "interaction": [{"code": "read"}]},
                {"type": "Provenance", "interaction": [{"code": "search-type"}],
                 "searchParam": [search("target", "reference", "Task/id or CarePlan/id")]},
                {"type": "Task", "interaction": [{"code": "read"}, {"code": "search-type"}, {"code": "update"}],
                 "searchParam": [
                     search("status", "token", "ready, in-progress, completed, cancelled (comma for any of)"),
                     search("patient", "reference", "Patient/id"),
                     search("owner", "token", "the user who claimed it"),
                     search("performer", "token", "a candidate group"),
                     search("period", "date", "due date: le or ge prefix"),
                     search("_sort", "special", "period (due soonest first, the default) or -priority"),
                     search("_count", "number", "page size, 1 to 200 (default 50)"),
                     search("_lastUpdated", "date", "changed since: gt or ge prefix (polling)"),
                     search("_summary", "special", "count: the number of matching tasks only"),
                 ]},
            ],
        }],
    }
