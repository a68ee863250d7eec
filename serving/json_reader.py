"""Parses REST request bodies the way TF Serving's rapidjson parser does.

TF Serving parses bodies with rapidjson (iterative parser, ``NaN``/``Infinity``
allowed, anything after the root value ignored, UTF-8 not validated) and
reports failures as ``JSON Parse error: <rapidjson message> at offset: <byte>``.
Python's C-accelerated ``json`` parser handles the common case; when it rejects
a body, or when a body holds something the two parsers treat differently, a
small pure-Python re-implementation of rapidjson's grammar produces the value
or the exact rapidjson error and byte offset.

Strings are returned as ``str`` decoded with ``surrogateescape``, so invalid
UTF-8 survives: ``s.encode("utf-8", "surrogateescape")`` gives the original
bytes back. No TensorFlow import.
"""

import json
import math
import re
from typing import Any, List, Tuple

from tfx_kfp.serving.errors import InvalidArgument

__all__ = ["parse_json_object", "parse_json", "JsonParseError", "is_proto_text"]

# rapidjson's GetParseError_En() texts.
_DOCUMENT_EMPTY = "The document is empty."
_VALUE_INVALID = "Invalid value."
_OBJECT_MISS_NAME = "Missing a name for object member."
_OBJECT_MISS_COLON = "Missing a colon after a name of object member."
_OBJECT_MISS_COMMA_OR_CURLY = "Missing a comma or '}' after an object member."
_ARRAY_MISS_COMMA_OR_SQUARE = "Missing a comma or ']' after an array element."
_STRING_INVALID_HEX = "Incorrect hex digit after \\u escape in string."
_STRING_SURROGATE_INVALID = "The surrogate pair in string is invalid."
_STRING_ESCAPE_INVALID = "Invalid escape character in string."
_STRING_MISS_QUOTE = "Missing a closing quotation mark in string."
_STRING_INVALID_ENCODING = "Invalid encoding in string."
_NUMBER_TOO_BIG = "Number too big to be stored in double."
_NUMBER_MISS_FRACTION = "Miss fraction part in number."
_NUMBER_MISS_EXPONENT = "Miss exponent in number."

# Bodies larger than this skip the exact (slow) diagnosis of parse errors.
_EXACT_DIAGNOSIS_LIMIT = 1 << 20

_DECODER = json.JSONDecoder()
# Bodies the fast parser would read differently from rapidjson: escaped UTF-16
# surrogates (rapidjson rejects unpaired ones) and exponents that may overflow
# a double (rapidjson rejects them; Python reads inf).
_NEEDS_EXACT = re.compile(rb"\\u[dD][89a-fA-F]|[eE][+]?[0-9]{3}|\x00")
_WHITESPACE = b" \t\n\r"
_INT64_MIN = -(1 << 63)
_UINT64_MAX = (1 << 64) - 1


def is_proto_text(text: str) -> bool:
    """True when a parsed string is valid UTF-8, so it can be a proto string or map key."""
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


class JsonParseError(InvalidArgument):
    """A request body is not valid JSON (HTTP 400, INVALID_ARGUMENT)."""


def parse_json(body: bytes) -> Any:
    """Parses a JSON document like TF Serving's ``ParseJson`` (without the object check).

    Args:
        body: The raw request body.

    Returns:
        The parsed value: dict, list, str, int, float, bool or None.

    Raises:
        JsonParseError: With TF Serving's message when the body is not JSON.
    """
    if not body:
        raise JsonParseError("JSON Parse error: The document is empty")
    start = 3 if body[:3] == b"\xef\xbb\xbf" else 0
    if _NEEDS_EXACT.search(body) is None:
        text = body.decode("utf-8", "surrogateescape")
        index = start and 1
        while index < len(text) and text[index] in " \t\n\r":
            index += 1
        try:
            return _DECODER.raw_decode(text, index)[0]
        except (ValueError, RecursionError):
            pass
    if len(body) > _EXACT_DIAGNOSIS_LIMIT:
        return _approximate_error(body, start)
    return _RapidJsonParser(body, start).parse()


def parse_json_object(body: bytes) -> dict:
    """Parses a request body that must be a JSON object (TF Serving's ``ParseJson``).

    Raises:
        JsonParseError: When the body is not JSON.
        InvalidArgument: ``JSON Value: ... Is not object`` when the root is not an object.
    """
    value = parse_json(body)
    if not isinstance(value, dict):
        from tfx_kfp.serving.json_writer import debug_string

        raise InvalidArgument(f"JSON Value: {debug_string(value)} Is not object")
    return value


def _approximate_error(body: bytes, start: int) -> Any:
    text = body.decode("utf-8", "surrogateescape")
    try:
        return _DECODER.raw_decode(text, start and 1)[0]
    except RecursionError:
        raise JsonParseError("JSON Parse error: document nested too deeply") from None
    except ValueError as error:
        position = getattr(error, "pos", 0) or 0
        offset = len(text[:position].encode("utf-8", "surrogateescape"))
        raise JsonParseError(
            f"JSON Parse error: {_VALUE_INVALID} at offset: {offset}") from None


class _Fail(Exception):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.message = message
        self.offset = offset


_PLAIN_STRING_RUN = re.compile(rb'[^"\\\x00-\x1f]*')
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)")
_DIGITS = re.compile(rb"[0-9]+")
_ESCAPES = {
    ord('"'): '"', ord("\\"): "\\", ord("/"): "/", ord("b"): "\b",
    ord("f"): "\f", ord("n"): "\n", ord("r"): "\r", ord("t"): "\t",
}
_HEX = frozenset(b"0123456789abcdefABCDEF")


class _RapidJsonParser:
    """Byte-level re-implementation of rapidjson's iterative parser.

    Reports the first error with rapidjson's message and offset; a NUL byte
    ends the input, as rapidjson's MemoryStream reads it.
    """

    def __init__(self, data: bytes, start: int):
        nul = data.find(b"\x00")
        self.data = data if nul < 0 else data[:nul]
        self.end = len(self.data)
        self.pos = start

    def parse(self) -> Any:
        try:
            return self._parse_document()
        except _Fail as failure:
            raise JsonParseError(
                f"JSON Parse error: {failure.message} at offset: {failure.offset}") from None

    def _peek(self) -> int:
        return self.data[self.pos] if self.pos < self.end else 0

    def _skip_ws(self) -> None:
        data, end, pos = self.data, self.end, self.pos
        while pos < end and data[pos] in _WHITESPACE:
            pos += 1
        self.pos = pos

    def _parse_document(self) -> Any:
        self._skip_ws()
        if self.pos >= self.end:
            raise _Fail(_DOCUMENT_EMPTY, self.pos)
        # Explicit stack: each frame is [container, pending_key, is_object, state].
        stack: List[list] = []
        root_done = False
        root: Any = None
        # States: "value" expects a value (or closing bracket when empty allowed).
        state = "start"
        while True:
            self._skip_ws()
            c = self._peek()
            if state == "start":
                if c == 0:
                    raise _Fail(_DOCUMENT_EMPTY, self.pos)
                # rapidjson reports a stray ']', '}', ',' or ':' at the root
                # as an empty document.
                value, opened = self._value_or_open(c, _DOCUMENT_EMPTY)
                if opened is None:
                    return value
                stack.append(opened)
                state = "obj_initial" if opened[2] else "arr_initial"
                continue
            frame = stack[-1]
            if state in ("obj_initial", "obj_delim"):
                if c == ord('"'):
                    frame[1] = self._string()
                    state = "obj_key"
                elif c == ord("}") and state == "obj_initial":
                    self.pos += 1
                    value = stack.pop()[0]
                    state, root_done, root = self._close(stack, value)
                    if root_done:
                        return root
                else:
                    raise _Fail(_OBJECT_MISS_NAME, self.pos)
            elif state == "obj_key":
                if c != ord(":"):
                    raise _Fail(_OBJECT_MISS_COLON, self.pos)
                self.pos += 1
                self._skip_ws()
                c = self._peek()
                if c == 0:
                    raise _Fail(_VALUE_INVALID, self.pos)
                value, opened = self._value_or_open(c, _VALUE_INVALID)
                if opened is not None:
                    stack.append(opened)
                    state = "obj_initial" if opened[2] else "arr_initial"
                else:
                    frame[0][frame[1]] = value
                    state = "obj_value"
            elif state == "obj_value":
                if c == ord(","):
                    self.pos += 1
                    state = "obj_delim"
                elif c == ord("}"):
                    self.pos += 1
                    value = stack.pop()[0]
                    state, root_done, root = self._close(stack, value)
                    if root_done:
                        return root
                else:
                    raise _Fail(_OBJECT_MISS_COMMA_OR_CURLY, self.pos)
            elif state in ("arr_initial", "arr_delim"):
                if c == ord("]"):
                    if state == "arr_delim":
                        raise _Fail(_VALUE_INVALID, self.pos)
                    self.pos += 1
                    value = stack.pop()[0]
                    state, root_done, root = self._close(stack, value)
                    if root_done:
                        return root
                    continue
                if c == 0 or c in (ord(","), ord(":"), ord("}")):
                    raise _Fail(_VALUE_INVALID, self.pos)
                value, opened = self._value_or_open(c, _VALUE_INVALID)
                if opened is not None:
                    stack.append(opened)
                    state = "obj_initial" if opened[2] else "arr_initial"
                else:
                    frame[0].append(value)
                    state = "arr_element"
            elif state == "arr_element":
                if c == ord(","):
                    self.pos += 1
                    state = "arr_delim"
                elif c == ord("]"):
                    self.pos += 1
                    value = stack.pop()[0]
                    state, root_done, root = self._close(stack, value)
                    if root_done:
                        return root
                else:
                    raise _Fail(_ARRAY_MISS_COMMA_OR_SQUARE, self.pos)

    @staticmethod
    def _close(stack: List[list], value: Any) -> Tuple[str, bool, Any]:
        if not stack:
            return "done", True, value
        parent = stack[-1]
        if parent[2]:
            parent[0][parent[1]] = value
            return "obj_value", False, None
        parent[0].append(value)
        return "arr_element", False, None

    def _value_or_open(self, c: int, invalid: str):
        if c == ord("{"):
            self.pos += 1
            return None, [{}, None, True]
        if c == ord("["):
            self.pos += 1
            return None, [[], None, False]
        if c == ord('"'):
            return self._string(), None
        if c in (ord("}"), ord("]"), ord(","), ord(":")):
            raise _Fail(invalid, self.pos)
        if c == ord("n"):
            return self._literal(b"null", None), None
        if c == ord("t"):
            return self._literal(b"true", True), None
        if c == ord("f"):
            return self._literal(b"false", False), None
        return self._number(), None

    def _literal(self, word: bytes, value: Any) -> Any:
        self.pos += 1
        for expected in word[1:]:
            if self._peek() != expected:
                raise _Fail(_VALUE_INVALID, self.pos)
            self.pos += 1
        return value

    def _string(self) -> str:
        data = self.data
        self.pos += 1  # opening quote
        pieces: List[str] = []
        while True:
            run = _PLAIN_STRING_RUN.match(data, self.pos)
            if run.end() > self.pos:
                pieces.append(run.group().decode("utf-8", "surrogateescape"))
                self.pos = run.end()
            c = self._peek()
            if c == ord('"'):
                self.pos += 1
                return "".join(pieces)
            if c == ord("\\"):
                escape_offset = self.pos
                self.pos += 1
                e = self._peek()
                if e in _ESCAPES:
                    pieces.append(_ESCAPES[e])
                    self.pos += 1
                elif e == ord("u"):
                    self.pos += 1
                    codepoint = self._hex4(escape_offset)
                    if 0xD800 <= codepoint <= 0xDFFF:
                        if codepoint > 0xDBFF:
                            raise _Fail(_STRING_SURROGATE_INVALID, escape_offset)
                        if self._peek() != ord("\\"):
                            raise _Fail(_STRING_SURROGATE_INVALID, escape_offset)
                        self.pos += 1
                        if self._peek() != ord("u"):
                            raise _Fail(_STRING_SURROGATE_INVALID, escape_offset)
                        self.pos += 1
                        low = self._hex4(escape_offset)
                        if not 0xDC00 <= low <= 0xDFFF:
                            raise _Fail(_STRING_SURROGATE_INVALID, escape_offset)
                        codepoint = (((codepoint - 0xD800) << 10) | (low - 0xDC00)) + 0x10000
                    pieces.append(chr(codepoint))
                else:
                    raise _Fail(_STRING_ESCAPE_INVALID, escape_offset)
            elif c == 0:
                raise _Fail(_STRING_MISS_QUOTE, self.pos)
            else:  # control character
                raise _Fail(_STRING_INVALID_ENCODING, self.pos)

    def _hex4(self, escape_offset: int) -> int:
        value = 0
        for _ in range(4):
            c = self._peek()
            if c not in _HEX:
                raise _Fail(_STRING_INVALID_HEX, escape_offset)
            value = value * 16 + int(chr(c), 16)
            self.pos += 1
        return value

    def _number(self) -> Any:
        data = self.data
        start = self.pos
        minus = self._peek() == ord("-")
        if minus:
            self.pos += 1
        c = self._peek()
        if c == ord("N") or c == ord("I"):
            return self._nan_or_inf(minus)
        if not ord("0") <= c <= ord("9"):
            raise _Fail(_VALUE_INVALID, self.pos)
        if c == ord("0"):
            self.pos += 1
        else:
            self.pos = _DIGITS.match(data, self.pos).end()
        is_double = False
        if self._peek() == ord("."):
            self.pos += 1
            digits = _DIGITS.match(data, self.pos)
            if digits is None:
                raise _Fail(_NUMBER_MISS_FRACTION, self.pos)
            self.pos = digits.end()
            is_double = True
        if self._peek() in (ord("e"), ord("E")):
            self.pos += 1
            if self._peek() in (ord("+"), ord("-")):
                self.pos += 1
            digits = _DIGITS.match(data, self.pos)
            if digits is None:
                raise _Fail(_NUMBER_MISS_EXPONENT, self.pos)
            self.pos = digits.end()
            is_double = True
        token = data[start:self.pos].decode("ascii")
        if not is_double:
            number = int(token)
            if _INT64_MIN <= number <= _UINT64_MAX:
                return number
        value = float(token)
        if math.isinf(value):
            raise _Fail(_NUMBER_TOO_BIG, start)
        return value

    def _nan_or_inf(self, minus: bool) -> float:
        if self._peek() == ord("N"):
            self.pos += 1
            for expected in b"aN":
                if self._peek() != expected:
                    raise _Fail(_VALUE_INVALID, self.pos)
                self.pos += 1
            return math.nan
        self.pos += 1  # 'I'
        for expected in b"nf":
            if self._peek() != expected:
                raise _Fail(_VALUE_INVALID, self.pos)
            self.pos += 1
        if self._peek() == ord("i"):
            for expected in b"inity":
                if self._peek() != expected:
                    raise _Fail(_VALUE_INVALID, self.pos)
                self.pos += 1
        return -math.inf if minus else math.inf
