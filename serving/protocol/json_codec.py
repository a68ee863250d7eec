"""TF Serving's JSON text rules, where a client can tell them apart once the JSON is parsed.

Reading as rapidjson: ``NaN``/``Infinity`` accepted, trailing text ignored, invalid UTF-8 kept
(``surrogateescape``), ``JSON Parse error: <reason> at offset: <byte>`` (Python's reason), and
``{"b64": ...}`` as ``absl::Base64Unescape``. Writing keeps what changes parsed values:
``WriteDecimal`` float digits, ``NaN``/``Infinity``, and request fragments quoted in messages
(``JsonValueToDebugString``: PrettyWriter, single-line arrays, cut near 256 characters).
"""

import base64
import binascii
import json
import math
import re
import struct
from decimal import Decimal
from typing import Any, Iterator, Optional, Union

from tfx_kfp.serving.protocol.errors import InvalidArgument

__all__ = ["parse_json_object", "parse_json", "JsonParseError", "is_proto_text",
           "is_base64_object", "decode_base64_object", "json_list", "debug_string",
           "json_type_name", "format_rapidjson_double", "escape_string", "format_float32",
           "format_float64"]

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"
# absl::Base64Unescape (absl/strings/escaping.cc): standard alphabet, ASCII whitespace
# skipped anywhere, padding optional but, when present, exactly what the length needs.
_BASE64_TEXT = re.compile(r"([A-Za-z0-9+/]*)(=*)")
_ASCII_SPACE = str.maketrans("", "", " \t\n\v\f\r")
# rapidjson's Writer escapes control characters, '"' and '\' only.
_ESCAPES = {i: "\\u%04X" % i for i in range(0x20)}
_ESCAPES.update({0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r",
                 ord('"'): '\\"', ord("\\"): "\\\\"})
_DEBUG_LIMIT = 256  # JsonValueToDebugString's buffer: writing stops once it is this full
_INDENT = "    "


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
    """Parses a JSON document like TF Serving's ``ParseJson`` (JsonParseError if it is not)."""
    text = body.decode("utf-8", "surrogateescape")
    if text.startswith("\ufeff"):  # rapidjson skips a UTF-8 byte order mark
        text = text[1:]
    start = len(text) - len(text.lstrip(_WHITESPACE))
    if start == len(text):
        raise JsonParseError("JSON Parse error: The document is empty")
    try:
        value, _ = _DECODER.raw_decode(text, start)
    except json.JSONDecodeError as error:
        offset = len(text[:error.pos].encode("utf-8", "surrogateescape"))
        raise JsonParseError(f"JSON Parse error: {error.msg} at offset: {offset}") from None
    except RecursionError:
        raise JsonParseError("JSON Parse error: the document nests too deeply") from None
    return value


def parse_json_object(body: bytes) -> dict:
    """Parses a request body that must be a JSON object (TF Serving's message otherwise)."""
    value = parse_json(body)
    if type(value) is not dict:
        raise InvalidArgument(f"JSON Value: {debug_string(value)} Is not object")
    return value


def is_base64_object(value: Any) -> bool:
    """True for ``{"b64": "<string>"}`` (exactly one key, string value)."""
    return type(value) is dict and len(value) == 1 and type(value.get("b64")) is str


def decode_base64_object(value: Any) -> bytes:
    """Decodes ``{"b64": ...}`` like TF Serving's ``JsonDecodeBase64Object``."""
    if not is_base64_object(value):
        raise InvalidArgument(
            f"JSON Value: {debug_string(value)} not formatted correctly for base64 data")
    match = _BASE64_TEXT.fullmatch(value["b64"].translate(_ASCII_SPACE))
    if match is None:
        raise InvalidArgument("Unable to base64 decode")
    text, padding = match.groups()
    if len(text) % 4 == 1 or (padding and len(padding) != -len(text) % 4):
        raise InvalidArgument("Unable to base64 decode")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArgument("Unable to base64 decode") from None


def json_list(doc: dict, key: str, not_a_list: str, empty: str) -> list:
    """``doc[key]``, which must be a non-empty list (TF Serving's messages otherwise)."""
    value = doc[key]
    if type(value) is not list:
        raise InvalidArgument(f"JSON Value: {debug_string(doc)} {not_a_list}")
    if not value:
        raise InvalidArgument(f"JSON Value: {debug_string(doc)} {empty}")
    return value


def escape_string(value: Union[str, bytes]) -> str:
    """``value`` quoted as rapidjson's Writer writes it; invalid UTF-8 bytes pass through."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "surrogateescape")
    return '"' + value.translate(_ESCAPES) + '"'


def _finish_decimal(text: str, value: float) -> str:
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "-Infinity" if value < 0 else "Infinity"
    return text if "." in text or "e" in text else text + ".0"


def format_float32(value: float) -> str:
    """A float32 as TF Serving's ``WriteDecimal<float>``: 6 digits unless they do not round-trip."""
    text = "%g" % value
    try:
        round_trips = struct.unpack("f", struct.pack("f", float(text)))[0] == value
    except OverflowError:  # six digits rounded past float32's largest value
        round_trips = False
    if not round_trips:
        text = "%.9g" % value
    return _finish_decimal(text, value)


def format_float64(value: float) -> str:
    """A float64 as ``WriteDecimal<double>``: 6 digits unless they do not round-trip."""
    text = "%g" % value
    if value == value and float(text) != value:
        text = "%.17g" % value
    return _finish_decimal(text, value)


def _prettify(digits: str, k: int, max_decimal_places: int = 324) -> str:
    length = len(digits)
    kk = length + k
    if 0 <= k and kk <= 21:
        return digits + "0" * k + ".0"
    if 0 < kk <= 21:
        return digits[:kk] + "." + digits[kk:]
    if -6 < kk <= 0:
        return "0." + "0" * (-kk) + digits
    if kk < -max_decimal_places:
        return "0.0"
    if length == 1:
        return digits + "e" + str(kk - 1)
    return digits[0] + "." + digits[1:] + "e" + str(kk - 1)


def format_rapidjson_double(value: float) -> str:
    """A double as rapidjson's ``Writer::Double`` writes it: the shortest digits (``repr``'s),
    laid out by Grisu's ``Prettify``; "" for NaN and infinities, which it refuses to write."""
    if not math.isfinite(value):
        return ""
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    _, digits, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    return ("-" if value < 0 else "") + _prettify("".join(map(str, digits)), exponent)


def _debug_chunks(value: Any, depth: int, separator: str) -> Iterator[Optional[str]]:
    """rapidjson PrettyWriter's tokens (with separators) for ``value``, arrays on one line;
    None marks a NaN or infinity, which rapidjson refuses after writing its separator."""
    if isinstance(value, dict):
        yield separator + "{"
        inner = "\n" + _INDENT * (depth + 1)
        for index, (key, item) in enumerate(value.items()):
            yield ("," if index else "") + inner + escape_string(key)
            yield from _debug_chunks(item, depth + 1, ": ")
        yield ("\n" + _INDENT * depth if value else "") + "}"
    elif isinstance(value, list):
        yield separator + "["
        for index, item in enumerate(value):
            yield from _debug_chunks(item, depth + 1, ", " if index else "")
        yield "]"
    elif isinstance(value, str):
        yield separator + escape_string(value)
    elif isinstance(value, bool) or value is None:
        yield separator + {True: "true", False: "false", None: "null"}[value]
    elif isinstance(value, int) and -(1 << 63) <= value < (1 << 64):
        yield separator + str(value)
    else:
        text = format_rapidjson_double(float(value))
        yield separator + text
        if not text:
            yield None


def debug_string(value: Any) -> str:
    """A request fragment as TF Serving's ``JsonValueToDebugString`` renders it in messages."""
    parts, size = [], 0
    try:
        for chunk in _debug_chunks(value, 0, ""):
            if chunk is None or size >= _DEBUG_LIMIT:  # rapidjson checks before each token
                break
            parts.append(chunk)
            size += len(chunk)
    except RecursionError:
        pass
    return "".join(parts)


def json_type_name(value: Any) -> str:
    """rapidjson's type name for a parsed JSON value ("Number", "Array"...)."""
    if type(value) is bool:
        return str(value)
    return {dict: "Object", list: "Array", str: "String", type(None): "Null"}.get(
        type(value), "Number")


