"""Parses REST request bodies with Python's json module, as TF Serving's rapidjson does.

What a client can tell apart is kept: ``NaN``/``Infinity`` are accepted, anything
after the root value is ignored (rapidjson's ``kParseStopWhenDoneFlag``), invalid
UTF-8 inside strings is not an error (strings are decoded with
``surrogateescape`` so ``s.encode("utf-8", "surrogateescape")`` gives the bytes
back), and failures are ``JSON Parse error: <reason> at offset: <byte>`` with
HTTP 400. The reason texts are Python's, not rapidjson's (no client depends on
them). No TensorFlow import.
"""

import json
from typing import Any

from tfx_kfp.serving.errors import InvalidArgument

__all__ = ["parse_json_object", "parse_json", "JsonParseError", "is_proto_text"]

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"


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
        from tfx_kfp.serving.json_writer import debug_string

        raise InvalidArgument(f"JSON Value: {debug_string(value)} Is not object")
    return value
