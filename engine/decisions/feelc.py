"""Thin adapter over ``engine.feel``: compile cells once, turn syntax errors into readable text."""

from __future__ import annotations

from typing import Any

ANY_TEXTS = ("", "-")


class CompileError(Exception):
    """A FEEL text that does not parse; ``str()`` names the error and where it is."""


def _describe(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error)
    position = getattr(error, "position", None)
    if position is not None and f"position {position}" not in message:
        return f"{message} (at position {position})"
    return message


def compile_expression(text: str) -> Any:
    from engine.feel import FeelError, parse_expression

    try:
        return parse_expression(text)
    except FeelError as error:  # FeelSyntaxError is a FeelError
        raise CompileError(_describe(error)) from error


def compile_tests(text: str) -> Any:
    """Compiled unary tests, or None for ``-`` and empty cells (they match anything)."""
    from engine.feel import FeelError, parse_unary_tests

    if text.strip() in ANY_TEXTS:
        return None
    try:
        return parse_unary_tests(text)
    except FeelError as error:
        raise CompileError(_describe(error)) from error


def split_top_level(text: str) -> list[str]:
    """Split ``"a","b", [1..5]`` at commas that are outside strings, parentheses and braces.

    Commas inside intervals are rare in ``outputValues``; pieces that do not parse alone are
    re-joined by :func:`compile_value_list`.
    """
    pieces: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    start = 0
    for index, char in enumerate(text):
        if quoted:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
            continue
        if char == '"':
            quoted = True
        elif char in "({":
            depth += 1
        elif char in ")}":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            pieces.append(text[start:index])
            start = index + 1
    pieces.append(text[start:])
    return [p.strip() for p in pieces]


def compile_value_list(text: str) -> list[Any]:
    """One compiled unary test per listed value of an ``outputValues`` text, in order."""
    compile_tests(text)  # the whole list first, so an error position indexes the whole text
    tests: list[Any] = []
    pending = ""
    last_error: CompileError | None = None
    for piece in split_top_level(text):
        candidate = f"{pending},{piece}" if pending else piece
        if not candidate.strip():
            raise CompileError("empty entry in the list of values")
        try:
            compiled = compile_tests(candidate)
        except CompileError as error:
            pending, last_error = candidate, error
            continue
        if compiled is None:
            raise CompileError(f"'{candidate}' is not a value")
        tests.append(compiled)
        pending, last_error = "", None
    if pending:
        raise last_error or CompileError(f"cannot parse '{pending}'")
    return tests
