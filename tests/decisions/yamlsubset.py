"""A small reader for the YAML subset the decision test files use, for when PyYAML is not installed.

The project does not depend on PyYAML, so ``tests/test_dmn_tables.py`` uses it when it is importable
and this reader otherwise. Supported (and all the decision files need):

- block mappings (``key: value`` / ``key:`` + an indented block) and block sequences (``- item``,
  ``- key: value`` starting a mapping);
- flow sequences ``[a, b]`` and flow mappings ``{a: 1, b: "x"}`` on one line, nested;
- scalars: ``"double"`` and ``'single'`` quoted strings, plain strings, ``null``/``~``, booleans
  (``true``/``false`` and, as PyYAML reads YAML 1.1, ``yes``/``no``/``on``/``off``: quote
  ``"YES"``/``"NO"`` when you mean text), integers and decimals (returned as ``int``/``float``);
- ``#`` comments (whole line, or after a space outside quotes).

Anything else (anchors, tags, multi-line scalars, ``|``/``>`` blocks) raises :class:`YamlSubsetError`
with the line number, so a file never silently reads differently from real YAML.
"""

from __future__ import annotations

import re
from typing import Any

_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9_]+|[0-9][0-9_]*\.[0-9_]*)([eE][-+][0-9]+)?$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?$")
_BOOL = {"true": True, "false": False, "yes": True, "no": False, "on": True, "off": False}
_UNSUPPORTED_START = ("&", "*", "!", "|", ">", "%", "@", "`")


class YamlSubsetError(ValueError):
    pass


def loads(text: str) -> Any:
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise YamlSubsetError(f"line {number}: tabs are not allowed for indentation")
        stripped = _strip_comment(raw, number).rstrip()
        if stripped.strip() in ("", "---"):
            continue
        lines.append((number, len(stripped) - len(stripped.lstrip(" ")), stripped.strip()))
    if not lines:
        return None
    parser = _Parser(lines)
    value = parser.block(lines[0][1])
    if parser.pos != len(lines):
        number = lines[parser.pos][0]
        raise YamlSubsetError(f"line {number}: unexpected indentation")
    return value


def _strip_comment(line: str, number: int) -> str:
    quote = None
    for index, char in enumerate(line):
        if quote:
            if char == "\\" and quote == '"':
                continue
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return line[:index]
    return line


class _Parser:
    def __init__(self, lines: list[tuple[int, int, str]]) -> None:
        self.lines = lines
        self.pos = 0

    def block(self, indent: int) -> Any:
        number, current, text = self.lines[self.pos]
        if current != indent:
            raise YamlSubsetError(f"line {number}: unexpected indentation")
        if text == "-" or text.startswith("- "):
            return self.sequence(indent)
        return self.mapping(indent)

    def sequence(self, indent: int) -> list[Any]:
        items: list[Any] = []
        while self.pos < len(self.lines):
            number, current, text = self.lines[self.pos]
            if current < indent:
                break
            if current > indent or not (text == "-" or text.startswith("- ")):
                raise YamlSubsetError(f"line {number}: expected '- ' at indentation {indent}")
            rest = text[1:].strip()
            if not rest:
                self.pos += 1
                items.append(self._nested(indent, number))
            elif _is_key(rest):
                # "- key: value" starts a mapping whose keys sit at indent + 2
                child = indent + (len(text) - len(text[1:].lstrip()))
                self.lines[self.pos] = (number, child, rest)
                items.append(self.mapping(child))
            else:
                self.pos += 1
                items.append(_scalar_or_flow(rest, number))
        return items

    def mapping(self, indent: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while self.pos < len(self.lines):
            number, current, text = self.lines[self.pos]
            if current < indent:
                break
            if current > indent:
                raise YamlSubsetError(f"line {number}: unexpected indentation")
            if text.startswith("- "):
                break
            key, rest = _split_key(text, number)
            if key in result:
                raise YamlSubsetError(f"line {number}: duplicate key '{key}'")
            self.pos += 1
            if rest == "":
                result[key] = self._nested(indent, number, allow_same_indent_sequence=True)
            else:
                result[key] = _scalar_or_flow(rest, number)
        return result

    def _nested(self, indent: int, number: int, allow_same_indent_sequence: bool = False) -> Any:
        if self.pos >= len(self.lines):
            return None
        _, child, text = self.lines[self.pos]
        if child > indent:
            return self.block(child)
        if allow_same_indent_sequence and child == indent and (text == "-" or text.startswith("- ")):
            return self.sequence(indent)
        return None


def _is_key(text: str) -> bool:
    if text[:1] in "\"'[{":
        return bool(re.match(r"^(\"[^\"]*\"|'[^']*')\s*:(\s|$)", text))
    return bool(re.match(r"^[^:#]+?:(\s|$)", text))


def _split_key(text: str, number: int) -> tuple[str, str]:
    match = re.match(r"^(\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^:#\"'][^:#]*?)\s*:(?:\s+(.*))?$", text)
    if not match:
        raise YamlSubsetError(f"line {number}: expected 'key: value', got {text!r}")
    key = match.group(1)
    if key[0] in "\"'":
        key = _quoted(key, number)
    return key, (match.group(2) or "").strip()


def _scalar_or_flow(text: str, number: int) -> Any:
    value, rest = _flow_value(text, 0, number, top=True)
    if text[rest:].strip():
        raise YamlSubsetError(f"line {number}: unexpected text after value: {text[rest:]!r}")
    return value


def _flow_value(text: str, index: int, number: int, top: bool = False) -> tuple[Any, int]:
    while index < len(text) and text[index] == " ":
        index += 1
    if index >= len(text):
        return None, index
    char = text[index]
    if char == "[":
        items: list[Any] = []
        index += 1
        while True:
            while index < len(text) and text[index] == " ":
                index += 1
            if index < len(text) and text[index] == "]":
                return items, index + 1
            value, index = _flow_value(text, index, number)
            items.append(value)
            while index < len(text) and text[index] == " ":
                index += 1
            if index < len(text) and text[index] == ",":
                index += 1
                continue
            if index < len(text) and text[index] == "]":
                return items, index + 1
            raise YamlSubsetError(f"line {number}: unterminated flow sequence")
    if char == "{":
        mapping: dict[str, Any] = {}
        index += 1
        while True:
            while index < len(text) and text[index] == " ":
                index += 1
            if index < len(text) and text[index] == "}":
                return mapping, index + 1
            key, index = _flow_value(text, index, number)
            while index < len(text) and text[index] == " ":
                index += 1
            if index >= len(text) or text[index] != ":":
                raise YamlSubsetError(f"line {number}: expected ':' in flow mapping")
            value, index = _flow_value(text, index + 1, number)
            if str(key) in mapping:
                raise YamlSubsetError(f"line {number}: duplicate key '{key}'")
            mapping[str(key)] = value
            while index < len(text) and text[index] == " ":
                index += 1
            if index < len(text) and text[index] == ",":
                index += 1
                continue
            if index < len(text) and text[index] == "}":
                return mapping, index + 1
            raise YamlSubsetError(f"line {number}: unterminated flow mapping")
    if char in "\"'":
        end = index + 1
        while end < len(text):
            if char == '"' and text[end] == "\\":
                end += 2
                continue
            if text[end] == char:
                if char == "'" and end + 1 < len(text) and text[end + 1] == "'":
                    end += 2
                    continue
                break
            end += 1
        if end >= len(text):
            raise YamlSubsetError(f"line {number}: unterminated quoted string")
        return _quoted(text[index:end + 1], number), end + 1
    if char in _UNSUPPORTED_START:
        raise YamlSubsetError(f"line {number}: YAML feature not supported by the subset reader: {text[index:]!r}")
    end = index
    stops = "" if top else ",]}"
    while end < len(text) and text[end] not in stops:
        if not top and text[end] == ":" and (end + 1 == len(text) or text[end + 1] == " "):
            break
        end += 1
    return _plain(text[index:end].strip(), number), end


def _quoted(token: str, number: int) -> str:
    body = token[1:-1]
    if token[0] == "'":
        return body.replace("''", "'")
    escapes = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "/": "/"}
    out, index = [], 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            nxt = body[index + 1: index + 2]
            if nxt in escapes:
                out.append(escapes[nxt])
                index += 2
                continue
            if nxt == "u":
                out.append(chr(int(body[index + 2: index + 6], 16)))
                index += 6
                continue
            raise YamlSubsetError(f"line {number}: unsupported escape \\{nxt}")
        out.append(char)
        index += 1
    return "".join(out)


def _plain(token: str, number: int) -> Any:
    if token in ("", "~", "null", "Null", "NULL"):
        return None
    lowered = token.lower()
    if lowered in _BOOL and token in (lowered, lowered.capitalize(), lowered.upper()):
        return _BOOL[lowered]
    if _INT.match(token):
        return int(token.replace("_", ""))
    if _FLOAT.match(token) and any(c.isdigit() for c in token):
        return float(token.replace("_", ""))
    if _DATE.match(token):
        raise YamlSubsetError(f"line {number}: quote dates (\"{token}\"): YAML would read a date, not text")
    if token[0] in _UNSUPPORTED_START:
        raise YamlSubsetError(f"line {number}: YAML feature not supported by the subset reader: {token!r}")
    return token
