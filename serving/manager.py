"""Model lifecycle: discover versions, load, warm up, swap, unload, report status.

Behaves like TF Serving's file-system source plus ``AspiredVersionsManager``
with the availability-preserving policy:

* Every ``poll_seconds`` each model's base path is listed; numeric
  subdirectories are versions, and the version policy (latest N, all,
  specific) picks the *aspired* ones.
* The highest new aspired version is loaded (with retries), warmed up from
  ``assets.extra/tf_serving_warmup_requests``, and only then made
  available; a version that is no longer aspired is unloaded once some
  aspired version is available, so a model never drops to zero versions
  during a push.
* A version that fails to load ends in state END with its error and leaves
  the serving versions untouched; it is retried only if it disappears and
  comes back.
* Requests hold the version they started on until they finish; unloading
  waits for them.

Versions are reported in ``GetModelStatus`` terms: START, LOADING,
AVAILABLE, UNLOADING, END (with the error for failed loads).
"""

import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Sequence

from tfx_kfp.serving import storage
from tfx_kfp.serving.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ServingError,
    Unavailable,
)
from tfx_kfp.serving.model_config import ModelConfig
from tfx_kfp.serving.servable import LoadedVersion, SessionOptions, as_serving_error, load_version

__all__ = ["ModelManager", "VersionStatus", "START", "LOADING", "AVAILABLE", "UNLOADING", "END"]

log = logging.getLogger(__name__)

START, LOADING, AVAILABLE, UNLOADING, END = "START", "LOADING", "AVAILABLE", "UNLOADING", "END"


@dataclass
class VersionStatus:
    """Status of one version as GetModelStatus reports it.

    Attributes:
        version: Version number.
        state: START, LOADING, AVAILABLE, UNLOADING or END.
        error: The load failure, for versions that failed (state END).
    """

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
        self.removed = False  # dropped from the config: unload everything, then forget


class ModelManager:
    """Keeps the configured models' versions loaded and routes requests to them.

    Args:
        configs: Models to serve.
        poll_seconds: Seconds between base-path polls; <= 0 polls once.
        session_options: TensorFlow session settings.
        max_num_load_retries: Extra load attempts after a failure (TF Serving's
            ``--max_num_load_retries``).
        load_retry_interval_seconds: Wait between load attempts.
        warmup: Callable(version) that replays the version's warmup requests;
            raises to fail the load. ``None`` disables warmup.
        on_event: Optional callable(message) for progress lines.
        batcher: Optional ``Batcher``: loaded versions run their requests through it.
        allow_unavailable_labels: TF Serving's
            ``--allow_version_labels_for_unavailable_models`` (new labels only).
    """

    def __init__(self, configs: Sequence[ModelConfig], poll_seconds: float = 1.0,
                 session_options: Optional[SessionOptions] = None,
                 max_num_load_retries: int = 5, load_retry_interval_seconds: float = 60.0,
                 warmup: Optional[Callable[[LoadedVersion], None]] = None,
                 on_event: Optional[Callable[[str], None]] = None, batcher=None,
                 allow_unavailable_labels: bool = False):
        for config in configs:
            storage.check_base_path(config.name, config.base_path)
        self._models: Dict[str, _Model] = {c.name: _Model(c) for c in configs}
        self._batcher = batcher
        self._allow_unavailable_labels = allow_unavailable_labels
        self._poll_seconds = poll_seconds
        self._session_options = session_options or SessionOptions()
        self._max_retries = max(0, int(max_num_load_retries))
        self._retry_interval = max(0.0, float(load_retry_interval_seconds))
        self._warmup = warmup
        self._on_event = on_event
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._poll_now = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._unload_threads: List[threading.Thread] = []
        self.polls_completed = 0

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Starts the polling thread (the first poll runs right away)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._poll_loop, name="tfx-kfp-model-poller",
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stops polling and unloads every version (waiting for requests in flight)."""
        self._stop.set()
        self._poll_now.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            versions = [v for m in self._models.values() for v in m.available.values()]
            for model in self._models.values():
                for number in list(model.available):
                    model.statuses[number] = VersionStatus(number, END)
                model.available = {}
            self._changed.notify_all()
        for version in versions:
            version.close(wait_timeout=timeout)
        for thread in list(self._unload_threads):
            thread.join(timeout)

    def poll_now(self) -> None:
        """Asks the poller to look at the file system without waiting for the interval."""
        self._poll_now.set()

    def reconfigure(self, configs: Sequence[ModelConfig], timeout: Optional[float] = None) -> None:
        """Replaces the served model list (TF Serving's ``ServerCore::ReloadConfig``).

        New models are added and removed ones unloaded; changed policies apply from
        the next poll (which starts now). With a ``timeout`` this waits, as TF Serving
        does, until every new model is AVAILABLE, then checks and applies the version
        labels; without one, labels apply at once.

        Raises:
            InvalidArgument: A base path TensorFlow cannot read.
            Unavailable: A new model failed to load or did not load in time.
            FailedPrecondition: A label names a version that is not AVAILABLE.
        """
        for config in configs:
            storage.check_base_path(config.name, config.base_path)
        with self._lock:
            wanted = {c.name: c for c in configs}
            new_names = [name for name in wanted if name not in self._models]
            for name, model in self._models.items():
                model.removed = name not in wanted
            for name, config in wanted.items():
                if name in self._models:
                    self._models[name].config = config
                    if timeout is None:
                        self._models[name].labels = dict(config.version_labels)
                else:
                    self._models[name] = _Model(config)
                    if timeout is not None:
                        self._models[name].labels = {}
        self.poll_now()
        if timeout is not None:
            self.wait_until_available(timeout, new_names)
            self.check_labels(apply=True)

    def check_labels(self, apply: bool = False) -> None:
        """Checks configured labels point at AVAILABLE versions (``UpdateModelVersionLabelMap``).

        Args:
            apply: Also make the configured labels the served ones.

        Raises:
            FailedPrecondition: TF Serving's message for the first bad label.
        """
        with self._lock:
            for name, model in self._models.items():
                for label, version in model.config.version_labels.items():
                    new_label = model.labels.get(label, version) == version
                    if version in model.available or (self._allow_unavailable_labels
                                                      and new_label):
                        continue
                    raise FailedPrecondition(
                        f"Request to assign label to version {version} of model {name}, "
                        "which is not currently available for inference")
            if apply:
                for model in self._models.values():
                    model.labels = dict(model.config.version_labels)

    def _poll_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # noqa: BLE001 - the poller must survive anything
                log.exception("model poll failed")
            if self._poll_seconds <= 0:
                self._poll_now.wait()
            else:
                self._poll_now.wait(self._poll_seconds)
            self._poll_now.clear()

    def _event(self, message: str) -> None:
        log.info("%s", message)
        if self._on_event is not None:
            try:
                self._on_event(message)
            except Exception:  # noqa: BLE001 - progress output must not break serving
                pass

    # ------------------------------------------------------------ polling

    def poll_once(self) -> None:
        """Lists every base path once and loads/unloads versions to match."""
        for name in list(self._models):
            if self._stop.is_set():
                return
            model = self._models[name]
            if model.removed:
                self._reconcile(model, {})
                with self._lock:
                    if model.removed and not model.available:
                        del self._models[name]
                continue
            found = storage.list_versions(model.config.base_path)
            if found is None:
                if not model.statuses:
                    log.warning("No versions of servable %s found under base path %s",
                                name, model.config.base_path)
                continue
            aspired_numbers = model.config.policy.select(list(found))
            self._reconcile(model, {v: found[v] for v in aspired_numbers})
        self.polls_completed += 1
        with self._lock:
            self._changed.notify_all()

    def _reconcile(self, model: _Model, aspired: Dict[int, str]) -> None:
        with self._lock:
            model.aspired = aspired
            model.failed &= set(aspired)
            for number in aspired:
                status = model.statuses.get(number)
                if number in model.failed:
                    continue
                if status is None or (status.state == END and number not in model.available):
                    model.statuses[number] = VersionStatus(number, START)
            for number, status in model.statuses.items():
                if status.state == START and number not in aspired:
                    model.statuses[number] = VersionStatus(number, END)
            self._changed.notify_all()
        while not self._stop.is_set():
            action = self._next_action(model)
            if action is None:
                return
            kind, number = action
            if kind == "unload":
                self._unload(model, number)
            else:
                self._load(model, number)

    def _next_action(self, model: _Model):
        with self._lock:
            aspired = model.aspired
            has_aspired = bool(aspired)
            has_aspired_serving = any(v in model.available for v in aspired)
            unaspired_serving = sorted(v for v in model.available if v not in aspired)
            if unaspired_serving and (not has_aspired or has_aspired_serving
                                      or len(unaspired_serving) > 1):
                return "unload", unaspired_serving[0]
            new = [v for v in aspired if model.statuses.get(v) is not None
                   and model.statuses[v].state == START]
            if new:
                return "load", max(new)
        return None

    def _load(self, model: _Model, number: int) -> None:
        name = model.config.name
        path = model.aspired[number]
        with self._lock:
            model.statuses[number] = VersionStatus(number, LOADING)
        self._event(f"Loading {name} version {number} from {path}")
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                version = load_version(name, number, path, self._session_options)
                if self._batcher is not None:
                    version.batch_queue = self._batcher.queue_for(version)
                try:
                    if self._warmup is not None:
                        self._warmup(version)
                except BaseException:
                    version.close()
                    raise
            except ServingError as error:
                failure: Optional[ServingError] = error
            except Exception as error:  # noqa: BLE001 - any failure is a load error
                failure = as_serving_error(error)
            else:
                failure = None
            if failure is None:
                with self._lock:
                    model.available = {**model.available, number: version}
                    model.statuses[number] = VersionStatus(number, AVAILABLE)
                    self._changed.notify_all()
                self._event(f"{name} version {number} is AVAILABLE "
                            f"(loaded in {time.monotonic() - started:.1f}s)")
                return
            still_aspired = storage.is_dir(path)
            if attempt >= self._max_retries or not still_aspired or self._stop.is_set():
                with self._lock:
                    model.statuses[number] = VersionStatus(number, END, failure)
                    model.failed.add(number)
                    self._changed.notify_all()
                self._event(f"{name} version {number} failed to load: "
                            f"{failure.status_string()}")
                return
            attempt += 1
            log.warning("Loading %s version %d failed (%s); retry %d of %d in %.1fs", name,
                        number, failure.status_string(), attempt, self._max_retries,
                        self._retry_interval)
            if self._stop.wait(self._retry_interval):
                return

    def _unload(self, model: _Model, number: int) -> None:
        name = model.config.name
        with self._lock:
            version = model.available.get(number)
            if version is None:
                return
            model.available = {v: s for v, s in model.available.items() if v != number}
            model.statuses[number] = VersionStatus(number, UNLOADING)
            self._changed.notify_all()
        self._event(f"Unloading {name} version {number}")

        def finish() -> None:
            version.close()
            with self._lock:
                if model.statuses.get(number, VersionStatus(number, END)).state == UNLOADING:
                    model.statuses[number] = VersionStatus(number, END)
                self._changed.notify_all()

        thread = threading.Thread(target=finish, name=f"unload-{name}-{number}", daemon=True)
        self._unload_threads = [t for t in self._unload_threads if t.is_alive()] + [thread]
        thread.start()

    # ------------------------------------------------------------ requests

    @contextmanager
    def acquire(self, name: str, version: Optional[int] = None,
                label: Optional[str] = None) -> Iterator[LoadedVersion]:
        """Holds a loaded version for the duration of a request.

        Args:
            name: Model name.
            version: A specific version, or None.
            label: A version label, or None (exclusive with ``version``).

        Raises:
            InvalidArgument: Empty name or unknown label.
            NotFound: TF Serving's "Servable not found for request: ..." message.
        """
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

    # ------------------------------------------------------------ status

    def model_names(self) -> List[str]:
        """Names of the configured models."""
        return sorted(self._models)

    def version_statuses(self, name: str, version: Optional[int] = None) -> List[VersionStatus]:
        """Returns version statuses, highest version first (GetModelStatus semantics).

        Raises:
            NotFound: TF Serving's messages when the model or version is unknown.
        """
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

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Waits until ``predicate()`` (evaluated under the manager lock) holds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 0.5))
        return True

    def wait_until_available(self, timeout: float, names: Optional[Sequence[str]] = None) -> None:
        """Waits until each model has an AVAILABLE version.

        Raises:
            Unavailable: On timeout, naming the models and their last load errors.
        """
        names = list(names) if names is not None else self.model_names()

        def done(model: _Model) -> bool:
            # AVAILABLE, or every aspired version failed for good (TF Serving gives up too).
            return bool(model.available) or bool(model.aspired) and all(
                v in model.failed for v in model.aspired)

        if self.wait_for(lambda: all(done(self._models[n]) for n in names
                                     if n in self._models), timeout) and all(
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
                where = model.config.base_path
                detail = "; ".join(errors) if errors else (
                    f"no version directory found under {where}" if not model.statuses
                    else "still loading")
                problems.append(f"{name} ({detail})")
        raise Unavailable(f"No version became AVAILABLE within {timeout:g}s for: "
                          + ", ".join(problems))
