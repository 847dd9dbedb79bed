"""Evaluating a deployed decision on its own (a lead checking a table), by definition and version."""

from __future__ import annotations

from typing import Any

from ..decisions import UnknownDecision
from ..store import get_definition, list_definitions
from .context import ServiceContext
from .errors import InvalidInput, NotFound


class DecisionService:
    ctx: ServiceContext

    def evaluate_decision(self, decision_id: str, inputs: dict[str, Any], *, definition: str | None = None,
                          version: int | None = None) -> tuple[Any, dict[str, Any]]:
        """Evaluate ``decision_id`` as the given definition version has it (the latest version when
        ``version`` is None; without ``definition``, the one pathway whose latest version defines
        it). Returns the result and ``{"key", "version"}``; the decision's own errors propagate."""
        with self.ctx.read() as session:
            if definition is not None:
                row = get_definition(session, definition, version)
                if row is None:
                    raise NotFound(f"definition '{definition}'" + (f" version {version}" if version else "")
                                   + " not found")
                rows = [row]
            else:
                rows = sorted(list_definitions(session, latest_only=True), key=lambda r: (r.created_at, r.id),
                              reverse=True)
            holders = [(row, self.ctx.bundle_for(row)) for row in rows]
            holders = [(row, bundle) for row, bundle in holders if _defines(bundle, decision_id)]
            if not holders:
                where = f"definition '{definition}'" + (f" version {version}" if version else "") \
                    if definition else "any deployed definition"
                raise NotFound(f"decision '{decision_id}' is not in {where}")
            if definition is None and version is not None:
                if len(holders) > 1:
                    raise InvalidInput(f"decision '{decision_id}' is in {', '.join(r.key for r, _ in holders)}: "
                                       "name the definition whose version you mean (?definition=)")
                row = get_definition(session, holders[0][0].key, version)
                if row is None or not _defines(bundle := self.ctx.bundle_for(row), decision_id):
                    raise NotFound(f"decision '{decision_id}' is not in version {version} of "
                                   f"'{holders[0][0].key}'")
                holders = [(row, bundle)]
            row, bundle = holders[0]
            found = {"key": row.key, "version": row.version}
        return bundle.decisions.evaluate(decision_id, inputs, self.ctx.clock), found


def _defines(bundle: Any, decision_id: str) -> bool:
    try:
        bundle.decisions.get(decision_id)
    except UnknownDecision:
        return False
    return True
