"""REST predict bodies to model inputs, as TF Serving's ``FillPredictRequestFromJson``.

Follows ``util/json_tensor.cc`` (2.16.1): the row (``instances``) and columnar (``inputs``)
formats, ``{"b64": ...}`` binary values and the exact error messages.
"""

import math
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

from tfx_kfp.serving.protocol.errors import InvalidArgument, ServingError, Unimplemented
from tfx_kfp.serving.protocol.json_codec import (
    debug_string, decode_base64_object, is_base64_object, is_proto_text, json_list,
    json_type_name,
)
from tfx_kfp.serving.versions import INT64_MAX, INT64_MIN
from tfx_kfp.serving.protocol.tensors import (
    DT_BOOL, DT_DOUBLE, DT_FLOAT, DT_INT8, DT_INT16, DT_INT32, DT_INT64, DT_STRING,
    DT_UINT8, DT_UINT32, DT_UINT64, NUMPY_DTYPES, check_rank, dtype_name, shape_string,
)

__all__ = ["DEFAULT_SIGNATURE", "signature_inputs", "ROW_FORMAT", "COLUMNAR_FORMAT",
           "signature_name_of", "predict_inputs_from_json"]

DEFAULT_SIGNATURE = "serving_default"
ROW_FORMAT = "row"
COLUMNAR_FORMAT = "columnar"



def _int_in(low: int, high: int):
    return lambda value: type(value) is int and low <= value <= high


def _is_number(value: Any) -> bool:
    return type(value) is float or type(value) is int


# What each dtype takes from JSON (json_tensor.cc; the small ints are read as int32 first).
_SCALAR_CHECKS = {
    DT_FLOAT: _is_number, DT_DOUBLE: _is_number,
    **dict.fromkeys((DT_INT32, DT_INT16, DT_INT8, DT_UINT8), _int_in(-(1 << 31), (1 << 31) - 1)),
    DT_INT64: _int_in(INT64_MIN, INT64_MAX), DT_UINT32: _int_in(0, (1 << 32) - 1),
    DT_UINT64: _int_in(0, (1 << 64) - 1),
    DT_BOOL: lambda value: type(value) is bool, DT_STRING: lambda value: type(value) is str,
}


def _type_error(value: Any, dtype: int) -> InvalidArgument:
    return InvalidArgument(f"JSON Value: {debug_string(value)} Type: {json_type_name(value)} "
                           f"is not of expected type: {dtype_name(dtype)}")


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
    check_rank(len(shape), "An input with its batch dimension")
    np_dtype = NUMPY_DTYPES[dtype]
    if dtype == DT_STRING:
        return np.array(values, dtype=object).reshape(shape)
    if dtype in (DT_INT8, DT_INT16, DT_UINT8):
        return np.array(values, dtype=np.int64).astype(np_dtype).reshape(shape)
    with np.errstate(over="ignore"):
        try:
            return np.array(values, dtype=np_dtype).reshape(shape)
        except OverflowError:  # ints beyond double range become +-inf as in rapidjson
            return np.array([float(v) if abs(v) < 1e308 else float("inf") * (1 if v > 0 else -1)
                             for v in values], dtype=np_dtype).reshape(shape)


def _tensor_from_json(value: Any, dtype: int) -> Tuple[List[Any], List[int]]:
    shape = _dense_shape(value)
    check_rank(len(shape), "A JSON tensor")
    values: list = []
    _fill(value, 0, shape, dtype, values)
    return values, shape


def signature_inputs(signature_defs, signature_name: str):
    """The input TensorInfo map of a signature (default ``serving_default``) in a SignatureDef
    map; TF Serving's REST message when there is none of that name."""
    name = signature_name or DEFAULT_SIGNATURE
    if not is_proto_text(name) or name not in signature_defs:
        raise InvalidArgument(f'Serving signature name: "{name}" not found in signature def')
    return signature_defs[name].inputs


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
    shapes: Dict[str, List[int]] = {}

    def add_item(item: Any, name: str) -> None:
        if not is_proto_text(name) or name not in infos:
            raise InvalidArgument(f"JSON object: does not have named input: {name}")
        dtype = infos[name].dtype
        item_values, shape = _tensor_from_json(item, dtype)
        values.setdefault(name, []).extend(item_values)
        if name not in shapes:
            shapes[name] = shape
        elif math.prod(shapes[name]) != len(item_values):
            raise InvalidArgument(f"Expecting tensor size: {math.prod(shapes[name])} but got: "
                                  f"{len(item_values)}")
        elif shapes[name] != shape:
            raise InvalidArgument(f"Expecting shape {shape_string(shapes[name])} but got: "
                                  f"{shape_string(shape)}")

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
        return {names[0]: _column(columns, infos[names[0]].dtype)}
    result = {}
    for name in names:
        if name not in columns:
            raise InvalidArgument(f"Missing named input: {name} in 'inputs' object.")
        result[name] = _column(columns[name], infos[name].dtype)
    return result


def _column(value: Any, dtype: int) -> np.ndarray:
    return _to_array(*_tensor_from_json(value, dtype), dtype)


def predict_inputs_from_json(doc: dict, infos, signature_name: str
                             ) -> Tuple[Dict[str, np.ndarray], str]:
    """Predict inputs (alias -> array) and the request format from a parsed body, for the
    signature's input TensorInfo map ``infos``."""
    if len(infos) == 0:
        raise InvalidArgument(
            f"Failed to get input map for signature: {signature_name or 'DEFAULT'}")
    has_instances, has_inputs = "instances" in doc, "inputs" in doc
    if has_instances and has_inputs:
        raise InvalidArgument(
            f"JSON Value: {debug_string(doc)} Not formatted correctly expecting only one of "
            "'inputs' or 'instances' keys to exist ")
    if has_instances:
        instances = json_list(doc, "instances", "Expecting 'instances' to be an list/array",
                              "No values in 'instances' array")
        return _inputs_from_instances(instances, infos), ROW_FORMAT
    if has_inputs:
        return _inputs_from_columns(doc["inputs"], infos), COLUMNAR_FORMAT
    raise InvalidArgument("Missing 'inputs' or 'instances' key")
