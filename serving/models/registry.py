"""The served models' state under one lock: version statuses, loaded versions and labels.

Answers lookups (TF Serving's ``ServableRequest`` semantics), status and waits;
:class:`tfx_kfp.serving.models.manager.ModelManager` adds the lifecycle on top.
"""

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Sequence

from tfx_kfp.serving.protocol.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ServingError,
    Unavailable,
    Unknown,
)
from tfx_kfp.serving.models.config import ModelConfig
from tfx_kfp.serving.models.servable import LoadedVersion

__all__ = ["ModelRegistry", "VersionStatus", "START", "LOADING", "AVAILABLE", "UNLOADING", "END"]

START, LOADING, AVAILABLE, UNLOADING, END = "START", "LOADING", "AVAILABLE", "UNLOADING", "END"


@dataclass
class VersionStatus:
    """One version as GetModelStatus reports it (``error``: the load failure, in END)."""

    version: int
    state: str
    error: Optional[ServingError] = None


class _Model:
    def __init__(self, config: ModelConfig):
        self.config = config
        self.statuses: Dict[int, VersionStatus] = {}
        self.available: Dict[int, LoadedVersion] = {}
        self.aspired: Dict[int, str] = {}   # version -> path
        self.failed: set = set()            # failed versions still aspired (not retried)
        self.labels: Dict[str, int] = dict(config.version_labels)
        self.warned_empty = False  # "No versions ... found" reported
        self.removed = False  # dropped from the config: unload everything, then forget


class ModelRegistry:
    """Models by name, their versions and labels, with the lookups requests need."""

    def __init__(self, configs: Sequence[ModelConfig], allow_unavailable_labels: bool = False):
        self._models: Dict[str, _Model] = {c.name: _Model(c) for c in configs}
        self._allow_unavailable_labels = allow_unavailable_labels
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = False  # set by stop(): waits end at once

    def check_labels(self, configs: Sequence[ModelConfig]) -> None:
        """``UpdateModelVersionLabelMap`` (server_core.cc): a label must point at an AVAILABLE
        version or, with ``--allow_version_labels_for_unavailable_models``, be new."""
        with self._lock:
            for config in configs:
                model = self._models.get(config.name)
                available = model.available if model is not None else {}
                served = model.labels if model is not None else {}
                for label, version in config.version_labels.items():
                    if version in available or (self._allow_unavailable_labels
                                                and served.get(label, version) == version):
                        continue
                    raise FailedPrecondition(
                        f"Request to assign label to version {version} of model {config.name}, "
                        "which is not currently available for inference")

    def current_configs(self) -> List[ModelConfig]:
        """The configs of the models served now (removed ones excluded)."""
        with self._lock:
            return [m.config for m in self._models.values() if not m.removed]

    def replace_configs(self, configs: Sequence[ModelConfig]) -> List[str]:
        """Adds new models, marks missing ones removed, updates the others; returns new names."""
        with self._lock:
            wanted = {c.name: c for c in configs}
            for name, model in self._models.items():
                model.removed = name not in wanted
            new_names = [name for name in wanted if name not in self._models]
            for name, config in wanted.items():
                model = self._models.setdefault(name, _Model(config))
                model.config, model.labels = config, dict(config.version_labels)
        return new_names

    @contextmanager
    def acquire(self, name: str, version: Optional[int] = None,
                label: Optional[str] = None) -> Iterator[LoadedVersion]:
        """Holds a loaded version (the latest, ``version`` or ``label``'s) during a request."""
        loaded = self.lookup(name, version, label)
        try:
            yield loaded
        finally:
            loaded.release()

    def lookup(self, name: str, version: Optional[int] = None,
               label: Optional[str] = None) -> LoadedVersion:
        """Like ``acquire`` but the caller must call ``release()`` on the result."""
        if not name:
            raise InvalidArgument("ModelSpec has no name specified.")
        with self._lock:
            model = self._models.get(name)
            if label is not None:
                labels = model.labels if model is not None else {}
                if label not in labels:
                    raise InvalidArgument(f"Unrecognized servable version label: {label}")
                version = labels[label]
            available = model.available if model is not None else {}
            if version is None:
                loaded = available[max(available)] if available else None
                request = f"Latest({name})"
            else:
                loaded = available.get(version)
                request = f"Specific({name}, {version})"
            if loaded is None:
                raise NotFound(f"Servable not found for request: {request}")
            loaded.acquire()
            return loaded

    def model_names(self) -> List[str]:
        """Names of the configured models."""
        return sorted(self._models)

    def version_statuses(self, name: str, version: Optional[int] = None) -> List[VersionStatus]:
        """Version statuses, highest version first (GetModelStatus semantics and messages)."""
        with self._lock:
            model = self._models.get(name)
            statuses = dict(model.statuses) if model is not None else {}
        if version is not None:
            if version not in statuses:
                raise NotFound(f"Could not find version {version} of model {name}")
            return [statuses[version]]
        if not statuses:
            raise NotFound(f"Could not find any versions of model {name}")
        return [statuses[v] for v in sorted(statuses, reverse=True)]

    def available_versions(self, name: str) -> List[int]:
        """Versions of ``name`` that currently serve requests."""
        with self._lock:
            model = self._models.get(name)
            return sorted(model.available) if model is not None else []

    def stop_waiting(self) -> None:
        """Ends every wait (reloads, startup) at once: the server is stopping."""
        with self._lock:
            self._stopping = True
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Waits until ``predicate()`` (evaluated under the manager lock) holds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate():
                if self._stopping:
                    return False
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 0.5))
        return True

    def _settled(self, names: Sequence[str]) -> bool:
        """Each model AVAILABLE, or all its aspired versions failed (TF Serving gives up too)."""
        models = [self._models[n] for n in names if n in self._models]
        return all(m.available or m.aspired and all(v in m.failed for v in m.aspired)
                   for m in models)

    def wait_for_new_models(self, names: List[str], timeout: float) -> None:
        """``ServerCore::WaitUntilModelsAvailable`` after a reload added ``names``: Unknown (TF
        Serving's message) for failed loads, Unavailable when still loading or stopping."""
        if self.wait_for(lambda: self._settled(names), timeout):
            with self._lock:
                failed = [(n, s) for n in names if n in self._models and not self._models[n].available
                          for s in self._models[n].statuses.values() if s.error is not None]
            if not failed:
                return
            raise Unknown(f"{len(failed)} model(s) did not become available: {{" + "".join(
                f"{{name: {n} version: {s.version}}} due to error: {s.error.status_string()}}}, "
                for n, s in failed) + "}")
        self.wait_until_available(0, names)  # raises Unavailable naming what is missing

    def wait_until_available(self, timeout: float, names: Optional[Sequence[str]] = None) -> None:
        """Waits until each model has an AVAILABLE version; raises ``Unavailable`` naming the
        models still missing and their last load errors."""
        names = list(names) if names is not None else self.model_names()
        if self.wait_for(lambda: self._settled(names), timeout) and all(
                self._models[n].available for n in names if n in self._models):
            return
        problems = []
        with self._lock:
            for name in names:
                model = self._models.get(name)
                if model is None or model.available:
                    continue
                errors = [f"version {s.version}: {s.error.status_string()}"
                          for s in sorted(model.statuses.values(), key=lambda s: -s.version)
                          if s.error is not None]
                detail = "; ".join(errors) if errors else (
                    f"no version directory found under {model.config.base_path}"
                    if not model.statuses else "still loading")
                problems.append(f"{name} ({detail})")
        if self._stopping:
            raise Unavailable("The server is stopping; no longer waiting for: "
                              + ", ".join(problems))
        raise Unavailable(f"No version became AVAILABLE within {timeout:g}s for: "
                          + ", ".join(problems))
