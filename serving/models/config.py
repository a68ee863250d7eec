"""Which models to serve: ``--model_name``/``--model_base_path``, or a text ``ModelServerConfig``
file (docs/serving.md shows one), checked as TF Serving 2.16.1 checks it at startup and on
every reload (``server_core.cc``: ``ReloadConfig``, ``ValidateModelConfigList``,
``ValidateNoModelsChangePlatforms``, ``GetPlatform``, ``CreateStoragePathRoutes``, and
``UpdateModelVersionLabelMap`` through ``check_labels``), in its order, codes and messages.

Also reads ``--batching_parameters_file`` and ``--monitoring_config_file``: their messages are
not in the tensorflow-serving-api wheel, so they are declared here field for field as in TF
Serving 2.16.1 (``session_bundle_config.proto``, ``monitoring_config.proto``). No TensorFlow.
"""

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf import wrappers_pb2

from tfx_kfp.serving.protocol.errors import FailedPrecondition, InvalidArgument

__all__ = ["ModelConfig", "VersionPolicy", "load_model_config_file",
           "single_model_config", "configs_from_proto", "read_model_config_file", "TENSORFLOW",
           "parse_batching_parameters", "parse_monitoring_config"]

TENSORFLOW = "tensorflow"  # the one platform served (server_core.cc's kTensorFlowModelPlatform)


@dataclass(frozen=True)
class VersionPolicy:
    """Which versions to serve: ``latest`` (``num_versions``), ``all`` or ``specific``."""

    kind: str = "latest"
    num_versions: int = 1
    versions: Tuple[int, ...] = ()

    def select(self, available: Sequence[int]) -> List[int]:
        ordered = sorted(set(available))
        if self.kind == "all":
            return ordered
        if self.kind == "specific":
            return [v for v in ordered if v in self.versions]
        return ordered[-max(self.num_versions, 1):] if ordered else []


@dataclass(frozen=True)
class ModelConfig:
    """One served model: its name, the base path of its version directories, policy, labels."""

    name: str
    base_path: str
    policy: VersionPolicy = VersionPolicy()
    version_labels: Dict[str, int] = field(default_factory=dict)
    platform: str = TENSORFLOW


def _check_absolute(name: str, base_path: str) -> None:
    """TF Serving refuses a base path for which ``UriIsRelativePath`` holds."""
    if "://" not in base_path and not base_path.startswith("/"):
        raise InvalidArgument(f"Expected model {name} to have an absolute path or URI; got "
                              f"base_path()={base_path}")


def single_model_config(name: str, base_path: str) -> List[ModelConfig]:
    """The config TF Serving builds from ``--model_name`` and ``--model_base_path``."""
    if not name:
        raise InvalidArgument("--model_name must not be empty")
    if not base_path:
        raise InvalidArgument("--model_base_path must not be empty")
    _check_absolute(name, base_path)
    return [ModelConfig(name=name, base_path=base_path)]


def _platform(entry) -> str:
    """``GetPlatform``: ``model_platform``, or the deprecated ``model_type`` enum."""
    if entry.model_type:  # ModelType: 0 unspecified, 1 TENSORFLOW
        if entry.model_platform:
            raise InvalidArgument(
                "Illegal setting both ModelServerConfig::model_type (deprecated) and "
                f"ModelServerConfig::model_platform, model name is {entry.name}")
        if entry.model_type != 1:
            raise InvalidArgument(f"ModelServerConfig::model_type choice {entry.model_type} "
                                  "not supported.")
        return TENSORFLOW
    if not entry.model_platform:
        raise InvalidArgument(
            "Illegal setting neither ModelServerConfig::model_type (deprecated) nor "
            f"ModelServerConfig::model_platform, model name is {entry.name}")
    return entry.model_platform


def _policy(entry) -> VersionPolicy:
    choice = entry.model_version_policy.WhichOneof("policy_choice")
    if choice == "all":
        return VersionPolicy(kind="all")
    if choice == "specific":
        return VersionPolicy(kind="specific",
                             versions=tuple(entry.model_version_policy.specific.versions))
    return VersionPolicy(kind="latest",
                         num_versions=max(entry.model_version_policy.latest.num_versions, 1))


def configs_from_proto(config, current: Optional[Sequence[ModelConfig]] = None,
                       check_labels: Optional[Callable[[List[ModelConfig]], None]] = None,
                       ) -> Optional[List[ModelConfig]]:
    """Checks a ``ModelServerConfig`` as ``ServerCore::ReloadConfig`` does and converts it.
    ``current``: the served configs (None at startup). Returns None for an empty first config
    ("Taking no action for empty config")."""
    case = config.WhichOneof("config")
    if current is not None and case != "model_config_list":
        raise FailedPrecondition("Cannot transition to requested config. It is only legal to "
                                 "transition from one ModelConfigList to another.")
    if case is None:
        return None
    if case == "custom_model_config":
        raise InvalidArgument("Missing custom_model_config_loader in ServerCore Options")
    entries = list(config.model_config_list.config)
    seen = set()
    for entry in entries:  # ValidateModelConfigList
        if entry.name in seen:
            raise InvalidArgument(f"Illegal to list model {entry.name} multiple times in config "
                                  "list")
        seen.add(entry.name)
    for entry in entries:
        _check_absolute(entry.name, entry.base_path)
    served_platforms = {c.name: c.platform for c in current or ()}
    for entry in entries:  # ValidateNoModelsChangePlatforms
        if entry.name in served_platforms and _platform(entry) != served_platforms[entry.name]:
            raise InvalidArgument(
                f"Illegal to change a model's platform. For model {entry.name} platform was "
                f"{served_platforms[entry.name]} and new platform requested is "
                f"{_platform(entry)}")
    models = [ModelConfig(entry.name, entry.base_path, _policy(entry),
                          dict(entry.version_labels), entry.model_platform or TENSORFLOW)
              for entry in entries]
    if check_labels is not None:
        check_labels(models)
    for entry in entries:  # CreateStoragePathRoutes
        platform = _platform(entry)
        if platform != TENSORFLOW:
            raise InvalidArgument(f"Model {entry.name} requests unsupported platform {platform}")
    return models


def _read_text_proto(path: str, message, what: str):
    """Parses a text proto file as TF Serving's ``ParseProtoTextFile`` (InvalidArgument if not)."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return text_format.Parse(handle.read(), message)
    except (OSError, UnicodeDecodeError, text_format.ParseError) as error:
        raise InvalidArgument(f"{path}: not a text {what} proto: {error}") from None


def read_model_config_file(path: str):
    """Reads a text ``ModelServerConfig`` file."""
    from tensorflow_serving.config import model_server_config_pb2

    return _read_text_proto(path, model_server_config_pb2.ModelServerConfig(), "ModelServerConfig")


def load_model_config_file(path: str) -> List[ModelConfig]:
    """Reads, checks and converts a startup model config file (empty: no models)."""
    config = read_model_config_file(path)
    try:
        return configs_from_proto(config) or []
    except InvalidArgument as error:
        raise InvalidArgument(f"{path}: {error.message}") from None


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


def parse_batching_parameters(path: str):
    """Reads a text ``BatchingParameters`` file (``--batching_parameters_file``)."""
    return _read_text_proto(path, _CLASSES["BatchingParameters"](), "BatchingParameters")


def parse_monitoring_config(path: str):
    """Reads a text ``MonitoringConfig`` file (``--monitoring_config_file``)."""
    return _read_text_proto(path, _CLASSES["MonitoringConfig"](), "MonitoringConfig")
