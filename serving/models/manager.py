"""Model lifecycle as TF Serving's file-system source and ``AspiredVersionsManager``: each poll
lists the base paths, the policy picks the aspired versions; the highest new one is loaded
(retries, a time limit), warmed up, then served; an unaspired version is unloaded once an
aspired one serves (never zero versions during a push). Failed versions end in END.
"""

import contextlib
import logging
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence

from tfx_kfp.serving.models import storage
from tfx_kfp.serving.models.batching import VersionBatches
from tfx_kfp.serving.protocol.errors import DeadlineExceeded
from tfx_kfp.serving.models.config import ModelConfig, configs_from_proto
from tfx_kfp.serving.models.registry import (
    AVAILABLE,
    END,
    LOADING,
    START,
    UNLOADING,
    ModelRegistry,
    VersionStatus,
    _Model,
)
from tfx_kfp.serving.models.servable import (
    LoadedVersion, SessionOptions, load_version, load_within_limit,
)

__all__ = ["ModelManager", "VersionStatus", "START", "LOADING", "AVAILABLE", "UNLOADING", "END"]

log = logging.getLogger(__name__)


class ModelManager(ModelRegistry):
    """Keeps the configured models' versions loaded (settings as ``ServerOptions``; ``warmup``
    replays a version's warmup requests, ``batching`` is a ``BatchingOptions`` or None)."""

    def __init__(self, configs: Sequence[ModelConfig], poll_seconds: float = 1.0,
                 session_options: Optional[SessionOptions] = None,
                 max_num_load_retries: int = 5, load_retry_interval_seconds: float = 60.0,
                 warmup: Optional[Callable[[LoadedVersion], None]] = None,
                 on_event: Optional[Callable[[str], None]] = None, batching=None,
                 allow_unavailable_labels: bool = False, load_timeout_seconds: float = 0.0):
        for config in configs:
            storage.check_base_path(config.name, config.base_path)
        super().__init__(configs, allow_unavailable_labels)
        self._batching = batching
        self._poll_seconds = poll_seconds
        self._session_options = session_options or SessionOptions()
        self._max_retries = max(0, int(max_num_load_retries))
        self._retry_interval = max(0.0, float(load_retry_interval_seconds))
        self._warmup = warmup
        self._on_event = on_event
        self._load_timeout = float(load_timeout_seconds)
        self._reload_lock = threading.Lock()  # ServerCore's config_mu_: one reload at a time
        self._stop = threading.Event()
        self._poll_now = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._unload_threads: List[threading.Thread] = []

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
        self.stop_waiting()
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

    def reload_config(self, config, timeout: float) -> None:
        """``ServerCore::ReloadConfig``: a refused config changes nothing; then waits until
        every new model is AVAILABLE (``WaitUntilModelsAvailable``, its errors)."""
        with self._reload_lock:
            current = self.current_configs() or None
            configs = configs_from_proto(config, current, check_labels=self.check_labels)
            if configs is None:
                return
            for model_config in configs:
                storage.check_base_path(model_config.name, model_config.base_path)
            new_names = self.replace_configs(configs)
            self.poll_now()
            if new_names:
                self.wait_for_new_models(new_names, timeout)

    def _poll_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # noqa: BLE001 - the poller must survive anything
                log.exception("model poll failed")
            self._poll_now.wait(self._poll_seconds if self._poll_seconds > 0 else None)
            self._poll_now.clear()

    def _event(self, message: str) -> None:
        log.info("%s", message)
        if self._on_event is not None:
            with contextlib.suppress(Exception):  # progress output must not break serving
                self._on_event(message)

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
            if not found and not model.statuses and not model.warned_empty:
                model.warned_empty = True  # TF Serving's message, once per model
                self._event(f"No versions of servable {name} found under base path "
                            f"{model.config.base_path}")
            if found is None:
                continue
            aspired_numbers = model.config.policy.select(list(found))
            self._reconcile(model, {v: found[v] for v in aspired_numbers})
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
            step, number = action
            step(model, number)

    def _next_action(self, model: _Model):
        with self._lock:
            aspired = model.aspired
            has_aspired = bool(aspired)
            has_aspired_serving = any(v in model.available for v in aspired)
            unaspired_serving = sorted(v for v in model.available if v not in aspired)
            if unaspired_serving and (not has_aspired or has_aspired_serving
                                      or len(unaspired_serving) > 1):
                return self._unload, unaspired_serving[0]
            new = [v for v in aspired if model.statuses.get(v) is not None
                   and model.statuses[v].state == START]
            if new:
                return self._load, max(new)
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
            version, failure = load_within_limit(
                lambda: self._load_and_warm_up(name, number, path), f"{name} version {number}",
                self._load_timeout, self._stop)
            if self._stop.is_set():
                if version is not None:
                    version.close()
                return
            if failure is None:
                with self._lock:
                    model.available = {**model.available, number: version}
                    model.statuses[number] = VersionStatus(number, AVAILABLE)
                    self._changed.notify_all()
                self._event(f"{name} version {number} is AVAILABLE "
                            f"(loaded in {time.monotonic() - started:.1f}s)")
                return
            still_aspired = storage.is_dir(path)
            if (attempt >= self._max_retries or not still_aspired
                    or isinstance(failure, DeadlineExceeded)):
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

    def _load_and_warm_up(self, name: str, number: int, path: str) -> LoadedVersion:
        version = load_version(name, number, path, self._session_options)
        try:
            if self._batching is not None:
                version.batch_queue = VersionBatches(self._batching, version)
            if self._warmup is not None:
                self._warmup(version)
        except BaseException:
            version.close()
            raise
        return version

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
