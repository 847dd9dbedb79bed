"""Names and values: every name an expression reads means what it says.

- A name nobody writes (a misspelling: ``threeMonth.referalDecision``) is an error with a "did
  you mean"; so is a member the writer's shape does not have.
- A name must be written upstream on every path that reaches the read (start form, form field,
  decision result, declared message payload); a read that may find it unset is an error unless
  the expression expects null there (``x = null``, a table rule for null).
- Comparing a decision output or an enum answer with a literal it can never have is an error.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from ..problems import Problem
from .dataflow import Dataflow
from .model import PathwayModel, Read
from .shapes import Shape, merge

# FEEL names every expression may use without a writer
_BUILTIN_NAMES = frozenset({"item"})


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the closest candidate (case does not count), else ``""``."""
    by_lower = {c.lower(): c for c in sorted(set(candidates), reverse=True)}
    close = difflib.get_close_matches(word.lower(), sorted(by_lower), n=1, cutoff=0.7)
    return f"; did you mean '{by_lower[close[0]]}'?" if close else ""


def shape_of(model: PathwayModel, name: str) -> Shape | None:
    writers = model.writers_of(name)
    return merge([w.shape for w in writers]) if writers else None


def _writer_list(model: PathwayModel, name: str) -> str:
    writers = model.writers_of(name)
    ids = sorted({w.element.id + ("" if w.definite else " (optional answer)") for w in writers})
    return ", ".join(ids[:4]) + (" …" if len(ids) > 4 else "")


def check_names(model: PathwayModel, flow: Dataflow) -> list[Problem]:
    problems: list[Problem] = []
    known = {w.name for w in model.all_writes()}
    reported: set[tuple[str, str, str]] = set()

    def report(read: Read, root: str, message: str) -> None:
        key = (read.element.file, read.element.id, root)
        if key not in reported:
            reported.add(key)
            problems.append(Problem(read.element.file, read.element.id, message))

    for read in model.reads:
        reach = flow.reach(read.at, after=read.what == "condition")
        for path in sorted(read.paths):
            root = path[0]
            if root in _BUILTIN_NAMES:
                continue
            shape = shape_of(model, root)
            dotted = ".".join(path)
            if shape is None:
                report(read, root, f"{read.what} reads '{dotted}', but nothing in the pathway writes '{root}' "
                                   f"(no form field, decision result, message payload or start-form input)"
                                   + did_you_mean(root, known))
                continue
            current = shape
            for depth, key in enumerate(path[1:], start=1):
                inner = current.member(key)
                if inner is None:
                    owner = ".".join(path[:depth])
                    if current.members is not None:
                        where = f"its members are {', '.join(current.member_names())}"
                    else:
                        where = "it is a single value"
                    report(read, root, f"{read.what} reads '{dotted}', but '{owner}' has no member '{key}' "
                                       f"({where})" + did_you_mean(key, current.member_names()))
                    break
                current = inner
            else:
                if root not in reach.may and root not in read.null_aware:
                    report(read, root, f"{read.what} reads '{root}' before anything writes it on any path to here "
                                       f"(written by {_writer_list(model, root)})")
                elif root not in reach.must and root not in read.null_aware:
                    report(read, root, f"{read.what} reads '{root}', which is not written on every path to here "
                                       f"(written by {_writer_list(model, root)}); it may be null: test it "
                                       f"(e.g. {root} = null) or make sure every path sets it")
    return problems


def _allowed(model: PathwayModel, path: tuple[str, ...]) -> tuple[Shape | None, str]:
    shape = shape_of(model, path[0])
    for key in path[1:]:
        if shape is None:
            return None, ""
        shape = shape.member(key)
    return shape, ".".join(path)


def check_values(model: PathwayModel) -> list[Problem]:
    """Literals compared with an enum answer or a decision output must be among its values."""
    problems: list[Problem] = []
    seen: set[tuple[str, str, str, str]] = set()
    for read in model.reads:
        for comparison in read.comparisons:
            if not isinstance(comparison.value, str) or comparison.op not in ("=", "!=", "contains"):
                continue
            shape, dotted = _allowed(model, comparison.path)
            if shape is None or shape.values is None or comparison.value in shape.values:
                continue
            key = (read.element.file, read.element.id, dotted, comparison.value)
            if key in seen:
                continue
            seen.add(key)
            values = ", ".join(sorted(shape.values))
            problems.append(Problem(read.element.file, read.element.id,
                                    f"{read.what} compares '{dotted}' with \"{comparison.value}\", which it can "
                                    f"never be (its values: {values})" + did_you_mean(comparison.value, shape.values)))
    return problems
