"""Registry of FEEL built-in functions.

The parser checks every call against this registry at parse time (unknown name, wrong
number of arguments, unknown named argument), so a typo in a model is reported at deploy,
not when a patient reaches the gateway.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Builtin:
    name: str
    fn: Callable[..., Any]
    signatures: tuple[tuple[str, ...], ...]  # parameter names, one tuple per accepted arity
    variadic: bool = False  # accepts 1..n positional arguments (or a single list)
    needs_env: bool = False  # receives the evaluation environment first (today(), now())
    foldable: bool = False  # pure and cheap: literal arguments are evaluated at parse time

    def accepts(self, count: int) -> bool:
        if self.variadic:
            return count >= min(len(s) for s in self.signatures)
        return any(len(s) == count for s in self.signatures)

    def describe_arity(self) -> str:
        if self.variadic:
            return "one or more arguments"
        counts = sorted({len(s) for s in self.signatures})
        text = " or ".join(str(c) for c in counts)
        return f"{text} argument" + ("" if counts == [1] else "s")

    def resolve_named(self, names: list[str]) -> tuple[str, ...] | None:
        """The shortest signature that has all these parameter names and in which every left-out
        parameter is optional (comes after the shortest signature's parameters)."""
        wanted = set(names)
        required = min(len(s) for s in self.signatures)
        for signature in sorted(self.signatures, key=len):
            if wanted <= set(signature) and all(p in wanted for p in signature[:required]):
                return signature
        return None


BUILTINS: dict[str, Builtin] = {}
# Multi-word names, as word tuples, so the parser can greedily match "date and time".
MULTI_WORD: dict[str, list[tuple[str, ...]]] = {}


def builtin(name: str, *signatures: tuple[str, ...], variadic: bool = False,
            needs_env: bool = False, foldable: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        BUILTINS[name] = Builtin(name, fn, tuple(signatures) or ((),), variadic, needs_env, foldable)
        words = tuple(name.split(" "))
        if len(words) > 1:
            MULTI_WORD.setdefault(words[0], []).append(words)
            MULTI_WORD[words[0]].sort(key=len, reverse=True)
        return fn

    return register


# ---------------------------------------------------------------- argument helpers
# Built-ins raise TypeError/ValueError on bad input; the evaluator turns that into null.
def num(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    raise TypeError("not a number")


def integer(value: Any) -> int:
    number = num(value)
    if number != number.to_integral_value():
        raise ValueError("not an integer")
    return int(number)


def text(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise TypeError("not a string")


def seq(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    raise TypeError("not a list")


def items(args: tuple[Any, ...]) -> list[Any]:
    """Variadic aggregates accept ``f([1, 2])`` and ``f(1, 2)`` alike."""
    if len(args) == 1 and isinstance(args[0], list):
        return args[0]
    return list(args)


_FLAG_MAP = {"i": re.IGNORECASE, "s": re.DOTALL, "m": re.MULTILINE, "x": re.VERBOSE}


def regex(pattern: str, flags: str | None = None) -> re.Pattern[str]:
    """Compile an XPath-style pattern (cached: patterns are nearly always literals in the model)."""
    return _compile(text(pattern), "" if flags is None else text(flags))


_CACHE: dict[tuple[str, str], re.Pattern[str]] = {}


def _compile(pattern: str, flags: str) -> re.Pattern[str]:
    key = (pattern, flags)
    found = _CACHE.get(key)
    if found is None:
        value = 0
        for flag in flags:
            if flag not in _FLAG_MAP:
                raise ValueError(f"unknown regex flag {flag!r}")
            value |= _FLAG_MAP[flag]
        found = re.compile(pattern, value)
        if len(_CACHE) > 512:
            _CACHE.clear()
        _CACHE[key] = found
    return found
