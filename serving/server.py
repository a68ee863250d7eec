"""Starts the local model server (REST + gRPC) inside the current process.

Example::

    from tfx_kfp.serving import server

    with server.start("penguin", "/models/penguin", rest_port=0, grpc_port=0) as handle:
        handle.wait_until_available(timeout=60)
        print(handle.rest_port, handle.grpc_port)

Both APIs run in background threads; ``stop()`` (or leaving the ``with``
block) shuts them down and unloads every model.
"""

import logging
from typing import Callable, List, Optional, Sequence, Union

from tfx_kfp.serving.manager import ModelManager
from tfx_kfp.serving.model_config import ModelConfig, load_model_config_file, single_model_config
from tfx_kfp.serving.servable import SessionOptions

__all__ = ["ServerHandle", "start", "start_from_config"]

log = logging.getLogger(__name__)


class ServerHandle:
    """A running server.

    Attributes:
        host: Bound address.
        rest_port: REST port (None when REST is off).
        grpc_port: gRPC port (None when gRPC is off).
        manager: The model manager (versions, status).
    """

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
        """Blocks until every configured model has an AVAILABLE version.

        Raises:
            tfx_kfp.serving.Unavailable: On timeout, with each model's load errors.
        """
        self.manager.wait_until_available(timeout)

    def stop(self, grace: float = 5.0) -> None:
        """Stops both APIs and unloads all models (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        if self._rest_server is not None:
            self._rest_server.stop()
        if self._grpc_server is not None:
            self._grpc_server.stop(grace).wait(grace + 1)
        self.manager.stop()

    def __enter__(self) -> "ServerHandle":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (f"ServerHandle(host={self.host!r}, rest_port={self.rest_port}, "
                f"grpc_port={self.grpc_port}, models={self.manager.model_names()})")


def _start(configs: Sequence[ModelConfig], *, rest_port: Optional[int], grpc_port: Optional[int],
           host: str, poll_seconds: float, max_num_load_retries: int,
           load_retry_interval_seconds: float, enable_warmup: bool, rest_api_timeout_ms: int,
           max_request_bytes: int, enable_cors: bool, saved_model_tags: Sequence[str],
           inter_op_threads: int, intra_op_threads: int, grpc_max_threads: int,
           on_event: Optional[Callable[[str], None]]) -> ServerHandle:
    from tfx_kfp.serving.grpc_service import create_grpc_server
    from tfx_kfp.serving.http_server import HttpServer
    from tfx_kfp.serving.rest_api import RestApi
    from tfx_kfp.serving.warmup import run_warmup

    manager = ModelManager(
        configs, poll_seconds=poll_seconds,
        session_options=SessionOptions(saved_model_tags, inter_op_threads, intra_op_threads),
        max_num_load_retries=max_num_load_retries,
        load_retry_interval_seconds=load_retry_interval_seconds,
        warmup=run_warmup if enable_warmup else None, on_event=on_event)
    rest_server = grpc_server = None
    bound_grpc_port = None
    try:
        if grpc_port is not None:
            grpc_server, bound_grpc_port = create_grpc_server(
                manager, host, grpc_port, max_workers=grpc_max_threads,
                max_message_bytes=max_request_bytes)
        if rest_port is not None:
            api = RestApi(manager, timeout_ms=rest_api_timeout_ms, enable_cors=enable_cors)

            def handler(method, path, body, origin):
                response = api.handle(method, path, body, origin)
                return response.status, response.headers, response.body

            rest_server = HttpServer(handler, host, rest_port, max_body_bytes=max_request_bytes)
    except BaseException:
        if grpc_server is not None:
            grpc_server.stop(0)
        raise
    manager.start()
    if grpc_server is not None:
        grpc_server.start()
    if rest_server is not None:
        rest_server.start()
    handle = ServerHandle(host, manager, rest_server, grpc_server, bound_grpc_port)
    log.info("Serving %s: REST on %s:%s, gRPC on %s:%s", manager.model_names(), host,
             handle.rest_port, host, handle.grpc_port)
    return handle


def start(model_name: str, model_base_path: str, *, rest_port: Optional[int] = 8501,
          grpc_port: Optional[int] = 8500, host: str = "127.0.0.1", poll_seconds: float = 1.0,
          max_num_load_retries: int = 5, load_retry_interval_seconds: float = 60.0,
          enable_warmup: bool = True, rest_api_timeout_ms: int = 30000,
          max_request_bytes: int = 64 << 20, enable_cors: bool = False,
          saved_model_tags: Sequence[str] = ("serve",), inter_op_threads: int = -1,
          intra_op_threads: int = 0, grpc_max_threads: int = 64,
          on_event: Optional[Callable[[str], None]] = None) -> ServerHandle:
    """Serves one model from ``model_base_path/<version>/`` over REST and gRPC.

    Args:
        model_name: Name clients use (``/v1/models/<model_name>``).
        model_base_path: Directory of numeric version subdirectories.
        rest_port: REST port; 0 picks a free port; None disables REST.
        grpc_port: gRPC port; 0 picks a free port; None disables gRPC.
        host: Address to bind; keep the loopback default unless you mean it.
        poll_seconds: Seconds between version-directory polls (<= 0: poll once).
        max_num_load_retries: Extra attempts for a version that fails to load.
        load_retry_interval_seconds: Wait between those attempts.
        enable_warmup: Replay ``assets.extra/tf_serving_warmup_requests``.
        rest_api_timeout_ms: Session run timeout for REST requests (0: none).
        max_request_bytes: Largest REST body / gRPC message accepted.
        enable_cors: Add CORS headers to REST responses.
        saved_model_tags: MetaGraphDef tags to load.
        inter_op_threads: TF inter-op threads; -1 runs ops in the request thread.
        intra_op_threads: TF intra-op threads; 0 lets TF choose.
        grpc_max_threads: gRPC worker threads.
        on_event: Callable receiving lifecycle messages (loads, unloads, errors).

    Returns:
        A ServerHandle; call ``wait_until_available`` before sending requests.
    """
    return _start(single_model_config(model_name, model_base_path), rest_port=rest_port,
                  grpc_port=grpc_port, host=host, poll_seconds=poll_seconds,
                  max_num_load_retries=max_num_load_retries,
                  load_retry_interval_seconds=load_retry_interval_seconds,
                  enable_warmup=enable_warmup, rest_api_timeout_ms=rest_api_timeout_ms,
                  max_request_bytes=max_request_bytes, enable_cors=enable_cors,
                  saved_model_tags=saved_model_tags, inter_op_threads=inter_op_threads,
                  intra_op_threads=intra_op_threads, grpc_max_threads=grpc_max_threads,
                  on_event=on_event)


def start_from_config(model_config: Union[str, Sequence[ModelConfig]], *,
                      rest_port: Optional[int] = 8501, grpc_port: Optional[int] = 8500,
                      host: str = "127.0.0.1", poll_seconds: float = 1.0,
                      **options) -> ServerHandle:
    """Serves the models of a ``ModelServerConfig`` file (or a list of ``ModelConfig``).

    Takes the same keyword options as :func:`start`.
    """
    configs: List[ModelConfig] = (load_model_config_file(model_config)
                                  if isinstance(model_config, str) else list(model_config))
    defaults = dict(max_num_load_retries=5, load_retry_interval_seconds=60.0,
                    enable_warmup=True, rest_api_timeout_ms=30000,
                    max_request_bytes=64 << 20, enable_cors=False, saved_model_tags=("serve",),
                    inter_op_threads=-1, intra_op_threads=0, grpc_max_threads=64, on_event=None)
    unknown = set(options) - set(defaults)
    if unknown:
        raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
    defaults.update(options)
    return _start(configs, rest_port=rest_port, grpc_port=grpc_port, host=host,
                  poll_seconds=poll_seconds, **defaults)
