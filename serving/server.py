"""Starts the local model server (REST + gRPC) in background threads of this process::

    with server.start("penguin", "/models/penguin", rest_port=0, grpc_port=0) as handle:
        handle.wait_until_available(timeout=60)
"""

import logging
import os
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence, Union

from tfx_kfp.serving.flags import DEFAULT_LOAD_TIMEOUT_SECONDS
from tfx_kfp.serving.models.manager import ModelManager
from tfx_kfp.serving.models.config import ModelConfig, load_model_config_file, single_model_config
from tfx_kfp.serving.transport.rest_limits import RestLimits
from tfx_kfp.serving.models.servable import SessionOptions

__all__ = ["ServerHandle", "ServerOptions", "start", "start_from_config"]

log = logging.getLogger(__name__)


@dataclass
class ServerOptions:
    """Server settings, each mapped from its ``tensorflow_model_server`` flag by
    :func:`tfx_kfp.serving.flags.server_arguments`, plus ``rest_limits``, ``on_event`` (progress
    lines) and ``wait_for_models`` (seconds the ports wait for every first load; None: none)."""

    poll_seconds: float = 1.0
    max_num_load_retries: int = 5
    load_retry_interval_seconds: float = 60.0
    enable_warmup: bool = True
    rest_api_timeout_ms: int = 30000
    rest_api_num_threads: int = 4 * (os.cpu_count() or 1)
    enable_cors: bool = False
    saved_model_tags: Sequence[str] = ("serve",)
    inter_op_threads: int = -1
    intra_op_threads: int = 0
    grpc_max_threads: int = 4 * (os.cpu_count() or 1)
    grpc_socket_path: str = ""
    batching: Optional[object] = None
    metrics_path: str = ""
    allow_unavailable_labels: bool = False
    load_timeout_seconds: float = DEFAULT_LOAD_TIMEOUT_SECONDS
    rest_limits: RestLimits = field(default_factory=RestLimits)
    wait_for_models: Optional[float] = None
    on_event: Optional[Callable[[str], None]] = None


class ServerHandle:
    """A running server: ``host``, ``rest_port``/``grpc_port`` (None when off), ``manager``."""

    def __init__(self, host: str, manager: ModelManager, rest_server, grpc_server,
                 grpc_port: Optional[int]):
        self.host = host
        self.manager = manager
        self._rest_server = rest_server
        self._grpc_server = grpc_server
        self.rest_port: Optional[int] = rest_server.port if rest_server is not None else None
        self.grpc_port = grpc_port
        self._stopped = False

    def wait_until_available(self, timeout: float) -> None:
        """Blocks until every model has an AVAILABLE version; raises ``Unavailable`` if not."""
        self.manager.wait_until_available(timeout)

    def stop(self, grace: float = 5.0) -> None:
        """Stops both APIs and unloads all models (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self.manager.stop_waiting()  # a reload waiting for a model must not hold the grace
        if self._rest_server is not None:
            self._rest_server.stop()
        if self._grpc_server is not None:
            self._grpc_server.stop(grace).wait(grace + 1)
        self.manager.stop()

    def __enter__(self) -> "ServerHandle":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _start(configs: Sequence[ModelConfig], rest_port: Optional[int], grpc_port: Optional[int],
           host: str, options: ServerOptions) -> ServerHandle:
    # Import TensorFlow here, before the poller thread imports it too: two threads
    # importing it at once deadlock on its module locks.
    import tensorflow  # noqa: F401
    from tensorflow_serving.apis import prediction_service_pb2_grpc  # noqa: F401

    from tfx_kfp.serving.transport.grpc_service import create_grpc_server
    from tfx_kfp.serving.transport.metrics import Metrics
    from tfx_kfp.serving.transport.rest_api import RestApi
    from tfx_kfp.serving.transport.rest_app import RestServer
    from tfx_kfp.serving.models.warmup import run_warmup

    manager = ModelManager(
        configs, poll_seconds=options.poll_seconds,
        session_options=SessionOptions(options.saved_model_tags, options.inter_op_threads,
                                       options.intra_op_threads),
        max_num_load_retries=options.max_num_load_retries,
        load_retry_interval_seconds=options.load_retry_interval_seconds,
        warmup=run_warmup if options.enable_warmup else None, on_event=options.on_event,
        batching=options.batching,
        allow_unavailable_labels=options.allow_unavailable_labels,
        load_timeout_seconds=options.load_timeout_seconds)
    metrics = Metrics()
    if options.wait_for_models is not None:
        manager.check_labels(configs)  # TF Serving checks labels before any load
    manager.start()
    rest_server = grpc_server = bound_grpc_port = None
    try:
        if options.wait_for_models is not None:
            manager.wait_until_available(options.wait_for_models)
        if grpc_port is not None:
            grpc_server, bound_grpc_port = create_grpc_server(
                manager, host, grpc_port, max_workers=options.grpc_max_threads,
                socket_path=options.grpc_socket_path, metrics=metrics)
        if rest_port is not None:
            api = RestApi(manager, timeout_ms=options.rest_api_timeout_ms,
                          enable_cors=options.enable_cors, metrics=metrics,
                          metrics_path=options.metrics_path)
            rest_server = RestServer(api, host, rest_port, options.rest_api_num_threads,
                                     options.rest_limits,
                                     inline_when_idle=options.batching is None)
        if grpc_server is not None:
            grpc_server.start()
        if rest_server is not None:
            rest_server.start()
    except BaseException:
        if grpc_server is not None:
            grpc_server.stop(0)
        manager.stop()
        raise
    handle = ServerHandle(host, manager, rest_server, grpc_server, bound_grpc_port)
    log.info("Serving %s: REST on %s:%s, gRPC on %s:%s", manager.model_names(), host,
             handle.rest_port, host, handle.grpc_port)
    return handle


def start(model_name: str, model_base_path: str, *, rest_port: Optional[int] = 8501,
          grpc_port: Optional[int] = 8500, host: str = "127.0.0.1",
          **options) -> ServerHandle:
    """Serves one model from ``model_base_path/<version>/``. Ports: 0 picks one, None turns the
    API off; keep ``host`` on loopback unless the network is trusted (anyone reaching the gRPC
    port can re-point or unload models, as with TF Serving)."""
    if "://" not in model_base_path:
        model_base_path = os.path.abspath(model_base_path)
    return _start(single_model_config(model_name, model_base_path), rest_port, grpc_port, host,
                  ServerOptions(**options))


def start_from_config(model_config: Union[str, Sequence[ModelConfig]], *,
                      rest_port: Optional[int] = 8501, grpc_port: Optional[int] = 8500,
                      host: str = "127.0.0.1", **options) -> ServerHandle:
    """Serves the models of a ``ModelServerConfig`` file (or ``ModelConfig`` list), as ``start``."""
    configs: List[ModelConfig] = (load_model_config_file(model_config)
                                  if isinstance(model_config, str) else list(model_config))
    return _start(configs, rest_port, grpc_port, host, ServerOptions(**options))
