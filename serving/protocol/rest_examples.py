"""tf.Examples from ``:classify``/``:regress`` REST bodies, as TF Serving's
``FillClassifyRegressRequestFromJson`` (``util/json_tensor.cc``, 2.16.1) builds them: feature
kinds from JSON types, ``{"b64": ...}`` bytes, the optional ``context`` example, its messages.
"""

from typing import Any, List, Optional

from tfx_kfp.serving.protocol.errors import InvalidArgument
from tfx_kfp.serving.protocol.json_codec import (
    debug_string, decode_base64_object, is_base64_object, is_proto_text, json_list, json_type_name,
)
from tfx_kfp.serving.versions import INT64_MAX, INT64_MIN

__all__ = ["examples_from_json", "examples_parts_from_json"]


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
                                  INT64_MIN <= value < 1 << 64):
        if kind not in (None, "float_list"):
            raise _incompatible_kind(name, kind)
        feature.float_list.value.append(float(value))
    else:
        if kind not in (None, "int64_list"):
            raise _incompatible_kind(name, kind)
        if value > INT64_MAX:
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
    """Serialized tf.Examples from a body, the ``context`` example's bytes prepended to each
    (as for ``ExampleListWithContext``); ``example_class`` defaults to TensorFlow's."""
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
    examples = json_list(doc, "examples", "Expecting 'examples' value to be an list/array",
                         "'examples' value is an empty array")
    return context, [_example_from_json(item, example_class) for item in examples]
