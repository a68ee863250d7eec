"""TF Serving 2.16.1's ``BatchingParameters`` and ``MonitoringConfig`` (not in the
tensorflow-serving-api wheel), declared field for field, for protobuf's ``text_format`` to read
``--batching_parameters_file`` and ``--monitoring_config_file`` as ``ParseProtoTextFile`` does.
"""

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf import wrappers_pb2

from tfx_kfp.serving.protocol.errors import InvalidArgument

__all__ = ["parse_batching_parameters", "parse_monitoring_config"]

_PACKAGE = "tfx_kfp.serving.tf_serving_config"
_F = descriptor_pb2.FieldDescriptorProto


def _build():
    pool = descriptor_pool.DescriptorPool()
    wrappers = descriptor_pb2.FileDescriptorProto()
    wrappers_pb2.DESCRIPTOR.CopyToProto(wrappers)
    pool.Add(wrappers)
    proto = descriptor_pb2.FileDescriptorProto(
        name="tfx_kfp_tf_serving_config.proto", package=_PACKAGE, syntax="proto3",
        dependency=[wrappers.name])

    def message(name, specs):
        added = proto.message_type.add(name=name)
        for field_name, number, kind, type_name, repeated in specs:
            field = added.field.add(name=field_name, number=number, type=kind,
                                    label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL)
            if type_name:
                field.type_name = type_name

    wrapped = _F.TYPE_MESSAGE
    message("BatchingParameters", [
        ("max_batch_size", 1, wrapped, ".google.protobuf.Int64Value", False),
        ("batch_timeout_micros", 2, wrapped, ".google.protobuf.Int64Value", False),
        ("max_enqueued_batches", 3, wrapped, ".google.protobuf.Int64Value", False),
        ("num_batch_threads", 4, wrapped, ".google.protobuf.Int64Value", False),
        ("thread_pool_name", 5, wrapped, ".google.protobuf.StringValue", False),
        ("allowed_batch_sizes", 6, _F.TYPE_INT64, "", True),
        ("pad_variable_length_inputs", 7, _F.TYPE_BOOL, "", False),
        ("enable_large_batch_splitting", 8, wrapped, ".google.protobuf.BoolValue", False),
        ("max_execution_batch_size", 9, wrapped, ".google.protobuf.Int64Value", False),
    ])
    message("PrometheusConfig", [("enable", 1, _F.TYPE_BOOL, "", False),
                                 ("path", 2, _F.TYPE_STRING, "", False)])
    message("MonitoringConfig", [
        ("prometheus_config", 1, wrapped, f".{_PACKAGE}.PrometheusConfig", False)])
    pool.Add(proto)
    return {name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.{name}"))
            for name in ("BatchingParameters", "MonitoringConfig")}


_CLASSES = _build()


def _parse(kind: str, path: str):
    message = _CLASSES[kind]()
    try:
        with open(path, "r", encoding="utf-8") as handle:
            text_format.Parse(handle.read(), message)
    except (OSError, UnicodeDecodeError, text_format.ParseError) as error:
        raise InvalidArgument(f"{path}: not a text {kind} proto: {error}") from None
    return message


def parse_batching_parameters(path: str):
    """Reads a text ``BatchingParameters`` file (``--batching_parameters_file``)."""
    return _parse("BatchingParameters", path)


def parse_monitoring_config(path: str):
    """Reads a text ``MonitoringConfig`` file (``--monitoring_config_file``)."""
    return _parse("MonitoringConfig", path)
