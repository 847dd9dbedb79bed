"""Tokeniser for FEEL text.

Words are emitted as NAME tokens (keywords included) and the parser decides what they
mean, because FEEL's multi-word built-ins (``date and time``, ``string length``) reuse
keyword words. Back-quoted names (`` `blood pressure` ``, a Camunda extension) become
QNAME tokens that are never keywords.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .errors import FeelSyntaxError

NUM, STR, NAME, QNAME, OP, TEMPORAL, EOF = "number", "string", "name", "qname", "op", "temporal", "end"


class Token(NamedTuple):
    kind: str
    value: str  # the decoded text (string contents without quotes/escapes)
    pos: int
    end: int


_SKIP = re.compile(r"(?:\s+|//[^\n]*|/\*.*?\*/)+", re.S)
_NUMBER = re.compile(r"(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[^\W\d]\w*|\?", re.UNICODE)
_OPS = ("..", "**", "<=", ">=", "!=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "=", "<", ">",
        "+", "-", "*", "/")
# JUEL (Camunda 7 ``${...}``) habits that are not FEEL: say what to write instead.
_HINTS = {"==": "FEEL uses '=' for equality, not '=='", "&&": "FEEL uses 'and', not '&&'",
          "||": "FEEL uses 'or', not '||'", "!": "FEEL uses 'not(...)' or '!=', not '!'",
          "'": 'strings in FEEL use double quotes: "text"'}
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "/": "/", "b": "\b", "f": "\f"}


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos, size = 0, len(text)
    while True:
        skipped = _SKIP.match(text, pos)
        if skipped:
            pos = skipped.end()
        if pos >= size:
            tokens.append(Token(EOF, "", size, size))
            return tokens
        char = text[pos]
        if char == '"':
            value, end = _read_string(text, pos)
            tokens.append(Token(STR, value, pos, end))
            pos = end
            continue
        if char == "@" and text.startswith('"', pos + 1):
            value, end = _read_string(text, pos + 1)
            tokens.append(Token(TEMPORAL, value, pos, end))
            pos = end
            continue
        if char == "`":
            close = text.find("`", pos + 1)
            if close < 0 or close == pos + 1:
                raise FeelSyntaxError("unterminated or empty `name`", text, pos)
            tokens.append(Token(QNAME, text[pos + 1:close], pos, close + 1))
            pos = close + 1
            continue
        if text.startswith("/*", pos):
            raise FeelSyntaxError("unterminated comment", text, pos)
        match = _NUMBER.match(text, pos)
        if match:
            tokens.append(Token(NUM, match.group(), pos, match.end()))
            pos = match.end()
            continue
        match = _NAME.match(text, pos)
        if match:
            tokens.append(Token(NAME, match.group(), pos, match.end()))
            pos = match.end()
            continue
        for hint, message in _HINTS.items():
            if text.startswith(hint, pos) and not text.startswith("!=", pos):
                raise FeelSyntaxError(message, text, pos)
        for op in _OPS:
            if text.startswith(op, pos):
                tokens.append(Token(OP, op, pos, pos + len(op)))
                pos += len(op)
                break
        else:
            raise FeelSyntaxError(f"unexpected character {char!r}", text, pos)


def _read_string(text: str, start: int) -> tuple[str, int]:
    """Decode a double-quoted string starting at ``start``; unknown escapes are kept as written
    so regular expressions such as ``"\\d+"`` survive."""
    out: list[str] = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == '"':
            return "".join(out), pos + 1
        if char == "\\" and pos + 1 < len(text):
            nxt = text[pos + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                pos += 2
                continue
            if nxt in "uU":
                width = 4 if nxt == "u" else 6
                digits = text[pos + 2:pos + 2 + width]
                if len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
                    code = int(digits, 16)
                    if code <= 0x10FFFF:
                        out.append(chr(code))
                        pos += 2 + width
                        continue
                raise FeelSyntaxError("invalid unicode escape", text, pos)
            out.append(char)
            pos += 1
            continue
        out.append(char)
        pos += 1
    raise FeelSyntaxError("unterminated string", text, start)


def describe(token: Token) -> str:
    """How a token is named in error messages."""
    if token.kind == EOF:
        return "end of input"
    if token.kind == STR:
        return f'string "{token.value}"'
    if token.kind == NUM:
        return f"number {token.value}"
    return f"'{token.value}'"
