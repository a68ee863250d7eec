"""tf.Examples from ``:classify``/``:regress`` REST bodies, as TF Serving's
``FillClassifyRegressRequestFromJson`` (``util/json_tensor.cc``, 2.16.1) builds them: feature
kinds from JSON types, ``{"b64": ...}`` bytes, the optional ``context`` example, its messages.
"""

from typing import Any, List

from tfx_kfp.serving.protocol.errors import InvalidArgument
from tfx_kfp.serving.protocol.json_codec import (
    debug_string, decode_base64_object, is_base64_object, is_proto_text, json_list, json_type_name,
)
from tfx_kfp.serving.versions import INT64_MAX, INT64_MIN

__all__ = ["examples_from_json", "examples_parts_from_json"]


_KIND_NAMES = {"bytes_list": "bytes", "float_list": "float", "int64_list": "int64"}


def _add_feature_value(value: Any, name: str, feature) -> None:
    if value is None or type(value) is list or (type(value) is dict
                                                and not is_base64_object(value)):
        raise InvalidArgument(f"Feature: {name} has element with unexpected JSON type: "
                              f"{json_type_name(value)}")
    if type(value) is bool or type(value) is int and INT64_MIN <= value < 1 << 64:
        target = "int64_list"
    elif type(value) is float or type(value) is int:  # ints beyond uint64 are doubles
        target = "float_list"
    else:
        target = "bytes_list"
    kind = feature.WhichOneof("kind")
    if kind not in (None, target):
        raise InvalidArgument(f"Unexpected element type in feature: {name} expecting type: "
                              f"{_KIND_NAMES.get(kind, 'UNKNOWN')}")
    if type(value) is dict:
        value = decode_base64_object(value)
    elif type(value) is str:
        value = value.encode("utf-8", "surrogateescape")
    elif target == "float_list":
        value = float(value)
    elif value > INT64_MAX:
        raise InvalidArgument(f"Feature: {name} has uint64_t element. Only int64_t is supported.")
    getattr(feature, target).value.append(int(value) if target == "int64_list" else value)


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
