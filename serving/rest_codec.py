"""Translates REST JSON bodies to model inputs and model outputs to JSON.

Follows TF Serving's ``util/json_tensor.cc``: the row (``instances``) and
columnar (``inputs``) request formats, ``{"b64": ...}`` binary values,
tf.Example building for ``:classify``/``:regress``, and the exact response
layout and error messages. Request JSON is parsed by
:mod:`tfx_kfp.serving.json_reader`; responses are written by
:mod:`tfx_kfp.serving.json_writer`.
"""

import base64
import binascii
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from tfx_kfp.serving.errors import InvalidArgument, ServingError, Unimplemented
from tfx_kfp.serving.json_reader import is_proto_text
from tfx_kfp.serving.json_writer import (
    PrettyWriter,
    debug_string,
    escape_string,
    format_float32,
    format_float64,
    json_type_name,
)
from tfx_kfp.serving.tensor_codec import (
    DT_BOOL, DT_DOUBLE, DT_FLOAT, DT_INT8, DT_INT16, DT_INT32, DT_INT64, DT_STRING,
    DT_UINT8, DT_UINT32, DT_UINT64, NUMPY_DTYPES, dtype_name, numpy_to_dtype_enum,
)

__all__ = [
    "ROW_FORMAT",
    "COLUMNAR_FORMAT",
    "signature_name_of",
    "predict_inputs_from_json",
    "examples_from_json",
    "predict_response_json",
]

ROW_FORMAT = "row"
COLUMNAR_FORMAT = "columnar"

_INT32_RANGE = (-(1 << 31), (1 << 31) - 1)
_INT64_RANGE = (-(1 << 63), (1 << 63) - 1)
_UINT32_RANGE = (0, (1 << 32) - 1)
_UINT64_RANGE = (0, (1 << 64) - 1)
# absl::Base64Unescape (absl/strings/escaping.cc): standard alphabet, ASCII whitespace
# skipped anywhere, padding optional but, when present, exactly what the length needs.
_BASE64_TEXT = re.compile(r"([A-Za-z0-9+/]*)(=*)")
_ASCII_SPACE = str.maketrans("", "", " \t\n\v\f\r")


def _is_int(value: Any, bounds: Tuple[int, int]) -> bool:
    return type(value) is int and bounds[0] <= value <= bounds[1]


def _is_number(value: Any) -> bool:
    kind = type(value)
    return kind is float or kind is int


_SCALAR_CHECKS = {
    DT_FLOAT: _is_number,
    DT_DOUBLE: _is_number,
    DT_INT32: lambda v: _is_int(v, _INT32_RANGE),
    DT_INT16: lambda v: _is_int(v, _INT32_RANGE),
    DT_INT8: lambda v: _is_int(v, _INT32_RANGE),
    DT_UINT8: lambda v: _is_int(v, _INT32_RANGE),
    DT_INT64: lambda v: _is_int(v, _INT64_RANGE),
    DT_UINT32: lambda v: _is_int(v, _UINT32_RANGE),
    DT_UINT64: lambda v: _is_int(v, _UINT64_RANGE),
    DT_BOOL: lambda v: type(v) is bool,
    DT_STRING: lambda v: type(v) is str,
}


def _type_error(value: Any, dtype: int) -> InvalidArgument:
    return InvalidArgument(f"JSON Value: {debug_string(value)} Type: {json_type_name(value)} "
                           f"is not of expected type: {dtype_name(dtype)}")


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


def _dense_shape(value: Any) -> List[int]:
    shape = []
    while type(value) is list:
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def _add_scalar(value: Any, dtype: int, out: list) -> None:
    if type(value) is dict:
        if dtype == DT_STRING:
            out.append(decode_base64_object(value))
            return
        raise _type_error(value, dtype)
    check = _SCALAR_CHECKS.get(dtype)
    if check is None:
        raise Unimplemented(
            f"Conversion of JSON Value: {debug_string(value)} to type: {dtype_name(dtype)}")
    if not check(value):
        raise _type_error(value, dtype)
    out.append(value.encode("utf-8", "surrogateescape") if dtype == DT_STRING else value)


def _fill(value: Any, level: int, shape: List[int], dtype: int, out: list) -> None:
    rank = len(shape)
    if type(value) is not list:
        if level != rank:
            raise InvalidArgument(
                f"JSON Value: {debug_string(value)} found at incorrect level: {level + 1} in "
                f"the JSON DOM. Expected at level: {rank}")
        _add_scalar(value, dtype, out)
        return
    if level >= rank:
        raise InvalidArgument(
            f"Encountered list at unexpected level: {level} expected < {rank}")
    if len(value) != shape[level]:
        raise InvalidArgument(
            f"Encountered list at unexpected size: {len(value)} at level: {level} expected "
            f"size: {shape[level]}")
    if level == rank - 1 and dtype != DT_STRING:
        check = _SCALAR_CHECKS.get(dtype)
        if check is not None and all(map(check, value)):
            out.extend(value)
            return
    for item in value:
        _fill(item, level + 1, shape, dtype, out)


def _to_array(values: list, shape: Sequence[int], dtype: int) -> np.ndarray:
    np_dtype = NUMPY_DTYPES[dtype]
    if dtype == DT_STRING:
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array.reshape(shape)
    if dtype in (DT_INT8, DT_INT16, DT_UINT8):
        return np.array(values, dtype=np.int64).astype(np_dtype).reshape(shape)
    with np.errstate(over="ignore"):
        try:
            return np.array(values, dtype=np_dtype).reshape(shape)
        except OverflowError:  # ints beyond double range become +-inf as in rapidjson
            return np.array([float(v) if abs(v) < 1e308 else float("inf") * (1 if v > 0 else -1)
                             for v in values], dtype=np_dtype).reshape(shape)


_MAX_RANK = 254  # TensorShape's kMaxDims


def _tensor_from_json(value: Any, dtype: int) -> Tuple[List[Any], List[int]]:
    shape = _dense_shape(value)
    if len(shape) > _MAX_RANK:
        raise InvalidArgument(f"JSON value is nested {len(shape)} lists deep; a tensor has at "
                              f"most {_MAX_RANK} dimensions")
    values: list = []
    _fill(value, 0, shape, dtype, values)
    return values, shape


def signature_name_of(doc: dict) -> str:
    """Returns the optional ``signature_name`` (TF Serving's ``FillSignature``)."""
    if "signature_name" not in doc:
        return ""
    name = doc["signature_name"]
    if type(name) is not str:
        raise InvalidArgument(
            f"JSON Value: {debug_string(doc)} not formatted correctly. 'signature_name' key "
            "must be a string value.")
    return name


def _shape_to_string(shape: Sequence[int]) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _inputs_from_instances(instances: list, infos) -> Dict[str, np.ndarray]:
    names = sorted(infos)
    first = instances[0]
    if type(first) is not dict and len(names) > 1:
        raise InvalidArgument(
            "instances is a plain list, but expecting list of objects as multiple input "
            "tensors required as per tensorinfo_map")

    def is_element_object(item: Any) -> bool:
        return type(item) is dict and not is_base64_object(item)

    objects = is_element_object(first)
    values: Dict[str, list] = {}
    sizes: Dict[str, int] = {}
    shapes: Dict[str, List[int]] = {}

    def add_item(item: Any, name: str) -> None:
        if not is_proto_text(name) or name not in infos:
            raise InvalidArgument(f"JSON object: does not have named input: {name}")
        dtype = infos[name].dtype
        item_values, shape = _tensor_from_json(item, dtype)
        values.setdefault(name, []).extend(item_values)
        if name not in sizes:
            sizes[name], shapes[name] = len(item_values), shape
        elif sizes[name] != len(item_values):
            raise InvalidArgument(
                f"Expecting tensor size: {sizes[name]} but got: {len(item_values)}")
        elif shapes[name] != shape:
            raise InvalidArgument(f"Expecting shape {_shape_to_string(shapes[name])} but got: "
                                  f"{_shape_to_string(shape)}")

    for index, item in enumerate(instances):
        if objects:
            if not is_element_object(item):
                raise InvalidArgument(
                    f"Expecting object but got list at item {index} of input list")
            for name, value in item.items():
                try:
                    add_item(value, name)
                except ServingError as error:
                    raise InvalidArgument(
                        f"Failed to process element: {index} key: {name} of 'instances' list. "
                        f"Error: {error.status_string()}") from None
            if set(item) != set(names):
                raise InvalidArgument(
                    f"Failed to process element: {index} of 'instances' list. JSON object: "
                    f"{debug_string(item)} keys must be equal to: {','.join(names)}")
        else:
            if is_element_object(item):
                raise InvalidArgument(
                    f"Expecting value/list but got object at item {index} of input list")
            try:
                add_item(item, names[0])
            except ServingError as error:
                raise InvalidArgument(
                    f"Failed to process element: {index} of 'instances' list. Error: "
                    f"{error.status_string()}") from None
    count = len(instances)
    return {name: _to_array(values[name], [count] + shapes[name], infos[name].dtype)
            for name in values}


def _inputs_from_columns(columns: Any, infos) -> Dict[str, np.ndarray]:
    names = sorted(infos)
    if type(columns) is not dict or is_base64_object(columns):
        if len(names) > 1:
            raise InvalidArgument(
                "inputs is a plain value/list, but expecting an object as multiple input "
                "tensors required as per tensorinfo_map")
        dtype = infos[names[0]].dtype
        values, shape = _tensor_from_json(columns, dtype)
        return {names[0]: _to_array(values, shape, dtype)}
    result = {}
    for name in names:
        if name not in columns:
            raise InvalidArgument(f"Missing named input: {name} in 'inputs' object.")
        dtype = infos[name].dtype
        values, shape = _tensor_from_json(columns[name], dtype)
        result[name] = _to_array(values, shape, dtype)
    return result


def predict_inputs_from_json(doc: dict, infos, signature_name: str
                             ) -> Tuple[Dict[str, np.ndarray], str]:
    """Builds predict inputs from a parsed body (TF Serving's ``FillPredictRequestFromJson``).

    Args:
        doc: The parsed request object.
        infos: The signature's input TensorInfo map.
        signature_name: The requested signature name (for messages).

    Returns:
        Alias -> numpy array, and the request format (row or columnar).
    """
    if len(infos) == 0:
        raise InvalidArgument(
            f"Failed to get input map for signature: {signature_name or 'DEFAULT'}")
    has_instances, has_inputs = "instances" in doc, "inputs" in doc
    if has_instances and has_inputs:
        raise InvalidArgument(
            f"JSON Value: {debug_string(doc)} Not formatted correctly expecting only one of "
            "'inputs' or 'instances' keys to exist ")
    if has_instances:
        instances = doc["instances"]
        if type(instances) is not list:
            raise InvalidArgument(
                f"JSON Value: {debug_string(doc)} Expecting 'instances' to be an list/array")
        if not instances:
            raise InvalidArgument(f"JSON Value: {debug_string(doc)} No values in 'instances' array")
        return _inputs_from_instances(instances, infos), ROW_FORMAT
    if has_inputs:
        return _inputs_from_columns(doc["inputs"], infos), COLUMNAR_FORMAT
    raise InvalidArgument("Missing 'inputs' or 'instances' key")


def _incompatible_kind(name: str, kind: Optional[str]) -> InvalidArgument:
    kind_text = {"bytes_list": "bytes", "float_list": "float", "int64_list": "int64"}.get(
        kind or "", "UNKNOWN")
    return InvalidArgument(
        f"Unexpected element type in feature: {name} expecting type: {kind_text}")


def _add_feature_value(value: Any, name: str, feature) -> None:
    kind = feature.WhichOneof("kind")
    if value is None or type(value) is list:
        raise InvalidArgument(f"Feature: {name} has element with unexpected JSON type: "
                              f"{json_type_name(value)}")
    if type(value) is bool:
        if kind not in (None, "int64_list"):
            raise _incompatible_kind(name, kind)
        feature.int64_list.value.append(1 if value else 0)
    elif type(value) is dict:
        if not is_base64_object(value):
            raise InvalidArgument(
                f"Feature: {name} has element with unexpected JSON type: Object")
        if kind not in (None, "bytes_list"):
            raise _incompatible_kind(name, kind)
        feature.bytes_list.value.append(decode_base64_object(value))
    elif type(value) is str:
        if kind not in (None, "bytes_list"):
            raise _incompatible_kind(name, kind)
        feature.bytes_list.value.append(value.encode("utf-8", "surrogateescape"))
    elif type(value) is float or (type(value) is int and not
                                  _UINT64_RANGE[0] - (1 << 63) <= value <= _UINT64_RANGE[1]):
        if kind not in (None, "float_list"):
            raise _incompatible_kind(name, kind)
        feature.float_list.value.append(float(value))
    else:
        if kind not in (None, "int64_list"):
            raise _incompatible_kind(name, kind)
        if value > _INT64_RANGE[1]:
            raise InvalidArgument(
                f"Feature: {name} has uint64_t element. Only int64_t is supported.")
        feature.int64_list.value.append(value)


def _example_from_json(value: Any, example_class):
    if type(value) is not dict:
        raise InvalidArgument(
            f"Example must be JSON object but got JSON {json_type_name(value)}")
    example = example_class()
    features = example.features.feature
    for name, content in value.items():
        if not is_proto_text(name):
            raise InvalidArgument(
                f"Feature name {debug_string(name)} is not valid UTF-8")
        feature = features[name]
        feature.Clear()
        for item in (content if type(content) is list else [content]):
            _add_feature_value(item, name, feature)
    return example


def examples_from_json(doc: dict, example_class=None) -> List[bytes]:
    """Builds serialized tf.Examples from a ``:classify``/``:regress`` body.

    Follows ``FillClassifyRegressRequestFromJson``: an optional ``context``
    example is prepended (as serialized bytes) to every example, exactly as
    TF Serving's ``ExampleListWithContext`` handling does.

    Args:
        doc: The parsed request object.
        example_class: The ``tensorflow.Example`` message class to use
            (default: TensorFlow's own).
    """
    if example_class is None:
        from tensorflow.core.example import example_pb2

        example_class = example_pb2.Example
    parts = examples_parts_from_json(doc, example_class)
    context = parts[0].SerializeToString() if parts[0] is not None else b""
    return [context + example.SerializeToString() for example in parts[1]]


def examples_parts_from_json(doc: dict, example_class):
    """Returns (context Example or None, [Example]) from a classify/regress body."""
    context = None
    if "context" in doc:
        context = _example_from_json(doc["context"], example_class)
    if "examples" not in doc:
        raise InvalidArgument(
            f"JSON Value: {debug_string(doc)} When method is classify, key 'examples' is "
            "expected and was not found")
    examples = doc["examples"]
    if type(examples) is not list:
        raise InvalidArgument(
            f"JSON Value: {debug_string(doc)} Expecting 'examples' value to be an list/array")
    if not examples:
        raise InvalidArgument(f"JSON Value: {debug_string(doc)} 'examples' value is an empty array")
    return context, [_example_from_json(item, example_class) for item in examples]


# ---------------------------------------------------------------- responses


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
