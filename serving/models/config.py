"""Which models to serve: from ``--model_name``/``--model_base_path`` or a config file.

The config file is TF Serving's text-format ``ModelServerConfig``::

    model_config_list {
      config {
        name: "penguin"
        base_path: "/models/penguin"
        model_platform: "tensorflow"
        model_version_policy { latest { num_versions: 2 } }   # or all {} / specific { versions: 3 }
        version_labels { key: "stable" value: 3 }
      }
    }

Parsing needs only the ``tensorflow_serving.config`` protos, not TensorFlow.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

from tfx_kfp.serving.protocol.errors import InvalidArgument

__all__ = ["ModelConfig", "VersionPolicy", "parse_model_config_text", "load_model_config_file",
           "single_model_config", "configs_from_proto"]


@dataclass(frozen=True)
class VersionPolicy:
    """Which version directories to serve.

    Attributes:
        kind: ``"latest"``, ``"all"`` or ``"specific"``.
        num_versions: For ``latest``: how many of the highest versions (at least 1).
        versions: For ``specific``: the version numbers.
    """

    kind: str = "latest"
    num_versions: int = 1
    versions: Tuple[int, ...] = ()

    def select(self, available: Sequence[int]) -> List[int]:
        """Returns the versions to serve among those found on disk."""
        ordered = sorted(set(available))
        if self.kind == "all":
            return ordered
        if self.kind == "specific":
            wanted = set(self.versions)
            return [v for v in ordered if v in wanted]
        return ordered[-max(self.num_versions, 1):] if ordered else []


@dataclass(frozen=True)
class ModelConfig:
    """One served model.

    Attributes:
        name: Model name used in requests.
        base_path: Directory holding numeric version subdirectories.
        policy: The version policy.
        version_labels: Label -> version number.
    """

    name: str
    base_path: str
    policy: VersionPolicy = VersionPolicy()
    version_labels: Dict[str, int] = field(default_factory=dict)


def _is_relative(base_path: str) -> bool:
    """TF Serving's ``UriIsRelativePath``: no scheme, no host, not an absolute path."""
    return "://" not in base_path and not base_path.startswith("/")


def _check_base_path(name: str, base_path: str) -> None:
    if _is_relative(base_path):
        raise InvalidArgument(f"Expected model {name} to have an absolute path or URI; got "
                              f"base_path()={base_path}")


def single_model_config(name: str, base_path: str) -> List[ModelConfig]:
    """The config TF Serving builds from ``--model_name`` and ``--model_base_path``."""
    if not name:
        raise InvalidArgument("--model_name must not be empty")
    if not base_path:
        raise InvalidArgument("--model_base_path must not be empty")
    _check_base_path(name, base_path)
    return [ModelConfig(name=name, base_path=base_path)]


def configs_from_proto(config) -> List[ModelConfig]:
    """Converts a ``ModelServerConfig`` proto to ``ModelConfig``s.

    Checks what ``ServerCore::ReloadConfig`` checks (server_core.cc, TF Serving 2.16.1),
    with its messages: unique names, a platform (``model_platform`` or the deprecated
    ``model_type``), only ``tensorflow``, absolute base paths or URIs.

    Raises:
        InvalidArgument: For unsupported or inconsistent configs.
    """
    if config.WhichOneof("config") == "custom_model_config":
        raise InvalidArgument("ServerModelConfig type not supported by HandleReloadConfigRequest."
                              " Only ModelConfigList is currently supported")
    models: List[ModelConfig] = []
    seen = set()
    for entry in config.model_config_list.config:
        if entry.name in seen:
            raise InvalidArgument(f"Illegal to list model {entry.name} multiple times in config "
                                  "list")
        seen.add(entry.name)
        _check_base_path(entry.name, entry.base_path)
    for entry in config.model_config_list.config:
        platform = entry.model_platform
        if entry.model_type:  # deprecated ModelType enum; 1 is TENSORFLOW
            if platform:
                raise InvalidArgument(
                    "Illegal setting both ModelServerConfig::model_type (deprecated) and "
                    f"ModelServerConfig::model_platform, model name is {entry.name}")
            platform = "tensorflow" if entry.model_type == 1 else ""
            if not platform:
                raise InvalidArgument(f"ModelServerConfig::model_type choice {entry.model_type} "
                                      "not supported.")
        if not platform:
            raise InvalidArgument(
                "Illegal setting neither ModelServerConfig::model_type (deprecated) nor "
                f"ModelServerConfig::model_platform, model name is {entry.name}")
        if platform != "tensorflow":
            raise InvalidArgument(f"Model {entry.name} requests unsupported platform {platform}")
        choice = entry.model_version_policy.WhichOneof("policy_choice")
        if choice == "all":
            policy = VersionPolicy(kind="all")
        elif choice == "specific":
            policy = VersionPolicy(kind="specific",
                                   versions=tuple(entry.model_version_policy.specific.versions))
        else:
            policy = VersionPolicy(
                kind="latest",
                num_versions=max(entry.model_version_policy.latest.num_versions, 1))
        models.append(ModelConfig(entry.name, entry.base_path, policy,
                                  dict(entry.version_labels)))
    return models


def parse_model_config_text(text: str) -> List[ModelConfig]:
    """Parses a text-format ``ModelServerConfig``."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as error:
        raise InvalidArgument(f"Invalid model config (text ModelServerConfig expected): "
                              f"{error}") from None
    return configs_from_proto(config)


def load_model_config_file(path: str) -> List[ModelConfig]:
    """Reads and parses a model config file."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise InvalidArgument(f"Cannot read model config file {path}: {error}") from None
    try:
        return parse_model_config_text(text)
    except InvalidArgument as error:
        raise InvalidArgument(f"{path}: {error.message}") from None
