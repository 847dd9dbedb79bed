"""FEEL built-ins on strings and lists (DMN 1.3 §10.3.4.3 and §10.3.4.4)."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cmp_to_key
from typing import Any

from . import ops
from .registry import builtin, integer, items, num, regex, seq, text


# ---------------------------------------------------------------- strings
def _start_index(position: int, size: int) -> int:
    """FEEL positions are 1-based; negative ones count from the end."""
    if position > 0:
        return position - 1
    if position < 0:
        return max(size + position, 0)
    raise ValueError("position 0")


@builtin("substring", ("string", "start position"), ("string", "start position", "length"))
def _substring(value: Any, start: Any, length: Any = None) -> str:
    chars = text(value)
    begin = _start_index(integer(start), len(chars))
    if length is None:
        return chars[begin:]
    count = integer(length)
    if count < 0:
        raise ValueError("negative length")
    return chars[begin:begin + count]


@builtin("string length", ("string",))
def _string_length(value: Any) -> Decimal:
    return Decimal(len(text(value)))


@builtin("upper case", ("string",))
def _upper(value: Any) -> str:
    return text(value).upper()


@builtin("lower case", ("string",))
def _lower(value: Any) -> str:
    return text(value).lower()


@builtin("substring before", ("string", "match"))
def _before(value: Any, match: Any) -> str:
    source, needle = text(value), text(match)
    if not needle:
        return ""
    head, found, _ = source.partition(needle)
    return head if found else ""


@builtin("substring after", ("string", "match"))
def _after(value: Any, match: Any) -> str:
    source, needle = text(value), text(match)
    if not needle:
        return source
    _, found, tail = source.partition(needle)
    return tail if found else ""


@builtin("contains", ("string", "match"))
def _contains(value: Any, match: Any) -> bool:
    return text(match) in text(value)


@builtin("starts with", ("string", "match"))
def _starts_with(value: Any, match: Any) -> bool:
    return text(value).startswith(text(match))


@builtin("ends with", ("string", "match"))
def _ends_with(value: Any, match: Any) -> bool:
    return text(value).endswith(text(match))


@builtin("matches", ("input", "pattern"), ("input", "pattern", "flags"))
def _matches(value: Any, pattern: Any, flags: Any = None) -> bool:
    return regex(pattern, flags).search(text(value)) is not None


_GROUP_REF = re.compile(r"\\(.)|\$(\d)")


def _replacement(template: str) -> Any:
    """XPath replacement text uses ``$1`` for groups and ``\\$`` for a dollar; build a function so
    Python's own backslash rules never apply to user text."""
    parts: list[str | int] = []
    pos = 0
    for match in _GROUP_REF.finditer(template):
        parts.append(template[pos:match.start()])
        parts.append(match[1] if match[1] is not None else int(match[2]))
        pos = match.end()
    parts.append(template[pos:])
    return lambda m: "".join(p if isinstance(p, str) else (m.group(p) or "") for p in parts)


@builtin("replace", ("input", "pattern", "replacement"), ("input", "pattern", "replacement", "flags"))
def _replace(value: Any, pattern: Any, replacement: Any, flags: Any = None) -> str:
    return regex(pattern, flags).sub(_replacement(text(replacement)), text(value))


@builtin("split", ("string", "delimiter"))
def _split(value: Any, delimiter: Any) -> list[str]:
    return regex(delimiter).split(text(value))


@builtin("string join", ("list",), ("list", "delimiter"))
def _string_join(values: Any, delimiter: Any = None) -> str:
    parts = [text(v) for v in seq(values) if v is not None]
    return ("" if delimiter is None else text(delimiter)).join(parts)


# ---------------------------------------------------------------- lists
def _contains_value(values: list[Any], element: Any) -> bool:
    return any(ops.equal(v, element) is True for v in values)


@builtin("list contains", ("list", "element"))
def _list_contains(values: Any, element: Any) -> bool:
    return _contains_value(seq(values), element)


@builtin("count", ("list",))
def _count(values: Any) -> Decimal:
    return Decimal(len(seq(values)))


def _extreme(args: tuple[Any, ...], sign: int) -> Any:
    values = items(args)
    if not values:
        return None
    best = values[0]
    for value in values[1:]:
        order = ops.compare(value, best)
        if order is None:
            return None  # mixed or unordered types
        if order == sign:
            best = value
    return best if len(values) > 1 or ops.compare(best, best) is not None else None


@builtin("min", ("list",), variadic=True)
def _min(*args: Any) -> Any:
    return _extreme(args, -1)


@builtin("max", ("list",), variadic=True)
def _max(*args: Any) -> Any:
    return _extreme(args, 1)


def _numbers(args: tuple[Any, ...]) -> list[Decimal]:
    return [num(v) for v in items(args)]


@builtin("sum", ("list",), variadic=True)
def _sum(*args: Any) -> Decimal | None:
    values = _numbers(args)
    if not values:
        return None
    total = Decimal(0)
    for value in values:
        total = ops.DECIMAL128.add(total, value)
    return total


@builtin("product", ("list",), variadic=True)
def _product(*args: Any) -> Decimal | None:
    values = _numbers(args)
    if not values:
        return None
    total = Decimal(1)
    for value in values:
        total = ops.DECIMAL128.multiply(total, value)
    return total


@builtin("mean", ("list",), variadic=True)
def _mean(*args: Any) -> Decimal | None:
    values = _numbers(args)
    if not values:
        return None
    return ops.DECIMAL128.divide(_sum(values), Decimal(len(values)))


@builtin("median", ("list",), variadic=True)
def _median(*args: Any) -> Decimal | None:
    values = sorted(_numbers(args))
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return ops.DECIMAL128.divide(ops.DECIMAL128.add(values[middle - 1], values[middle]), Decimal(2))


@builtin("stddev", ("list",), variadic=True)
def _stddev(*args: Any) -> Decimal | None:
    values = _numbers(args)
    if len(values) < 2:
        return None
    ctx = ops.DECIMAL128
    mean = ctx.divide(sum(values, Decimal(0)), Decimal(len(values)))
    squares = sum((ctx.power(v - mean, 2) for v in values), Decimal(0))
    return ctx.divide(squares, Decimal(len(values) - 1)).sqrt(ctx)


@builtin("mode", ("list",), variadic=True)
def _mode(*args: Any) -> list[Decimal]:
    values = _numbers(args)
    counts: dict[Decimal, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    top = max(counts.values(), default=0)
    return sorted(v for v, c in counts.items() if c == top)


@builtin("all", ("list",), variadic=True)
def _all(*args: Any) -> bool | None:
    values = items(args)
    return ops.all3(ops.as_bool(v) for v in values)


@builtin("any", ("list",), variadic=True)
def _any(*args: Any) -> bool | None:
    unknown = False
    for value in items(args):
        flag = ops.as_bool(value)
        if flag is True:
            return True
        if flag is None:
            unknown = True
    return None if unknown else False


@builtin("sublist", ("list", "start position"), ("list", "start position", "length"))
def _sublist(values: Any, start: Any, length: Any = None) -> list[Any]:
    source = seq(values)
    begin = _start_index(integer(start), len(source))
    if begin >= len(source):
        raise IndexError("start beyond the list")
    return source[begin:] if length is None else source[begin:begin + integer(length)]


@builtin("append", ("list", "item"), variadic=True)
def _append(values: Any, *extra: Any) -> list[Any]:
    return [*seq(values), *extra]


@builtin("concatenate", ("list",), variadic=True)
def _concatenate(*lists: Any) -> list[Any]:
    return [v for part in lists for v in seq(part)]


@builtin("insert before", ("list", "position", "newItem"))
def _insert_before(values: Any, position: Any, new_item: Any) -> list[Any]:
    source = list(seq(values))
    index = _start_index(integer(position), len(source))
    if index >= len(source) and integer(position) > 0:
        raise IndexError("position beyond the list")
    source.insert(index, new_item)
    return source


@builtin("remove", ("list", "position"))
def _remove(values: Any, position: Any) -> list[Any]:
    source = list(seq(values))
    index = _start_index(integer(position), len(source))
    del source[index]
    return source


@builtin("reverse", ("list",))
def _reverse(values: Any) -> list[Any]:
    return list(reversed(seq(values)))


@builtin("index of", ("list", "match"))
def _index_of(values: Any, match: Any) -> list[Decimal]:
    return [Decimal(i) for i, v in enumerate(seq(values), 1) if ops.equal(v, match) is True]


def _distinct(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if not _contains_value(out, value):
            out.append(value)
    return out


@builtin("union", ("list",), variadic=True)
def _union(*lists: Any) -> list[Any]:
    return _distinct([v for part in lists for v in seq(part)])


@builtin("distinct values", ("list",))
def _distinct_values(values: Any) -> list[Any]:
    return _distinct(seq(values))


@builtin("flatten", ("list",))
def _flatten(values: Any) -> list[Any]:
    out: list[Any] = []
    for value in seq(values):
        out.extend(_flatten(value) if isinstance(value, list) else [value])
    return out


@builtin("sort", ("list",), ("list", "precedes"))
def _sort(values: Any, precedes: Any = None) -> list[Any]:
    source = seq(values)
    if precedes is None:
        def order(a: Any, b: Any) -> int:
            result = ops.compare(a, b)
            if result is None:
                raise TypeError("list elements are not comparable")
            return result
    elif callable(precedes):
        def order(a: Any, b: Any) -> int:
            return -1 if precedes(a, b) is True else (1 if precedes(b, a) is True else 0)
    else:
        raise TypeError("precedes must be a function")
    return sorted(source, key=cmp_to_key(order))
