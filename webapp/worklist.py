"""The worklist: open tasks due soonest first, filtered by what the URL says (so a filter can be
bookmarked and shared), one page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import flash, g, redirect, render_template, request

from api.state import service
from engine.clock import site_timezone
from engine.service import InvalidInput, NotFound

from .errors import page_blueprint
from .signin import signed_in

bp = page_blueprint("worklist", __name__)
PAGE = 25


@dataclass
class Filters:
    group: str = ""
    mine: bool = False
    overdue: bool = False
    start: date | None = None  # due on or after this day
    end: date | None = None  # due on or before this day
    patient: str = ""  # the hospital identifier
    sort: str = "due"  # or "priority"

    @classmethod
    def from_args(cls, args: Any) -> tuple[Filters, list[str]]:
        problems = []
        found = cls(group=args.get("group", "").strip(), mine=args.get("mine") == "1",
                    overdue=args.get("overdue") == "1", patient=args.get("patient", "").strip(),
                    sort="priority" if args.get("sort") == "priority" else "due")
        for name, attr in (("from", "start"), ("to", "end")):
            text = args.get(name, "").strip()
            if text:
                try:
                    setattr(found, attr, date.fromisoformat(text))
                except ValueError:
                    problems.append(f"'{text}' is not a date (use the date picker, or YYYY-MM-DD).")
        return found, problems

    def query(self) -> dict[str, str]:
        """The filters as URL parameters (empty ones left out)."""
        pairs = {"group": self.group, "mine": "1" if self.mine else "", "overdue": "1" if self.overdue else "",
                 "from": self.start.isoformat() if self.start else "", "to": self.end.isoformat() if self.end else "",
                 "patient": self.patient, "sort": "" if self.sort == "due" else self.sort}
        return {k: v for k, v in pairs.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.query())

    def url(self, cursor: str | None = None) -> str:
        """The worklist with these filters (at this page)."""
        query = {**self.query(), **({"cursor": cursor} if cursor else {})}
        return f"/worklist?{urlencode(query)}" if query else "/worklist"


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=site_timezone())


@bp.get("/worklist")
@signed_in
def page() -> Any:
    filters, problems = Filters.from_args(request.args)
    for problem in problems:
        flash(problem, "error")
    svc = service()
    patient_id = None
    items: list[dict[str, Any]] = []
    next_cursor = None
    missing_patient = False
    if filters.patient:
        try:
            patient_id = svc.patient(external_id=filters.patient)["id"]
        except NotFound:
            missing_patient = True
    if not missing_patient:
        try:
            found = svc.tasks(
                status="ready", candidate_group=filters.group or None,
                assignee=g.user.name if filters.mine else None, patient_id=patient_id,
                due_after=_midnight(filters.start) - timedelta(microseconds=1) if filters.start else None,
                due_before=_midnight(filters.end + timedelta(days=1)) if filters.end else None,
                overdue=filters.overdue or None, limit=PAGE, cursor=request.args.get("cursor") or None,
                order=filters.sort)
            items, next_cursor = found["items"], found["nextCursor"]
        except InvalidInput:
            flash("That page link is no longer valid; showing the first page.", "error")
            return redirect(filters.url())
    return render_template(
        "worklist.html", tasks=items, filters=filters, groups=svc.candidate_groups(),
        missing_patient=missing_patient, continued=bool(request.args.get("cursor")),
        here=request.full_path.rstrip("?"),
        next_url=filters.url(next_cursor) if next_cursor else None, first_url=filters.url())
