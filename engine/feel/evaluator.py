"""Compile a FEEL syntax tree into Python closures, once, at parse time.

Evaluating is then a chain of plain function calls over an :class:`Env`; no text is
looked at again. Nothing here calls ``eval``/``exec``: user text can only reach the
operators and built-ins defined in this package.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from . import ops
from .access import get_path, select
from .errors import FeelEvaluationError
from .nodes import (
    And,
    Between,
    Binary,
    Call,
    ContextNode,
    Filter,
    For,
    FunctionDef,
    If,
    In,
    InstanceOf,
    IsDefined,
    ListNode,
    Literal,
    Name,
    Negate,
    Node,
    Or,
    Path,
    Quantified,
    Range,
)
from .registry import BUILTINS
from .values import NULL, kind, to_feel

Compiled = Callable[["Env"], Any]
MAX_RANGE = 100_000  # "for i in 1..n" builds a list; refuse absurd sizes instead of exhausting memory
_MISSING = object()
# Built-ins signal bad input by raising; FEEL wants null instead.
_NULL_ERRORS = (TypeError, ValueError, ArithmeticError, AttributeError, KeyError, IndexError, OverflowError,
                re.error)


class Env:
    """Variables for one evaluation: the caller's mapping (converted lazily, once per name) plus
    local bindings from ``for``/``some``/filters/contexts and ``?`` in unary tests."""

    __slots__ = ("root", "local", "clock", "cache")

    def __init__(self, root: Mapping[str, Any], clock: Any, local: dict[str, Any] | None = None,
                 cache: dict[str, Any] | None = None) -> None:
        self.root = root
        self.clock = clock
        self.local = local if local is not None else {}
        self.cache = cache if cache is not None else {}

    def child(self, bindings: dict[str, Any]) -> Env:
        return Env(self.root, self.clock, {**self.local, **bindings}, self.cache)

    def root_value(self, name: str) -> Any:
        cache = self.cache
        if name in cache:
            return cache[name]
        raw = self.root.get(name, _MISSING)
        value = None if raw is _MISSING else to_feel(raw)
        cache[name] = value
        return value

    def is_defined(self, name: str) -> bool:
        return name in self.local or name in self.root


class FeelFunction:
    """A ``function(a, b) body`` value; callable from Python (``sort`` uses it as ``precedes``)."""

    __slots__ = ("params", "body", "env")

    def __init__(self, params: tuple[str, ...], body: Compiled, env: Env) -> None:
        self.params, self.body, self.env = params, body, env

    def __call__(self, *args: Any) -> Any:
        if len(args) != len(self.params):
            return None
        return self.body(self.env.child(dict(zip(self.params, args, strict=True))))


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": ops.add, "-": ops.subtract, "*": ops.multiply, "/": ops.divide, "**": ops.power,
    "=": ops.equal, "!=": ops.not_equal, "<": ops.less, "<=": ops.less_equal, ">": ops.greater,
    ">=": ops.greater_equal,
}


def compile_node(node: Node) -> Compiled:
    handler = _COMPILERS.get(type(node))
    if handler is None:
        raise TypeError(f"cannot compile {type(node).__name__}")
    return handler(node)


def _literal(node: Literal) -> Compiled:
    value = node.value
    return lambda env: value


def _name(node: Name) -> Compiled:
    name = node.name

    def lookup(env: Env) -> Any:
        local = env.local
        if name in local:
            return local[name]
        return env.root_value(name)
    return lookup


def _path(node: Path) -> Compiled:
    target, key = compile_node(node.target), node.key
    return lambda env: get_path(target(env), key)


def _filter(node: Filter) -> Compiled:
    target, predicate = compile_node(node.target), compile_node(node.predicate)

    def run(env: Env) -> Any:
        values = target(env)
        if values is None:
            return None
        if not isinstance(values, list):
            values = [values]
        # A number selects by position (1-based, negative from the end); anything else filters.
        probe = predicate(env)
        if isinstance(probe, Decimal):
            return select(values, probe)
        kept = []
        for value in values:
            bindings = {**value, "item": value} if isinstance(value, dict) else {"item": value}
            if predicate(env.child(bindings)) is True:
                kept.append(value)
        return kept
    return run


def _call(node: Call) -> Compiled:
    spec = BUILTINS[node.function]
    fn, args = spec.fn, [compile_node(a) for a in node.args]
    if spec.foldable and all(isinstance(a, Literal) for a in node.args):
        try:
            constant = fn(*(a.value for a in node.args))  # type: ignore[attr-defined]
        except _NULL_ERRORS:
            constant = None
        return lambda env: constant
    needs_env = spec.needs_env

    def invoke(env: Env) -> Any:
        values = [a(env) for a in args]
        try:
            return fn(env, *values) if needs_env else fn(*values)
        except _NULL_ERRORS:
            return None
    return invoke


def _is_defined(node: IsDefined) -> Compiled:
    arg = node.arg
    if isinstance(arg, Name):
        name = arg.name
        return lambda env: env.is_defined(name)
    if isinstance(arg, Path):
        base, key = compile_node(arg.target), arg.key
        return lambda env: isinstance(container := base(env), dict) and key in container
    value = compile_node(arg)
    return lambda env: value(env) is not None


def _negate(node: Negate) -> Compiled:
    operand = compile_node(node.operand)
    return lambda env: ops.negate(operand(env))


def _binary(node: Binary) -> Compiled:
    op, left, right = _BINARY[node.op], compile_node(node.left), compile_node(node.right)
    return lambda env: op(left(env), right(env))


def _and(node: And) -> Compiled:
    left, right = compile_node(node.left), compile_node(node.right)

    def run(env: Env) -> bool | None:
        a = ops.as_bool(left(env))
        if a is False:
            return False  # false wins over null
        b = ops.as_bool(right(env))
        if b is False:
            return False
        return True if (a is True and b is True) else None
    return run


def _or(node: Or) -> Compiled:
    left, right = compile_node(node.left), compile_node(node.right)

    def run(env: Env) -> bool | None:
        a = ops.as_bool(left(env))
        if a is True:
            return True  # true wins over null
        b = ops.as_bool(right(env))
        if b is True:
            return True
        return False if (a is False and b is False) else None
    return run


def _between(node: Between) -> Compiled:
    value, low, high = compile_node(node.value), compile_node(node.low), compile_node(node.high)

    def run(env: Env) -> bool | None:
        v = value(env)
        return ops.and3(ops.greater_equal(v, low(env)), ops.less_equal(v, high(env)))
    return run


def _in(node: In) -> Compiled:
    from .unary import compile_test  # unary tests compile their operands with this module

    value, tests = compile_node(node.value), [compile_test(t, in_expression=True) for t in node.tests]
    return lambda env: ops.any3([test(v, env) for v in (value(env),) for test in tests])


_TYPE_KINDS = {"Null": NULL}


def _instance_of(node: InstanceOf) -> Compiled:
    value, wanted = compile_node(node.value), _TYPE_KINDS.get(node.type_name, node.type_name)
    if wanted == "Any":
        return lambda env: value(env) is not None
    return lambda env: kind(value(env)) == wanted


def _if(node: If) -> Compiled:
    condition, then, otherwise = (compile_node(n) for n in (node.condition, node.then, node.otherwise))
    return lambda env: then(env) if condition(env) is True else otherwise(env)


def _iteration_source(node: Node) -> Compiled:
    if not isinstance(node, Range):
        return compile_node(node)
    start, end = compile_node(node.start), compile_node(node.end)

    def numbers(env: Env) -> list[Decimal] | None:
        a, b = start(env), end(env)
        if not isinstance(a, Decimal) or not isinstance(b, Decimal) or a % 1 or b % 1:
            return None
        if abs(b - a) >= MAX_RANGE:
            raise FeelEvaluationError(f"range {a}..{b} is too large (limit {MAX_RANGE} items)")
        step = 1 if b >= a else -1
        return [Decimal(i) for i in range(int(a), int(b) + step, step)]
    return numbers


def _combinations(bindings: list[tuple[str, Compiled]], env: Env):
    """Yield an environment for each combination of the iteration contexts, outer name first."""
    if not bindings:
        yield env
        return
    (name, source), rest = bindings[0], bindings[1:]
    values = source(env)
    if not isinstance(values, list):
        raise _NotAList
    for value in values:
        yield from _combinations(rest, env.child({name: value}))


class _NotAList(Exception):
    pass


def _for(node: For) -> Compiled:
    bindings = [(name, _iteration_source(src)) for name, src in node.bindings]
    body = compile_node(node.body)

    def run(env: Env) -> list[Any] | None:
        try:
            return [body(scope) for scope in _combinations(bindings, env)]
        except _NotAList:
            return None
    return run


def _quantified(node: Quantified) -> Compiled:
    bindings = [(name, compile_node(src)) for name, src in node.bindings]
    body, every = compile_node(node.body), node.every

    def run(env: Env) -> bool | None:
        try:
            for scope in _combinations(bindings, env):
                if (body(scope) is True) != every:
                    return not every
        except _NotAList:
            return None
        return every
    return run


def _list(node: ListNode) -> Compiled:
    items = [compile_node(i) for i in node.items]
    return lambda env: [item(env) for item in items]


def _context(node: ContextNode) -> Compiled:
    entries = [(key, compile_node(value)) for key, value in node.entries]

    def run(env: Env) -> dict[str, Any]:
        result: dict[str, Any] = {}
        scope = env.child({})  # later entries may use earlier ones: {a: 1, b: a + 1}
        for key, value in entries:
            result[key] = scope.local[key] = value(scope)
        return result
    return run


def _function(node: FunctionDef) -> Compiled:
    params, body = node.params, compile_node(node.body)
    return lambda env: FeelFunction(params, body, env)


_COMPILERS: dict[type, Callable[[Any], Compiled]] = {
    Literal: _literal, Name: _name, Path: _path, Filter: _filter, Call: _call, IsDefined: _is_defined,
    Negate: _negate, Binary: _binary, And: _and, Or: _or, Between: _between, In: _in,
    InstanceOf: _instance_of, If: _if, For: _for, Quantified: _quantified, ListNode: _list,
    ContextNode: _context, FunctionDef: _function,
}
