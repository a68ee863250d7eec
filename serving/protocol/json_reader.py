"""Parses REST request bodies with Python's json module, as TF Serving's rapidjson does.

What a client can tell apart is kept: ``NaN``/``Infinity`` are accepted, anything
after the root value is ignored (rapidjson's ``kParseStopWhenDoneFlag``), invalid
UTF-8 inside strings is not an error (strings are decoded with
``surrogateescape`` so ``s.encode("utf-8", "surrogateescape")`` gives the bytes
back), and failures are ``JSON Parse error: <reason> at offset: <byte>`` with
HTTP 400. The reason texts are Python's, not rapidjson's (no client depends on
them). Values are then checked by TF Serving's rules shared by all request kinds:
``{"b64": ...}`` objects as ``absl::Base64Unescape`` reads them, non-empty lists,
and request fragments quoted in error messages as ``JsonValueToDebugString``
renders them (rapidjson's ``Writer``: single-line arrays, shortest doubles, cut
near 256 bytes). No TensorFlow import.
"""

import base64
import binascii
import json
import math
import re
from typing import Any

from tfx_kfp.serving.protocol.errors import InvalidArgument
from tfx_kfp.serving.protocol.json_writer import LimitReached, PrettyWriter

__all__ = [
    "parse_json_object",
    "parse_json",
    "JsonParseError",
    "is_proto_text",
    "is_base64_object",
    "decode_base64_object",
    "json_list",
    "debug_string",
    "json_type_name",
    "format_rapidjson_double",
]

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"
# absl::Base64Unescape (absl/strings/escaping.cc): standard alphabet, ASCII whitespace
# skipped anywhere, padding optional but, when present, exactly what the length needs.
_BASE64_TEXT = re.compile(r"([A-Za-z0-9+/]*)(=*)")
_ASCII_SPACE = str.maketrans("", "", " \t\n\v\f\r")


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

    Raises:
        JsonParseError: With the reason and byte offset when the body is not JSON.
    """
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
    """Formats a double like rapidjson's ``Writer::Double`` (shortest digits, Grisu style).

    Returns:
        The text, or an empty string for NaN and infinities (which rapidjson's
        default writer refuses to write).
    """
    if value != value or math.isinf(value):
        return ""
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    if fraction == "0":
        fraction = ""
    k = (int(exponent) if exponent else 0) - len(fraction)
    digits = (whole + fraction).lstrip("0")
    stripped = digits.rstrip("0")
    k += len(digits) - len(stripped)
    return sign + _prettify(stripped, k)


def _accept(value: Any, writer: PrettyWriter) -> None:
    if isinstance(value, dict):
        writer.start_object()
        for key, item in value.items():
            writer.key(key)
            _accept(item, writer)
        writer.end_object()
    elif isinstance(value, list):
        writer.start_array()
        for item in value:
            _accept(item, writer)
        writer.end_array()
    elif isinstance(value, str):
        writer.string(value)
    elif value is True:
        writer.raw("true")
    elif value is False:
        writer.raw("false")
    elif value is None:
        writer.raw("null")
    elif isinstance(value, int) and -(1 << 63) <= value < (1 << 64):
        writer.raw(str(value))
    else:
        text = format_rapidjson_double(float(value))
        if not text:  # rapidjson writes the separator, then refuses NaN/Inf.
            writer.refuse_value()
        writer.raw(text)


def debug_string(value: Any) -> str:
    """Renders a request fragment like TF Serving's ``JsonValueToDebugString``."""
    writer = PrettyWriter(single_line_arrays=True, limit=256)
    try:
        _accept(value, writer)
    except (LimitReached, RecursionError):
        pass
    return writer.getvalue()


def json_type_name(value: Any) -> str:
    """Returns rapidjson's type name for a parsed JSON value ("Number", "Array"...)."""
    if value is None:
        return "Null"
    if value is True:
        return "True"
    if value is False:
        return "False"
    if isinstance(value, dict):
        return "Object"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, str):
        return "String"
    return "Number"


