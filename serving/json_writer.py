"""Writes JSON byte-for-byte like TF Serving's rapidjson ``PrettyWriter``.

TF Serving formats REST responses with rapidjson's ``PrettyWriter`` (4-space
indent), switching to single-line arrays for each row of ``predictions`` and
for ``results``; floating-point values go through its ``WriteDecimal`` (six
significant digits unless they do not round-trip, ``.0`` on whole numbers,
``NaN``/``Infinity`` tokens). Error messages embed request fragments rendered
by ``JsonValueToDebugString`` (single-line arrays, cut near 256 bytes).
This module reproduces those rules. No TensorFlow or numpy import.
"""

import math
import struct
from typing import Any, Iterable, List, Sequence, Tuple, Union

__all__ = [
    "PrettyWriter",
    "escape_string",
    "format_float32",
    "format_float64",
    "format_rapidjson_double",
    "debug_string",
    "error_body",
    "regress_body",
    "classify_body",
    "round_float32",
]

_INDENT = "    "
_DEBUG_STRING_LIMIT = 256

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


def round_float32(value: float) -> float:
    """Returns the float a REST client reads for a float32 model output.

    TF Serving writes float32 outputs with ``WriteDecimal``; parsing that text
    gives this value, which a gRPC client reproduces from the raw float32.
    """
    if value != value or math.isinf(value):
        return value
    return float(format_float32(value))


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


class _Stop(Exception):
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
            raise _Stop()

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
            writer._check_limit()
            writer._prefix()
            raise _Stop()
        writer.raw(text)


def debug_string(value: Any) -> str:
    """Renders a request fragment like TF Serving's ``JsonValueToDebugString``."""
    writer = PrettyWriter(single_line_arrays=True, limit=_DEBUG_STRING_LIMIT)
    try:
        _accept(value, writer)
    except (_Stop, RecursionError):
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


def error_body(message: str) -> bytes:
    """Returns TF Serving's REST error body: ``{\\n    "error": "..."\\n}``."""
    return ('{\n    "error": ' + escape_string(message) + "\n}").encode("utf-8", "surrogateescape")


def regress_body(values: Iterable[float]) -> bytes:
    """Returns the ``:regress`` response body for a list of float32 results."""
    writer = PrettyWriter()
    writer.start_object()
    writer.key("results")
    writer.single_line_arrays = True
    writer.values_single_line([format_float32(v) for v in values])
    writer.end_object()
    return writer.getbytes()


def classify_body(results: Iterable[Iterable[Tuple[Union[str, bytes], float]]]) -> bytes:
    """Returns the ``:classify`` response body.

    Args:
        results: For each example, its (label, float32 score) pairs.
    """
    writer = PrettyWriter()
    writer.start_object()
    writer.key("results")
    writer.start_array()
    for classes in results:
        writer.single_line_arrays = True
        writer.start_array()
        for label, score in classes:
            writer.start_array()
            writer.string(label)
            writer.raw(format_float32(score))
            writer.end_array()
        writer.end_array()
        writer.single_line_arrays = False
    writer.end_array()
    writer.end_object()
    return writer.getbytes()
