"""``tfx-kfp serve``: the server from tensorflow_model_server's command line. As TF Serving, the
ports open once every first load finished (a failed one exits 1), and with
``--model_config_file_poll_wait_seconds`` the config file is re-applied like a reload.
"""

import argparse
import gc
import os
import signal
import sys
import threading
import time
from typing import Callable

from tfx_kfp.serving.flags import HOST_WARNING, server_arguments, warnings_for

__all__ = ["serve"]

_FIRST_LOAD_TIMEOUT = 24 * 3600.0  # TF Serving waits without a bound


def _watch_config(path: str, interval: float, applied: bytes, handle, stop: threading.Event,
                  say: Callable[[str], None]) -> None:
    """``PollFilesystemAndReloadConfig``: re-reads the file every ``interval``, comparing first
    with ``applied``, the bytes the server started from (an edit made meanwhile applies too)."""
    from tfx_kfp.serving.models.config import read_model_config_file
    from tfx_kfp.serving.protocol.errors import ServingError

    last = applied
    while not stop.is_set():
        try:
            with open(path, "rb") as config_file:
                content = config_file.read()
            if content != last:
                last = content
                handle.manager.reload_config(read_model_config_file(path), _FIRST_LOAD_TIMEOUT)
                say(f"reloaded {path}")
        except (OSError, ServingError) as error:
            if not stop.is_set():
                say(f"cannot apply {path}: {error}")
        stop.wait(interval)


def serve(args: argparse.Namespace, say: Callable[[str], None]) -> int:
    """Starts the server from flags parsed as ``flags.add_arguments`` sets up, blocks until
    SIGINT/SIGTERM, and returns the exit status; ``say`` prints a progress line."""
    from tfx_kfp.serving.protocol.errors import ServingError, Unavailable

    if args.version:
        from tfx_kfp import __version__

        print(f"TensorFlow ModelServer: tfx-kfp {__version__} (TF Serving 2.16 compatible)")
        return 0
    for line in warnings_for(args):
        say(f"WARNING: {line}")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        say(f"WARNING: {HOST_WARNING}")
    config_bytes = b""
    if args.model_config_file:
        try:
            with open(args.model_config_file, "rb") as config_file:
                config_bytes = config_file.read()  # what the startup config is read from
        except OSError:
            pass  # server_arguments reports it
    try:
        configs, rest_port, grpc_port, host, options = server_arguments(args)
    except ServingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for config in configs:
        say(f"model {config.name}: {config.base_path} ({config.policy.kind} versions)")
    say("loading TensorFlow...")
    started = time.monotonic()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    from tfx_kfp.serving import server

    try:
        handle = server.start_from_config(configs, rest_port=rest_port, grpc_port=grpc_port,
                                          host=host, wait_for_models=_FIRST_LOAD_TIMEOUT,
                                          on_event=say, **options)
    except ServingError as error:
        what = ("the first load failed" if isinstance(error, Unavailable)
                else "the model config was refused")
        print(f"error: {what}, exiting (as tensorflow_model_server does): {error}",
              file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: cannot start the server: {error}", file=sys.stderr)
        return 1

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    if args.model_config_file and args.model_config_file_poll_wait_seconds > 0:
        threading.Thread(target=_watch_config, daemon=True, args=(
            args.model_config_file, args.model_config_file_poll_wait_seconds, config_bytes,
            handle, stop, say)).start()
    rest = f"http://{host}:{handle.rest_port}"
    endpoints = [handle.rest_port is not None and f"REST {rest}/v1/models/<name>",
                 f"gRPC {host}:{handle.grpc_port}",
                 args.grpc_socket_path and f"gRPC unix:{args.grpc_socket_path}",
                 options["metrics_path"] and f"metrics {rest}{options['metrics_path']}"]
    say("listening: " + ", ".join(e for e in endpoints if e) + " (Ctrl-C to stop)")
    try:
        while not stop.wait(0.5):
            pass
        served = ", ".join(
            f"{name} {handle.manager.available_versions(name) or 'no version'}"
            for name in handle.manager.model_names())
    finally:
        handle.stop()
    print(f"serve: stopped after {time.monotonic() - started:.0f}s; was serving {served}")
    # The interpreter's last garbage collections walk TensorFlow's object graph for seconds
    # (4.5 s measured on a busy machine); the process is ending, so exempt what exists now.
    gc.freeze()
    return 0
