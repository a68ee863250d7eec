"""REST response bodies with TF Serving's values (``util/json_tensor.cc``, 2.16.1): row and
columnar predict shapes, ``{"b64": ...}`` for outputs named ``*_bytes``, ``json_codec``'s
number texts. Written compactly: rapidjson's pretty layout is whitespace no client parses.
"""

import base64
from typing import Any, Callable, Dict, Iterable, Tuple, Union

import numpy as np

from tfx_kfp.serving.protocol.errors import InvalidArgument
from tfx_kfp.serving.protocol.json_codec import escape_string, format_float32, format_float64
from tfx_kfp.serving.protocol.rest_request import COLUMNAR_FORMAT
from tfx_kfp.serving.protocol.tensors import (
    DT_BOOL, DT_DOUBLE, DT_FLOAT, DT_INT8, DT_INT16, DT_INT32, DT_INT64, DT_STRING,
    DT_UINT8, DT_UINT32, DT_UINT64, dtype_name, numpy_to_dtype_enum,
)

__all__ = ["predict_response_json", "error_body", "regress_body", "classify_body",
           "message_to_dict"]

_INTEGERS = (DT_INT32, DT_INT16, DT_INT8, DT_UINT8, DT_INT64, DT_UINT32, DT_UINT64)


def _b64_object(value: bytes) -> str:
    return '{"b64":"' + base64.b64encode(value).decode("ascii") + '"}'


def _formatter(name: str, array: np.ndarray) -> Callable[[Any], str]:
    dtype = numpy_to_dtype_enum(array)
    if dtype == DT_FLOAT:
        return format_float32
    if dtype == DT_DOUBLE:
        return format_float64
    if dtype in _INTEGERS:
        return str
    if dtype == DT_BOOL:
        return lambda v: "true" if v else "false"
    if dtype == DT_STRING:
        if name.endswith("_bytes"):
            return _b64_object
        return lambda v: escape_string(v if isinstance(v, bytes) else str(v).encode())
    raise InvalidArgument(f"Failed to write JSON value for tensor type: {dtype_name(dtype)}")


def _text(values: Any, depth: int, formatter: Callable[[Any], str]) -> str:
    """Nested arrays, one level per dimension, of ``values`` (a ``tolist()``)."""
    if depth == 0:
        return formatter(values)
    if depth == 1:
        return "[" + ",".join(map(formatter, values)) + "]"
    return "[" + ",".join(_text(v, depth - 1, formatter) for v in values) + "]"


def _object(texts: Dict[str, str]) -> str:
    return "{" + ",".join(escape_string(k) + ":" + v for k, v in texts.items()) + "}"


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def predict_response_json(outputs: Dict[str, np.ndarray], request_format: str) -> bytes:
    """Renders predict outputs like TF Serving's ``MakeJsonFromTensors``."""
    if not outputs:
        raise InvalidArgument("Cannot convert empty tensor map to JSON")
    names = sorted(outputs)
    if request_format == COLUMNAR_FORMAT:
        columns = {}
        for name in names:
            array = outputs[name]
            columns[name] = _text(array.tolist(), array.ndim, _formatter(name, array))
        return _encode('{"outputs":' + (columns[names[0]] if len(names) == 1
                                         else _object(columns)) + "}")
    batch_size = -1
    for name in names:
        array = outputs[name]
        if array.ndim == 0:
            raise InvalidArgument(f"Tensor name: {name} has no shape information ")
        if batch_size >= 0 and array.shape[0] != batch_size:
            raise InvalidArgument(f"Tensor name: {name} has inconsistent batch size: "
                                  f"{array.shape[0]} expecting: {batch_size}")
        batch_size = array.shape[0]
    if len(names) == 1:
        array = outputs[names[0]]
        rows = _text(array.tolist(), array.ndim, _formatter(names[0], array))
    else:
        columns = {name: (outputs[name].tolist(), outputs[name].ndim - 1,
                          _formatter(name, outputs[name])) for name in names}
        rows = "[" + ",".join(
            _object({name: _text(values[index], depth, formatter)
                     for name, (values, depth, formatter) in columns.items()})
            for index in range(batch_size)) + "]"
    return _encode('{"predictions":' + rows + "}")


def error_body(message: str) -> bytes:
    """TF Serving's REST error body, ``{"error": "<message>"}``."""
    return _encode('{"error":' + escape_string(message) + "}")


def regress_body(values: Iterable[float]) -> bytes:
    """The ``:regress`` response body for float32 results."""
    return _encode('{"results":[' + ",".join(map(format_float32, values)) + "]}")


def classify_body(results: Iterable[Iterable[Tuple[Union[str, bytes], float]]]) -> bytes:
    """The ``:classify`` response body for each example's (label, float32 score) pairs."""
    return _encode('{"results":[' + ",".join(
        "[" + ",".join(f"[{escape_string(label)},{format_float32(score)}]"
                       for label, score in classes) + "]"
        for classes in results) + "]}")


def message_to_dict(message, preserve_proto_field_names: bool = False) -> Dict[str, Any]:
    """A proto as TF Serving's REST API renders it (default values included)."""
    from google.protobuf import json_format

    return json_format.MessageToDict(message, including_default_value_fields=True,
                                     preserving_proto_field_name=preserve_proto_field_names)
