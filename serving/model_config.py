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

import os
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

from tfx_kfp.serving.errors import InvalidArgument

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


def single_model_config(name: str, base_path: str) -> List[ModelConfig]:
    """The config TF Serving builds from ``--model_name`` and ``--model_base_path``."""
    if not name:
        raise InvalidArgument("--model_name must not be empty")
    if not base_path:
        raise InvalidArgument("--model_base_path must not be empty")
    return [ModelConfig(name=name, base_path=os.path.abspath(base_path))]


def configs_from_proto(config, relative_to: str = "") -> List[ModelConfig]:
    """Converts a ``ModelServerConfig`` proto to ``ModelConfig``s.

    Raises:
        InvalidArgument: For unsupported or inconsistent configs.
    """
    if config.WhichOneof("config") == "custom_model_config":
        raise InvalidArgument("custom_model_config is not supported; use model_config_list")
    models: List[ModelConfig] = []
    seen = set()
    for entry in config.model_config_list.config:
        if not entry.name:
            raise InvalidArgument("Every model config needs a name")
        if entry.name in seen:
            raise InvalidArgument(f"Illegal to list model {entry.name} multiple times in config "
                                  "list")
        seen.add(entry.name)
        if not entry.base_path:
            raise InvalidArgument(f"Model {entry.name} has no base_path")
        platform = entry.model_platform or "tensorflow"
        if platform != "tensorflow":
            raise InvalidArgument(
                f"Model {entry.name} uses model_platform {platform!r}; only 'tensorflow' "
                "is supported")
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
        base_path = entry.base_path
        if relative_to and not os.path.isabs(base_path) and "://" not in base_path:
            base_path = os.path.join(relative_to, base_path)
        models.append(ModelConfig(entry.name, os.path.abspath(base_path), policy,
                                  dict(entry.version_labels)))
    if not models:
        raise InvalidArgument("The model config lists no models")
    return models


def parse_model_config_text(text: str, relative_to: str = "") -> List[ModelConfig]:
    """Parses a text-format ``ModelServerConfig``.

    Args:
        text: The file contents.
        relative_to: Directory that relative ``base_path``s are resolved against.
    """
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as error:
        raise InvalidArgument(f"Invalid model config (text ModelServerConfig expected): "
                              f"{error}") from None
    return configs_from_proto(config, relative_to)


def load_model_config_file(path: str) -> List[ModelConfig]:
    """Reads and parses a model config file (relative base paths are relative to it)."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise InvalidArgument(f"Cannot read model config file {path}: {error}") from None
    return parse_model_config_text(text, os.path.dirname(os.path.abspath(path)))
