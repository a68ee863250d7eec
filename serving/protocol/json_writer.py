"""Writes JSON byte-for-byte like TF Serving's rapidjson ``PrettyWriter``.

TF Serving formats REST responses with rapidjson's ``PrettyWriter`` (4-space
indent), switching to single-line arrays for each row of ``predictions`` and
for ``results``; floating-point values go through its ``WriteDecimal`` (six
significant digits unless they do not round-trip, ``.0`` on whole numbers,
``NaN``/``Infinity`` tokens). This module reproduces those rules; the response
bodies are built in :mod:`tfx_kfp.serving.protocol.rest_response`. No TensorFlow or numpy import.
"""

import math
import struct
from typing import List, Sequence, Union

__all__ = [
    "PrettyWriter",
    "LimitReached",
    "escape_string",
    "format_float32",
    "format_float64",
]

_INDENT = "    "

_ESCAPE_TABLE = {i: "\\u%04X" % i for i in range(0x20)}
_ESCAPE_TABLE.update({0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"})
_ESCAPE_TABLE[ord('"')] = '\\"'
_ESCAPE_TABLE[ord("\\")] = "\\\\"


def escape_string(value: Union[str, bytes]) -> str:
    """Returns ``value`` quoted and escaped as rapidjson's Writer does.

    Only control characters, ``"`` and ``\\`` are escaped (``\\u00XX`` in upper
    case hex); other bytes, invalid UTF-8 included, pass through unchanged.
    Bytes are carried as ``surrogateescape`` text so the caller can encode the
    final document back to the exact bytes.
    """
    if isinstance(value, bytes):
        value = value.decode("utf-8", "surrogateescape")
    return '"' + value.translate(_ESCAPE_TABLE) + '"'


def _float32_round_trips(text: str, value: float) -> bool:
    try:
        return struct.unpack("f", struct.pack("f", float(text)))[0] == value
    except (OverflowError, ValueError):
        return False


def _finish_decimal(text: str) -> str:
    if "." not in text and "e" not in text:
        return text + ".0"
    return text


def format_float32(value: float) -> str:
    """Formats a float32 value like TF Serving's ``WriteDecimal<float>``."""
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "-Infinity" if value < 0 else "Infinity"
    text = "%g" % value
    if not _float32_round_trips(text, value):
        text = "%.9g" % value
    return _finish_decimal(text)


def format_float64(value: float) -> str:
    """Formats a float64 value like TF Serving's ``WriteDecimal<double>``."""
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "-Infinity" if value < 0 else "Infinity"
    text = "%g" % value
    if float(text) != value:
        text = "%.17g" % value
    return _finish_decimal(text)


class LimitReached(Exception):
    """Ends a size-limited write early, like rapidjson's handler returning false."""


class PrettyWriter:
    """Minimal port of rapidjson's ``PrettyWriter`` token rules.

    Methods mirror rapidjson's handler calls; ``single_line_arrays`` mirrors
    ``kFormatSingleLineArray`` and may be toggled between calls exactly as TF
    Serving toggles ``SetFormatOptions``.
    """

    def __init__(self, single_line_arrays: bool = False, limit: int = 0):
        self.parts: List[str] = []
        self.size = 0
        self.limit = limit
        self.single_line_arrays = single_line_arrays
        self._levels: List[List] = []  # [in_array, value_count]

    def _emit(self, text: str) -> None:
        self.parts.append(text)
        if self.limit:
            self.size += len(text)

    def _check_limit(self) -> None:
        if self.limit and self.size >= self.limit:
            raise LimitReached()

    def _prefix(self) -> None:
        if not self._levels:
            return
        level = self._levels[-1]
        depth = len(self._levels)
        if level[0]:
            if level[1] > 0:
                self._emit(", " if self.single_line_arrays else ",")
            if not self.single_line_arrays:
                self._emit("\n" + _INDENT * depth)
        else:
            if level[1] > 0:
                self._emit(",\n" if level[1] % 2 == 0 else ": ")
            else:
                self._emit("\n")
            if level[1] % 2 == 0:
                self._emit(_INDENT * depth)
        level[1] += 1

    def raw(self, text: str) -> None:
        """Writes a preformatted scalar (number, ``true``, ``null``...)."""
        self._check_limit()
        self._prefix()
        self._emit(text)

    def string(self, value: Union[str, bytes]) -> None:
        """Writes a string value (or an object key)."""
        self._check_limit()
        self._prefix()
        self._emit(escape_string(value))

    key = string

    def refuse_value(self) -> None:
        """Writes the separator of a value rapidjson refuses (NaN, Infinity), then stops."""
        self._check_limit()
        self._prefix()
        raise LimitReached()

    def start_object(self) -> None:
        self._check_limit()
        self._prefix()
        self._emit("{")
        self._levels.append([False, 0])

    def end_object(self) -> None:
        self._check_limit()
        level = self._levels.pop()
        if level[1]:
            self._emit("\n" + _INDENT * len(self._levels))
        self._emit("}")

    def start_array(self) -> None:
        self._check_limit()
        self._prefix()
        self._emit("[")
        self._levels.append([True, 0])

    def end_array(self) -> None:
        self._check_limit()
        level = self._levels.pop()
        if level[1] and not self.single_line_arrays:
            self._emit("\n" + _INDENT * len(self._levels))
        self._emit("]")

    def values_single_line(self, texts: Sequence[str]) -> None:
        """Writes an array of preformatted scalars; same output as token calls
        when ``single_line_arrays`` is on."""
        self._prefix()
        self._emit("[" + ", ".join(texts) + "]")

    def values_multi_line(self, texts: Sequence[str]) -> None:
        """Writes an array of preformatted scalars in the default (one per line) format."""
        self._prefix()
        if not texts:
            self._emit("[]")
            return
        depth = len(self._levels)
        inner = "\n" + _INDENT * (depth + 1)
        self._emit("[" + inner + ("," + inner).join(texts) + "\n" + _INDENT * depth + "]")

    def getvalue(self) -> str:
        """Returns the document written so far."""
        return "".join(self.parts)

    def getbytes(self) -> bytes:
        """Returns the document as the exact bytes TF Serving would send."""
        return self.getvalue().encode("utf-8", "surrogateescape")


