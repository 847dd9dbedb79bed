"""Request and response bodies (pydantic): validation and the OpenAPI document come from here."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

Name = Field(min_length=1, max_length=255)


class Strict(BaseModel):
    """Unknown fields are an error (422), not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- errors ------------------------------------------------------------------------------------
class FieldErrorOut(BaseModel):
    field: str
    code: str
    message: str


class ModelProblemOut(BaseModel):
    file: str
    element: str
    message: str


class Problem(Open):
    """RFC 9457 problem details (``application/problem+json``)."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldErrorOut] | None = None
    problems: list[ModelProblemOut] | None = None


# -- definitions -------------------------------------------------------------------------------
class HealthOut(BaseModel):
    status: str


class MeOut(BaseModel):
    name: str
    role: str


class DeployForm(BaseModel):
    """One or more ``.bpmn`` and ``.dmn`` files, as multipart parts (any part name)."""

    files: list[bytes] = Field(min_length=1, json_schema_extra={"items": {"type": "string", "format": "binary"}})


class DefinitionOut(Open):
    id: int
    key: str
    version: int
    sha256: str
    name: str | None = None
    createdAt: str
    deployedBy: str | None = None
    deploymentName: str | None = None
    deploymentSource: str | None = None


class VerificationFinding(BaseModel):
    file: str
    element: str
    message: str
    severity: str


class VerificationOut(BaseModel):
    mode: str = Field(description="The site setting PATHWAY_VERIFY_ON_DEPLOY: warn or refuse (absent when off)")
    states: int
    exhaustive: bool
    findings: list[VerificationFinding]


class DeployedOut(DefinitionOut):
    created: bool
    verification: VerificationOut | None = None


class DefinitionList(BaseModel):
    items: list[DefinitionOut]


class NoQuery(Strict):
    """A route that takes no query parameters refuses any (422), as every other route refuses
    the ones it does not know."""


class EvaluateQuery(Strict):
    definition: str | None = Field(default=None, min_length=1, max_length=255,
                                   description="the pathway definition key whose DMN answers (needed when "
                                               "several define the decision)")
    version: int | None = Field(default=None, ge=1, le=2_147_483_647,
                                description="that definition's version (default: the latest)")


class DiffQuery(Strict):
    from_: int | None = Field(default=None, alias="from", ge=1, le=2_147_483_647)
    to: int | None = Field(default=None, ge=1, le=2_147_483_647)


class DiffChange(BaseModel):
    file: str
    change: Literal["added", "removed", "changed"]
    kind: Literal["element", "timer", "rule", "cell", "form-field", "file"]
    element: str
    text: str
    attribute: str | None = None
    old: str | None = None
    new: str | None = None


class DiffOut(BaseModel):
    key: str
    from_: int = Field(alias="from")
    to: int
    changes: list[DiffChange]


class DefinitionQuery(Strict):
    key: str | None = Field(default=None, min_length=1, max_length=255)


# -- patients and pathways ---------------------------------------------------------------------
class PatientIn(Strict):
    externalId: str = Field(min_length=1, max_length=255)
    displayName: str | None = Field(default=None, max_length=255)
    birthDate: date | None = None
    sex: Literal["female", "male", "other", "unknown"] | None = None


class PatientQuery(Strict):
    externalId: str = Field(min_length=1, max_length=255)


class PathwayRef(BaseModel):
    id: str
    status: str


class PatientOut(BaseModel):
    id: str
    externalId: str
    displayName: str | None
    birthDate: str | None
    sex: str | None
    createdAt: str
    pathways: list[PathwayRef]


class IdOut(BaseModel):
    id: str


class Incident(BaseModel):
    pathwayId: str
    patientId: str | None
    at: str
    error: str | None


class IncidentList(BaseModel):
    items: list[Incident]


class EnrolmentQuery(Strict):
    definition: str = Field(min_length=1, max_length=255)
    version: int | None = Field(default=None, ge=1, le=2_147_483_647)


class RefusedRow(BaseModel):
    line: int
    externalId: str | None
    reason: str


class EnrolmentReport(BaseModel):
    rows: int
    enrolled: int
    refused: list[RefusedRow]


class EnrollIn(Strict):
    definition: str = Field(min_length=1, max_length=255)
    version: int | None = Field(default=None, ge=1, le=2_147_483_647)
    variables: dict[str, Any] | None = Field(
        default=None, description="Process variables; strings that are exactly YYYY-MM-DD become dates and "
                                  "full ISO date-times with an offset become date-times.")
    businessKey: str | None = Field(default=None, max_length=255)


class DefinitionRef(BaseModel):
    key: str
    version: int


class PathwayOut(Open):
    id: str
    patientId: str | None
    status: str
    definition: DefinitionRef
    variables: dict[str, Any]
    activeElements: list[str]
    completedElements: list[str]
    nextDueAt: str | None


class TimelineEvent(Open):
    id: int
    at: str
    actor: str
    action: str


class TimelineOut(BaseModel):
    items: list[TimelineEvent]


class MessageIn(Strict):
    variables: dict[str, Any] | None = None


class StatusChangeIn(Strict):
    reason: str | None = Field(default=None, max_length=2000)


class MigrateIn(Strict):
    version: int = Field(ge=1, le=2_147_483_647)
    dryRun: bool = False
    timers: dict[str, Literal["keep", "recompute"]] = Field(
        default_factory=dict, max_length=200,
        description="per waiting timer (element id): keep its due time (default) or recompute it as the "
                    "new version would have set it when the timer was reached")
    start: list[str] = Field(
        default_factory=list, max_length=50,
        description="added user tasks this patient would not get (addedNotReached) to start for them now, "
                    "outside the flow: ready like any task, nothing follows them")
    decisions: dict[str, Literal["keep", "refresh"]] = Field(
        default_factory=dict, max_length=200,
        description="per decision already run whose result would differ (element id): keep the stored "
                    "result or refresh it (default: refresh for refreshOnMigration decisions, else keep)")


class MigrationTimer(Open):
    elementId: str
    due: str
    dueIfRecomputed: str | None
    choice: Literal["keep", "recompute"]
    dueAfter: str
    kept: bool
    note: str | None = None


class MigrationDecision(Open):
    elementId: str
    decision: str
    variable: str
    current: Any = None
    new: Any = None
    choice: Literal["keep", "refresh"]
    refreshOnMigration: bool
    differences: list[dict[str, Any]] = Field(default_factory=list,
                                              description="the outputs that differ: output, current, new")
    note: str | None = None


class AddedNotReached(Open):
    elementId: str
    name: str
    reason: str
    start: bool


class MigrateOut(Open):
    pathwayId: str
    dryRun: bool
    fromVersion: int
    toVersion: int
    migrated: bool
    possible: bool
    blocking: list[str]
    timers: list[MigrationTimer]
    decisions: list[MigrationDecision]
    addedNotReached: list[AddedNotReached]


# -- tasks -------------------------------------------------------------------------------------
class TaskQuery(Strict):
    status: Literal["ready", "completed", "cancelled", "any"] = "ready"
    candidateGroup: str | None = Field(default=None, min_length=1, max_length=255)
    assignee: str | None = Field(default=None, min_length=1, max_length=255)
    patientId: str | None = Field(default=None, min_length=1, max_length=36)
    pathwayId: str | None = Field(default=None, min_length=1, max_length=36)
    dueBefore: AwareDatetime | None = None
    dueAfter: AwareDatetime | None = None
    overdue: bool | None = None
    limit: int = Field(default=50, ge=1, le=1000)
    cursor: str | None = Field(default=None, min_length=1, max_length=2000)
    sort: Literal["due", "priority"] = "due"


class PatientLabel(BaseModel):
    externalId: str
    displayName: str | None


class TaskOut(Open):
    id: str
    pathwayId: str
    patientId: str | None
    elementId: str
    name: str | None
    status: str
    candidateGroups: list[str]
    assignee: str | None
    priority: int | None
    due: str | None
    followUp: str | None
    overdue: bool
    createdAt: str
    patient: PatientLabel | None = None


class TaskDetail(TaskOut):
    form: dict[str, Any]


class TaskPage(BaseModel):
    items: list[TaskOut]
    nextCursor: str | None


class CompleteIn(Strict):
    variables: dict[str, Any] = Field(default_factory=dict)


class CompleteOut(Open):
    task: TaskOut
    pathway: dict[str, Any]


# -- decisions and the clock -------------------------------------------------------------------
class EvaluateIn(Strict):
    inputs: dict[str, Any] = Field(default_factory=dict)


class EvaluateOut(Open):
    result: Any = None
    matchedRules: list[str]
    trace: list[dict[str, Any]]
    definition: DefinitionRef


_N = "[0-9]{1,3}"  # ASCII digits: \d would let a generator (or a client) send other scripts' digits
_DATE_PART = f"({_N}Y({_N}M)?({_N}W)?({_N}D)?|{_N}M({_N}W)?({_N}D)?|{_N}W({_N}D)?|{_N}D)"
_TIME_PART = f"T({_N}H({_N}M)?({_N}S)?|{_N}M({_N}S)?|{_N}S)"
# an ISO-8601 duration forward, at least one part, each at most 3 digits (the clock stays in range)
DURATION = rf"^P({_DATE_PART}({_TIME_PART})?|{_TIME_PART})$"


class ClockIn(Strict):
    """Exactly one of ``advance`` or ``set`` (the schema says so too, with ``oneOf``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "oneOf": [{"required": ["advance"]}, {"required": ["set"]}]})

    # None only as "not given": the schema offers no null, so oneOf/required mean what they say
    # the pattern documents the form; the route parses it (surrounding whitespace allowed: a
    # generator or a shell may add a newline that the pattern's "$" lets through in Python)
    advance: str | SkipJsonSchema[None] = Field(default=None, min_length=2, max_length=64, examples=["P6W"],
                                                json_schema_extra={"pattern": DURATION})
    set: AwareDatetime | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _one_of(self) -> ClockIn:
        if (self.advance is None) == (self.set is None):
            raise ValueError("give exactly one of 'advance' (an ISO-8601 duration) or 'set' (a date-time)")
        return self


class FiredOut(BaseModel):
    pathwayId: str
    fired: list[dict[str, Any]]


class ClockOut(BaseModel):
    now: str
    simulated: bool
    fired: list[FiredOut] = Field(default_factory=list)
