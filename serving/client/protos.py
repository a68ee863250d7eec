"""TF Serving's API messages for the client, without importing TensorFlow (whose ``__init__``
any ``tensorflow_serving.apis`` import runs): the serialized descriptors embedded in the
installed ``*_pb2.py`` files are read (parsed, not imported) into a private descriptor pool.
"""

import ast
import functools
import importlib.util
import os
import threading

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

__all__ = ["message_class", "ProtoUnavailable"]

_ROOT_FILES = (
    "tensorflow_serving/apis/predict.proto",
    "tensorflow_serving/apis/classification.proto",
    "tensorflow_serving/apis/regression.proto",
    "tensorflow_serving/apis/get_model_metadata.proto",
    "tensorflow_serving/apis/get_model_status.proto",
    "tensorflow_serving/apis/inference.proto",
)
_WELL_KNOWN = {
    "google/protobuf/any.proto": "google.protobuf.any_pb2",
    "google/protobuf/wrappers.proto": "google.protobuf.wrappers_pb2",
}


class ProtoUnavailable(RuntimeError):
    """The installed packages do not provide TF Serving's protos."""


_lock = threading.Lock()  # one pool: messages of two pools do not mix


def _package_dir(top_level: str) -> str:
    spec = importlib.util.find_spec(top_level)  # does not import the package
    if spec is None or not spec.submodule_search_locations:
        raise ProtoUnavailable(
            f"package {top_level!r} is not installed; the gRPC client needs "
            "tensorflow-serving-api (and its tensorflow dependency) to be installed")
    return list(spec.submodule_search_locations)[0]


def _serialized_file(proto_name: str) -> bytes:
    if proto_name in _WELL_KNOWN:
        module = importlib.import_module(_WELL_KNOWN[proto_name])
        return module.DESCRIPTOR.serialized_pb
    module_path = proto_name[: -len(".proto")] + "_pb2.py"
    top_level, _, rest = module_path.partition("/")
    if importlib.util.find_spec(top_level) is not None:
        path = os.path.join(_package_dir(top_level), rest)
    else:  # TensorFlow vendors tsl/ and xla/ protos under its own package
        tensorflow_dir = _package_dir("tensorflow")
        candidates = [os.path.join(tensorflow_dir, module_path),
                      os.path.join(tensorflow_dir, "compiler", module_path)]
        path = next((c for c in candidates if os.path.isfile(c)), candidates[0])
    try:
        with open(path, "r", encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), filename=path)
    except OSError as error:
        raise ProtoUnavailable(f"cannot read {path}: {error}") from None
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "AddSerializedFile" and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, bytes)):
            return node.args[0].value
    raise ProtoUnavailable(f"no serialized descriptor found in {path}")


def _add_file(pool, name: str, added: set) -> None:
    if name in added:
        return
    proto = descriptor_pb2.FileDescriptorProto.FromString(_serialized_file(name))
    for dependency in proto.dependency:
        _add_file(pool, dependency, added)
    pool.Add(proto)
    added.add(name)


@functools.lru_cache(maxsize=None)
def _pool() -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.DescriptorPool()
    added: set = set()
    for name in _ROOT_FILES:
        _add_file(pool, name, added)
    return pool


@functools.lru_cache(maxsize=None)
def message_class(full_name: str) -> type:
    """The message class of a full proto name (``tensorflow.serving.PredictRequest``)."""
    with _lock:
        return message_factory.GetMessageClass(_pool().FindMessageTypeByName(full_name))
