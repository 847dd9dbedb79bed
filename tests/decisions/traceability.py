"""Regenerate the generated part of ``docs/traceability.md`` from ``dmn/`` and ``tests/decisions/*.yaml``.

    python -m tests.decisions.traceability          # rewrite the part between the markers
    python -m tests.decisions.traceability --check  # exit 1 if it is out of date

Everything between ``<!-- generated:begin -->`` and ``<!-- generated:end -->`` comes from the rule
annotations in the DMN files and the ``rules`` each YAML case asserts; the text around the markers is
written by hand. No clinical content lives here: it only copies what the tables and cases say.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "traceability.md"
BEGIN, END = "<!-- generated:begin -->", "<!-- generated:end -->"
SITE_POLICY = "SitePolicy"


def _runner() -> Any:
    spec = importlib.util.spec_from_file_location("decision_case_runner", ROOT / "tests" / "test_dmn_tables.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _esc(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _order(decision: Any) -> tuple[int, int, str]:
    if decision.id == SITE_POLICY:
        return (0, 0, "")
    match = re.match(r"DT(\d+)([a-z]?)", decision.name)
    return (1, int(match.group(1)), match.group(2)) if match else (2, 0, decision.name)


def _condition(rule: Any, table: Any) -> str:
    parts = []
    for clause, entry in zip(table.inputs, rule.inputs, strict=True):
        text = entry.text
        if text in ("", "-"):
            continue
        name = clause.expression_text if re.fullmatch(r"\w+", clause.expression_text) else clause.display
        if text.startswith(("[", "(", "]")):
            parts.append(f"{name} in {text}")
        elif re.match(r"^(<=|>=|<|>|=|!=)", text):
            parts.append(f"{name} {text}")
        else:
            parts.append(f"{name} = {text}")
    return " and ".join(parts) or "(always)"


def _outputs(rule: Any, table: Any) -> str:
    values = [entry.text.strip('"') for entry in rule.outputs
              if entry.text and entry.text.startswith('"') and entry.text.count('"') == 2 and len(entry.text) < 40]
    if values:
        return ", ".join(values[:2])
    first = rule.outputs[0].text if rule.outputs and rule.outputs[0].text else ""
    return first[:60]


def generate() -> str:
    from engine.decisions import DecisionTable

    runner = _runner()
    registry = runner.registry()
    rule_cases: dict[str, list[str]] = {}
    for file_name, _index, _data, case in runner.CASES:
        for rule in case.get("rules") or []:
            rule_cases.setdefault(rule, []).append(f"{file_name.removesuffix('.yaml')}: {case['name']}")
    decisions = sorted(registry.decisions(), key=lambda d: (d.filename, _order(d)))
    lines: list[str] = []
    w = lines.append
    w("## Files")
    w("")
    w("| File | Decisions |")
    w("|---|---|")
    by_file: dict[str, list[Any]] = {}
    for decision in decisions:
        by_file.setdefault(decision.filename, []).append(decision)
    for file_name, members in sorted(by_file.items()):
        w(f"| `dmn/{file_name}` | " + ", ".join(f"`{d.id}`" for d in members) + " |")
    w("")
    literals = [d.id for d in decisions if not isinstance(d.logic, DecisionTable)]
    w("Literal-expression decisions (no rules; their cases use `decision:` in the YAML files): "
      + ", ".join(f"`{name}`" for name in literals) + ".")
    w("")
    site = next((d for d in decisions if d.id == SITE_POLICY), None)
    if site is not None and isinstance(site.logic, DecisionTable) and site.logic.rules:
        w("## SitePolicy parameters (what a clinical lead edits) and the decisions that read them")
        w("")
        w(f"| Output | Default (`{site.logic.rules[-1].id}`) | Meaning | Read by |")
        w("|---|---|---|---|")
        for clause, entry in zip(site.logic.outputs, site.logic.rules[-1].outputs, strict=True):
            users = []
            for decision in decisions:
                if isinstance(decision.logic, DecisionTable):
                    texts = [c.expression_text for c in decision.logic.inputs]
                    texts += [e.text for r in decision.logic.rules for e in r.inputs + r.outputs]
                else:
                    texts = [decision.logic.text]
                # through the DRD, or from the variable the pathway stores the site policy in
                required = any(r.target_id == SITE_POLICY for r in decision.required_decisions)
                pattern = rf"\b{re.escape(clause.name)}\b" if required else rf"\bsite\.{re.escape(clause.name)}\b"
                if decision.id != SITE_POLICY and any(re.search(pattern, t or "") for t in texts):
                    users.append(f"`{decision.id}`")
            w(f"| `{clause.name}` | `{entry.text}` | {_esc(clause.label or '')} | {', '.join(users)} |")
        w("")
        w("A case can try another site value without editing the DMN: `site_policy: {vasThreshold: 3.0}` "
          "(see `tests/decisions/README.md`).")
        w("")
    for decision in sorted(decisions, key=_order):
        table = decision.logic
        if not isinstance(table, DecisionTable):
            continue
        w(f"## {decision.name} (`{decision.id}`, hit policy {table.hit_policy}, `dmn/{decision.filename}`)")
        w("")
        if decision.description:
            w(_esc(decision.description))
            w("")
        w("| DMN rule id | Design row | Rule (inputs → output) | Source (rule annotation) | Test cases |")
        w("|---|---|---|---|---|")
        for rule in table.rules:
            description = rule.description or ""
            match = re.match(r"clinical-design §3 (\S+) (r\d+)( \(split\))? · (.*)", description)
            if match:
                row, source = f"{match.group(1)} {match.group(2)}{match.group(3) or ''}", match.group(4)
            elif decision.id == SITE_POLICY:
                row, source = "§1.2 / §5", description
            elif description.startswith("[PROP]"):
                row, source = "added [PROP]", description
            else:
                row, source = "added", description
            cases = "<br>".join(_esc(c) for c in rule_cases.get(rule.id, [])) or "—"
            w(f"| `{rule.id}` | {row} | {_esc(_condition(rule, table))} → {_esc(_outputs(rule, table))} "
              f"| {_esc(source)} | {cases} |")
        w("")
    return "\n".join(lines)


def updated(document: str) -> str:
    if BEGIN not in document or END not in document:
        raise SystemExit(f"{DOC}: the markers {BEGIN} and {END} are missing")
    head, rest = document.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{generate()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    document = DOC.read_text(encoding="utf-8")
    new = updated(document)
    if "--check" in argv:
        if new != document:
            print(f"{DOC.relative_to(ROOT)} is out of date: run python -m tests.decisions.traceability")
            return 1
        return 0
    if new != document:
        DOC.write_text(new, encoding="utf-8")
        print(f"updated {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
