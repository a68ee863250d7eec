"""Prints protos as JSON the way TF Serving's REST status and metadata APIs do.

TF Serving renders ``GetModelStatusResponse`` and the parts of
``GetModelMetadataResponse`` with C++ ``MessageToJsonString`` (protobuf 3.21,
``add_whitespace`` and ``always_print_primitive_fields`` on). That printer
differs from Python's ``json_format``: one-space indentation, a trailing
newline, fields in declaration order with default values filled in, set
``oneof`` scalar fields and wrapper values moved after the other fields, unset
sub-messages left out, ``<``/``>`` and some invisible characters escaped.
Map entries are printed in key order (TF Serving's own order is its hash-map
order, which is not stable). No TensorFlow import.
"""

import base64
import math
from typing import List

from google.protobuf import descriptor as _descriptor

__all__ = ["message_to_json"]

_FD = _descriptor.FieldDescriptor
_WRAPPERS = {
    "google.protobuf.DoubleValue", "google.protobuf.FloatValue",
    "google.protobuf.Int64Value", "google.protobuf.UInt64Value",
    "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
    "google.protobuf.BoolValue", "google.protobuf.StringValue",
    "google.protobuf.BytesValue",
}
_QUOTED_INTEGER_TYPES = {_FD.TYPE_INT64, _FD.TYPE_UINT64, _FD.TYPE_SINT64,
                         _FD.TYPE_FIXED64, _FD.TYPE_SFIXED64}


def _escape_code_point(cp: int) -> str:
    if cp < 0x20 or cp == 0x7F or 0x80 <= cp < 0xA0:
        return {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"}.get(
            cp, "\\u%04x" % cp)
    if cp == 0x22:
        return '\\"'
    if cp == 0x5C:
        return "\\\\"
    if cp == 0x3C:
        return "\\u003c"
    if cp == 0x3E:
        return "\\u003e"
    if cp in (0xFEFF, 0xFFF9, 0xFFFA, 0xFFFB, 0x00AD, 0x06DD, 0x070F, 0x17B4, 0x17B5) or (
            0x0600 <= cp <= 0x0603 or 0x200B <= cp <= 0x200F or 0x2028 <= cp <= 0x202E
            or 0x2060 <= cp <= 0x2064 or 0x206A <= cp <= 0x206F):
        return "\\u%04x" % cp
    if cp == 0xE0001 or 0x1D173 <= cp <= 0x1D17A or 0xE0020 <= cp <= 0xE007F:
        high = (cp >> 10) + (0xD800 - (0x10000 >> 10))
        low = (cp & 0x3FF) + 0xDC00
        return "\\u%04x\\u%04x" % (high, low)
    return chr(cp)


def _quote(text: str) -> str:
    if text.isascii() and text.isprintable() and not any(c in text for c in '"\\<>'):
        return '"' + text + '"'
    return '"' + "".join(_escape_code_point(ord(c)) for c in text) + '"'


def _float_text(value: float, is_float32: bool) -> str:
    if math.isnan(value):
        return '"NaN"'
    if math.isinf(value):
        return '"Infinity"' if value > 0 else '"-Infinity"'
    if is_float32:
        text = "%.6g" % value
        if float("%.6g" % value) != value:
            text = "%.9g" % value
    else:
        text = "%.15g" % value
        if float(text) != value:
            text = "%.17g" % value
    return text


def _scalar(field: _FD, value) -> str:
    kind = field.type
    if kind == _FD.TYPE_STRING:
        return _quote(value)
    if kind == _FD.TYPE_BYTES:
        return '"' + base64.b64encode(value).decode("ascii") + '"'
    if kind == _FD.TYPE_BOOL:
        return "true" if value else "false"
    if kind == _FD.TYPE_ENUM:
        enum_value = field.enum_type.values_by_number.get(value)
        return _quote(enum_value.name) if enum_value is not None else str(value)
    if kind in _QUOTED_INTEGER_TYPES:
        return '"%d"' % value
    if kind in (_FD.TYPE_FLOAT, _FD.TYPE_DOUBLE):
        return _float_text(value, kind == _FD.TYPE_FLOAT)
    return str(value)


class _JsonObjectWriter:
    """protobuf's JsonObjectWriter with a one-space indent."""

    def __init__(self):
        self.parts: List[str] = []
        # Each element: [level, is_first, is_json_object]
        self.elements = [[0, True, False]]

    def _newline(self) -> None:
        self.parts.append("\n" + " " * self.elements[-1][0])

    def _prefix(self, name: str) -> None:
        element = self.elements[-1]
        not_first = not element[1]
        if not_first:
            self.parts.append(",")
        if not_first or len(self.elements) > 1:
            self._newline()
        if element[2]:
            self.parts.append(_quote(name) + ": ")
        element[1] = False

    def start(self, name: str, bracket: str) -> None:
        self._prefix(name)
        self.parts.append(bracket)
        level = self.elements[-1][0] + 1
        self.elements.append([level, True, bracket == "{"])

    def end(self, bracket: str) -> None:
        needs_newline = not self.elements[-1][1]
        self.elements.pop()
        if needs_newline:
            self._newline()
        self.parts.append(bracket)
        if len(self.elements) == 1:
            self.parts.append("\n")

    def value(self, name: str, text: str) -> None:
        self._prefix(name)
        self.parts.append(text)


def _field_name(field: _FD, preserve_proto_field_names: bool) -> str:
    return field.name if preserve_proto_field_names else field.json_name


def _is_map(field: _FD) -> bool:
    return (field.type == _FD.TYPE_MESSAGE and field.message_type.has_options
            and field.message_type.GetOptions().map_entry)


def _write_field_value(writer: _JsonObjectWriter, name: str, field: _FD, value,
                       preserve: bool) -> None:
    if field.type == _FD.TYPE_MESSAGE:
        if field.message_type.full_name in _WRAPPERS:
            inner = field.message_type.fields_by_name["value"]
            writer.value(name, _scalar(inner, value.value))
        else:
            _write_message(writer, name, value, preserve)
    else:
        writer.value(name, _scalar(field, value))


def _write_message(writer: _JsonObjectWriter, name: str, message, preserve: bool) -> None:
    writer.start(name, "{")
    descriptor = message.DESCRIPTOR
    trailing = []  # set oneof scalars and wrapper values render after the rest
    for field in descriptor.fields:
        name_out = _field_name(field, preserve)
        in_oneof = field.containing_oneof is not None
        if _is_map(field):
            container = getattr(message, field.name)
            value_field = field.message_type.fields_by_name["value"]
            writer.start(name_out, "{")
            for key in sorted(container):
                _write_field_value(writer, str(key), value_field, container[key], preserve)
            writer.end("}")
        elif field.label == _FD.LABEL_REPEATED:
            writer.start(name_out, "[")
            for item in getattr(message, field.name):
                _write_field_value(writer, "", field, item, preserve)
            writer.end("]")
        elif field.type == _FD.TYPE_MESSAGE:
            if message.HasField(field.name):
                if field.message_type.full_name in _WRAPPERS:
                    trailing.append((field, name_out))
                else:
                    _write_message(writer, name_out, getattr(message, field.name), preserve)
        elif in_oneof:
            if message.HasField(field.name):
                trailing.append((field, name_out))
        else:
            writer.value(name_out, _scalar(field, getattr(message, field.name)))
    # Trailing fields come in wire order, which is field-number order.
    for field, name_out in sorted(trailing, key=lambda item: item[0].number):
        _write_field_value(writer, name_out, field, getattr(message, field.name), preserve)
    writer.end("}")


def message_to_json(message, preserve_proto_field_names: bool = False) -> str:
    """Renders ``message`` like TF Serving's C++ ``MessageToJsonString`` call.

    Args:
        message: Any protobuf message.
        preserve_proto_field_names: Use proto field names instead of JSON names
            (TF Serving sets this for metadata, not for status).

    Returns:
        The JSON text, ending with a newline.
    """
    writer = _JsonObjectWriter()
    _write_message(writer, "", message, preserve_proto_field_names)
    return "".join(writer.parts)
