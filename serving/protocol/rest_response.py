"""Renders REST response bodies as TF Serving does (predict: ``MakeJsonFromTensors``).

Follows ``util/json_tensor.cc`` (TF Serving 2.16.1): the row (``predictions``) and
columnar (``outputs``) layouts, ``{"b64": ...}`` for outputs named ``*_bytes``, and
rapidjson's pretty-printing, written by :mod:`tfx_kfp.serving.protocol.json_writer`.
"""

import base64
from typing import Any, Dict, Iterable, Tuple, Union

import numpy as np

from tfx_kfp.serving.protocol.errors import InvalidArgument
from tfx_kfp.serving.protocol.json_writer import PrettyWriter, escape_string, format_float32, format_float64
from tfx_kfp.serving.protocol.rest_request import COLUMNAR_FORMAT
from tfx_kfp.serving.protocol.tensors import (
    DT_BOOL, DT_DOUBLE, DT_FLOAT, DT_INT8, DT_INT16, DT_INT32, DT_INT64, DT_STRING,
    DT_UINT8, DT_UINT32, DT_UINT64, dtype_name, numpy_to_dtype_enum,
)

__all__ = ["predict_response_json", "error_body", "regress_body", "classify_body", "message_to_json"]


def _scalar_formatter(array: np.ndarray, as_bytes: bool):
    dtype = numpy_to_dtype_enum(array)
    if dtype == DT_FLOAT:
        return format_float32
    if dtype == DT_DOUBLE:
        return format_float64
    if dtype in (DT_INT32, DT_INT16, DT_INT8, DT_UINT8, DT_INT64, DT_UINT32, DT_UINT64):
        return str
    if dtype == DT_BOOL:
        return lambda v: "true" if v else "false"
    if dtype == DT_STRING:
        if as_bytes:
            return None  # objects: written token by token
        return lambda v: escape_string(v if isinstance(v, bytes) else str(v).encode())
    raise InvalidArgument(f"Failed to write JSON value for tensor type: {dtype_name(dtype)}")


def _write_b64(writer: PrettyWriter, value: bytes) -> None:
    writer.start_object()
    writer.key("b64")
    writer.string(base64.b64encode(value).decode("ascii"))
    writer.end_object()


def _write_scalar(writer: PrettyWriter, value: Any, formatter) -> None:
    if isinstance(value, np.generic):
        value = value.item()
    if formatter is None:
        _write_b64(writer, value)
    else:
        writer.raw(formatter(value))


def _write_values(writer: PrettyWriter, array: np.ndarray, as_bytes: bool) -> None:
    """AddTensorValues for a whole tensor: nested arrays per dimension, scalars bare."""
    formatter = _scalar_formatter(array, as_bytes)
    if array.ndim == 0:
        _write_scalar(writer, array.item(), formatter)
        return
    _write_nested(writer, array.tolist(), array.ndim, formatter)


def _write_row(writer: PrettyWriter, array: np.ndarray, index: int, formatter) -> None:
    """AddTensorValues for one row (index along the batch dimension)."""
    if array.ndim == 1:
        _write_scalar(writer, array[index], formatter)
    else:
        _write_nested(writer, array[index].tolist(), array.ndim - 1, formatter)


def _write_nested(writer: PrettyWriter, values: list, depth: int, formatter) -> None:
    if depth == 1:
        if formatter is None:
            writer.start_array()
            for value in values:
                _write_b64(writer, value)
            writer.end_array()
        elif writer.single_line_arrays:
            writer.values_single_line([formatter(v) for v in values])
        else:
            writer.values_multi_line([formatter(v) for v in values])
        return
    writer.start_array()
    for item in values:
        _write_nested(writer, item, depth - 1, formatter)
    writer.end_array()


def _is_bytes_output(name: str, array: np.ndarray) -> bool:
    return name.endswith("_bytes") and numpy_to_dtype_enum(array) == DT_STRING


def predict_response_json(outputs: Dict[str, np.ndarray], request_format: str) -> bytes:
    """Renders predict outputs like TF Serving's ``MakeJsonFromTensors``."""
    if not outputs:
        raise InvalidArgument("Cannot convert empty tensor map to JSON")
    names = sorted(outputs)
    writer = PrettyWriter()
    writer.start_object()
    if request_format == COLUMNAR_FORMAT:
        writer.key("outputs")
        many = len(names) > 1
        if many:
            writer.start_object()
        for name in names:
            if many:
                writer.key(name)
            _write_values(writer, outputs[name], _is_bytes_output(name, outputs[name]))
        if many:
            writer.end_object()
        writer.end_object()
        return writer.getbytes()

    batch_size = -1
    for name in names:
        array = outputs[name]
        if array.ndim == 0:
            raise InvalidArgument(f"Tensor name: {name} has no shape information ")
        if batch_size >= 0 and array.shape[0] != batch_size:
            raise InvalidArgument(f"Tensor name: {name} has inconsistent batch size: "
                                  f"{array.shape[0]} expecting: {batch_size}")
        batch_size = array.shape[0]
    writer.key("predictions")
    writer.start_array()
    many = len(names) > 1
    if not many:
        name = names[0]
        array = outputs[name]
        formatter = _scalar_formatter(array, _is_bytes_output(name, array))
        writer.single_line_arrays = True
        if formatter is not None and array.ndim == 1:
            # Fast path: one scalar per row, written as one run of values.
            texts = [formatter(v) for v in array.tolist()]
            if texts:
                writer.raw(", ".join(texts))
                writer._levels[-1][1] = len(texts)
        else:
            for index in range(batch_size):
                _write_row(writer, array, index, formatter)
        writer.single_line_arrays = False
    else:
        formatters = {name: _scalar_formatter(outputs[name], _is_bytes_output(name, outputs[name]))
                      for name in names}
        for index in range(batch_size):
            writer.start_object()
            writer.single_line_arrays = True
            for name in names:
                writer.key(name)
                _write_row(writer, outputs[name], index, formatters[name])
            writer.single_line_arrays = False
            writer.end_object()
    writer.end_array()
    writer.end_object()
    return writer.getbytes()


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


def message_to_json(message, preserve_proto_field_names: bool = False) -> str:
    """A proto as TF Serving prints it (defaults included); layout is json_format's."""
    from google.protobuf import json_format

    return json_format.MessageToJson(
        message, including_default_value_fields=True, indent=1,
        preserving_proto_field_name=preserve_proto_field_names) + "\n"
