"""Recursive-descent parser for FEEL expressions and unary tests (DMN 1.3 grammar, Camunda flavour).

Precedence, loosest first: ``if/for/some/every/function`` < ``or`` < ``and`` < comparison
(``= != < <= > >= between in instance of``) < ``+ -`` < ``* /`` < ``**`` < unary ``-`` <
postfix (path ``.x``, filter ``[..]``). Only built-in functions can be called; their
names (including multi-word ones such as ``date and time``) are resolved here, so an
unknown function is a syntax error found at deploy time.
"""

from __future__ import annotations

from decimal import Decimal

from . import fn_collections, fn_core  # noqa: F401  (importing registers the built-ins)
from .errors import FeelSyntaxError
from .lexer import EOF, NAME, NUM, OP, QNAME, STR, TEMPORAL, Token, describe, tokenize
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
from .registry import BUILTINS, MULTI_WORD
from .unary import COMPARISONS, UnaryTestSyntax
from .values import parse_date, parse_date_time, parse_feel_duration, parse_time

# Words that can never start an operand; meeting one there is a syntax error, not a variable.
_STOP_WORDS = frozenset({"and", "or", "then", "else", "return", "satisfies", "in", "between", "instance", "of"})
_TYPE_NAMES = ("years and months duration", "days and time duration", "date and time", "number", "string",
               "boolean", "date", "time", "list", "context", "function", "Any", "Null")


class Parser(UnaryTestSyntax):
    def __init__(self, source: str, text: str | None = None) -> None:
        self.source = source  # what error messages show
        self.tokens: list[Token] = tokenize(source if text is None else text)
        self.i = 0
        self.no_filter = False  # set while parsing "]a..b[" so the closing "[" is not a filter

    # ------------------------------------------------------------ token helpers
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        if token.kind != EOF:
            self.i += 1
        return token

    def at_op(self, *values: str) -> bool:
        token = self.tokens[self.i]
        return token.kind == OP and token.value in values

    def at_word(self, word: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == NAME and token.value == word

    def error(self, message: str, token: Token | None = None) -> FeelSyntaxError:
        return FeelSyntaxError(message, self.source, (token or self.peek()).pos)

    def expect_op(self, value: str) -> Token:
        if not self.at_op(value):
            raise self.error(f"expected '{value}', found {describe(self.peek())}")
        return self.advance()

    def expect_word(self, word: str) -> Token:
        if not self.at_word(word):
            raise self.error(f"expected '{word}', found {describe(self.peek())}")
        return self.advance()

    def expect_end(self) -> None:
        token = self.peek()
        if token.kind == EOF:
            return
        previous = self.tokens[self.i - 1] if self.i else None
        if token.kind == NAME and previous is not None and previous.kind == NAME:
            raise self.error(f"unexpected name '{token.value}' (a name with spaces must be written "
                             f"in back-quotes, e.g. `{previous.value} {token.value}`)")
        if token.kind == OP and token.value == "..":
            raise self.error("unexpected '..' (a range is written in brackets, e.g. [1..5])")
        raise self.error(f"unexpected {describe(token)}")

    def name_token(self) -> str:
        token = self.peek()
        if token.kind == QNAME or (token.kind == NAME and token.value not in _STOP_WORDS):
            self.advance()
            return token.value
        raise self.error(f"expected a name, found {describe(token)}")

    # ------------------------------------------------------------ expressions
    def expression(self) -> Node:
        token = self.peek()
        if token.kind == NAME:
            if token.value == "if":
                self.advance()
                condition = self.expression()
                self.expect_word("then")
                then = self.expression()
                self.expect_word("else")
                return If(condition, then, self.expression())
            if token.value == "for" and self._binding_follows():
                self.advance()
                bindings = self.bindings(allow_range=True)
                self.expect_word("return")
                return For(bindings, self.expression())
            if token.value in ("some", "every") and self._binding_follows():
                self.advance()
                bindings = self.bindings(allow_range=False)
                self.expect_word("satisfies")
                return Quantified(token.value == "every", bindings, self.expression())
            if token.value == "function" and self.peek(1).kind == OP and self.peek(1).value == "(":
                return self.function_definition()
        return self.disjunction()

    def _binding_follows(self) -> bool:
        return self.peek(1).kind in (NAME, QNAME) and self.at_word("in", 2)

    def bindings(self, allow_range: bool) -> tuple[tuple[str, Node], ...]:
        out: list[tuple[str, Node]] = []
        while True:
            name = self.name_token()
            self.expect_word("in")
            source = self.expression()
            if allow_range and self.at_op(".."):
                self.advance()
                source = Range(source, self.expression())
            out.append((name, source))
            if not self.at_op(","):
                return tuple(out)
            self.advance()

    def function_definition(self) -> Node:
        self.advance()
        self.expect_op("(")
        params: list[str] = []
        while not self.at_op(")"):
            params.append(self.name_token())
            if not self.at_op(")"):
                self.expect_op(",")
        self.advance()
        return FunctionDef(tuple(params), self.expression())

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.at_word("or"):
            self.advance()
            node = Or(node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.comparison()
        while self.at_word("and"):
            self.advance()
            node = And(node, self.comparison())
        return node

    def comparison(self) -> Node:
        node = self.additive()
        token = self.peek()
        if token.kind == OP and token.value in COMPARISONS:
            self.advance()
            return Binary(token.value, node, self.additive())
        if self.at_word("between"):
            self.advance()
            low = self.additive()
            self.expect_word("and")
            return Between(node, low, self.additive())
        if self.at_word("in"):
            self.advance()
            if self.at_op("("):
                interval = self.try_interval()
                if interval is not None:
                    return In(node, (interval,))
                self.advance()
                tests = self.positive_unary_tests(full=True)
                self.expect_op(")")
                return In(node, tests)
            return In(node, (self.positive_unary_test(full=False),))
        if self.at_word("instance") and self.at_word("of", 1):
            self.advance()
            self.advance()
            return InstanceOf(node, self.type_name())
        return node

    def type_name(self) -> str:
        for candidate in _TYPE_NAMES:
            words = candidate.split(" ")
            if all(self.at_word(w, k) for k, w in enumerate(words)):
                self.i += len(words)
                return candidate
        raise self.error(f"expected a type name, found {describe(self.peek())}")

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.at_op("+", "-"):
            op = self.advance().value
            node = Binary(op, node, self.multiplicative())
        return node

    def multiplicative(self) -> Node:
        node = self.power()
        while self.at_op("*", "/"):
            op = self.advance().value
            node = Binary(op, node, self.power())
        return node

    def power(self) -> Node:
        node = self.unary()
        while self.at_op("**"):
            self.advance()
            node = Binary("**", node, self.unary())
        return node

    def unary(self) -> Node:
        if self.at_op("-"):
            self.advance()
            operand = self.unary()
            if isinstance(operand, Literal) and isinstance(operand.value, Decimal):
                return Literal(-operand.value)  # "-2.5" is a literal, not a run-time negation
            return Negate(operand)
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while True:
            if self.at_op("."):
                self.advance()
                key = self.name_token()
                if key == "time" and self.at_word("offset"):
                    self.advance()
                    key = "time offset"
                node = Path(node, key)
            elif self.at_op("[") and not self.no_filter:
                self.advance()
                predicate = self.expression()
                self.expect_op("]")
                node = Filter(node, predicate)
            elif self.at_op("("):
                raise self.error("only built-in functions can be called")
            else:
                return node

    def primary(self) -> Node:
        token = self.peek()
        kind = token.kind
        if kind == NUM:
            self.advance()
            return Literal(Decimal(token.value))
        if kind == STR:
            self.advance()
            return Literal(token.value)
        if kind == TEMPORAL:
            self.advance()
            return Literal(self.temporal_literal(token))
        if kind == QNAME:
            self.advance()
            return Name(token.value, token.pos)
        if kind == OP:
            return self.bracketed(token)
        if kind == NAME:
            return self.word(token)
        raise self.error(f"unexpected {describe(token)}")

    def bracketed(self, token: Token) -> Node:
        if token.value == "(":
            self.advance()
            saved, self.no_filter = self.no_filter, False
            node = self.expression()
            self.no_filter = saved
            self.expect_op(")")
            return node
        if token.value == "[":
            self.advance()
            items = self.sequence("]")
            return ListNode(tuple(items))
        if token.value == "{":
            return self.context()
        raise self.error(f"unexpected {describe(token)}")

    def sequence(self, close: str) -> list[Node]:
        saved, self.no_filter = self.no_filter, False
        items: list[Node] = []
        while not self.at_op(close):
            items.append(self.expression())
            if not self.at_op(close):
                self.expect_op(",")
                if self.at_op(close):
                    raise self.error(f"unexpected '{close}' after ','")
        self.advance()
        self.no_filter = saved
        return items

    def context(self) -> Node:
        self.advance()
        entries: list[tuple[str, Node]] = []
        seen: set[str] = set()
        while not self.at_op("}"):
            token = self.peek()
            if token.kind == STR:
                self.advance()
                key = token.value
            else:
                words = [self.name_token()]
                while self.peek().kind == NAME and not self.at_op(":"):
                    words.append(self.advance().value)
                key = " ".join(words)
            if key in seen:
                raise self.error(f"duplicate context key '{key}'", token)
            seen.add(key)
            self.expect_op(":")
            entries.append((key, self.expression()))
            if not self.at_op("}"):
                self.expect_op(",")
        self.advance()
        return ContextNode(tuple(entries))

    def word(self, token: Token) -> Node:
        value = token.value
        if value in ("true", "false"):
            self.advance()
            return Literal(value == "true")
        if value == "null":
            self.advance()
            return Literal(None)
        if (value == "if" or (value in ("for", "some", "every") and self._binding_follows())
                or (value == "function" and self.at_op_ahead(1, "("))):
            return self.expression()  # a textual expression used as an operand
        name = self.builtin_name()
        if name is not None:
            return self.call(name, token)
        if value in _STOP_WORDS:
            raise self.error(f"unexpected '{value}'")
        self.advance()
        if self.at_op("("):
            raise self.error(f"unknown function '{value}'", token)
        return Name(value, token.pos)

    def builtin_name(self) -> str | None:
        """The longest built-in name starting here and followed by '(' (consumes nothing)."""
        first = self.peek().value
        for words in MULTI_WORD.get(first, ()):
            if all(self.at_word(w, k) for k, w in enumerate(words)):
                after = self.peek(len(words))
                if after.kind == OP and after.value == "(":
                    return " ".join(words)
        if first in BUILTINS and self.at_op_ahead(1, "("):
            return first
        return None

    def at_op_ahead(self, ahead: int, value: str) -> bool:
        token = self.peek(ahead)
        return token.kind == OP and token.value == value

    def call(self, name: str, token: Token) -> Node:
        spec = BUILTINS[name]
        self.i += len(name.split(" "))
        self.expect_op("(")
        positional: list[Node] = []
        named: list[tuple[str, Node, Token]] = []
        saved, self.no_filter = self.no_filter, False
        while not self.at_op(")"):
            label = self.argument_label()
            start = self.peek()
            value = self.expression()
            if label is None:
                if named:
                    raise self.error("positional argument after named arguments", start)
                positional.append(value)
            else:
                named.append((label, value, start))
            if not self.at_op(")"):
                self.expect_op(",")
        self.advance()
        self.no_filter = saved
        if named:
            signature = spec.resolve_named([label for label, _, _ in named])
            if signature is None:
                labels = ", ".join(label for label, _, _ in named)
                raise self.error(f"function '{name}' has no parameters named {labels}", token)
            given = {label: value for label, value, _ in named}
            # Left-out optional parameters are passed as null, which built-ins read as "not given".
            positional = [given.get(param, Literal(None)) for param in signature]
        if not spec.accepts(len(positional)):
            raise self.error(f"function '{name}' takes {spec.describe_arity()}, got {len(positional)}", token)
        if name == "is defined":
            return IsDefined(positional[0])
        return Call(name, tuple(positional), token.pos)

    def argument_label(self) -> str | None:
        """Consume ``name:`` (parameter names may have spaces: ``start position:``) if present."""
        k = 0
        while self.peek(k).kind == NAME:
            k += 1
        if k and self.at_op_ahead(k, ":"):
            words = [self.advance().value for _ in range(k)]
            self.advance()
            return " ".join(words)
        return None

    def temporal_literal(self, token: Token) -> object:
        text = token.value
        if text.strip().lstrip("-+")[:1] in ("P", "p"):
            value: object = parse_feel_duration(text)
        else:
            value = parse_date(text) or parse_date_time(text) or parse_time(text)
        if value is None:
            raise self.error(f"invalid date, time or duration literal @\"{text}\"", token)
        return value
