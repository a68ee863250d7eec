"""``tfx-kfp serve``: serve SavedModels over TF Serving's REST and gRPC APIs.

Flags follow ``tensorflow_model_server`` (``--model_name``, ``--model_base_path``,
``--model_config_file``, ``--port``, ``--rest_api_port``,
``--file_system_poll_wait_seconds``...), so commands and manifests carry over.
Unlike TF Serving, the default address is loopback (``--host 0.0.0.0`` to
expose it).
"""

import argparse
import os
import signal
import sys
import threading
import time

NAME = "serve"
HELP = "Serve SavedModels over TF Serving's REST (8501) and gRPC (8500) APIs."


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the serve flags (TF Serving's names)."""
    models = parser.add_argument_group("models")
    models.add_argument("--model_name", default="default",
                        help="Name of the model served from --model_base_path.")
    models.add_argument("--model_base_path", default="",
                        help="Directory with numeric version subdirectories (<base>/<version>/).")
    models.add_argument("--model_config_file", default="",
                        help="Text ModelServerConfig listing several models (overrides "
                             "--model_name/--model_base_path).")
    models.add_argument("--model_config_file_poll_wait_seconds", type=float, default=0,
                        help="Re-read --model_config_file this often (0: never).")
    models.add_argument("--file_system_poll_wait_seconds", type=float, default=1.0,
                        help="Seconds between polls for new or removed versions (<= 0: once).")
    models.add_argument("--max_num_load_retries", type=int, default=5,
                        help="Extra attempts for a version that fails to load.")
    models.add_argument("--load_retry_interval_micros", type=int, default=60_000_000,
                        help="Microseconds between load attempts.")
    models.add_argument("--enable_model_warmup", type=_bool, nargs="?", const=True, default=True,
                        help="Replay assets.extra/tf_serving_warmup_requests before serving.")
    models.add_argument("--saved_model_tags", default="serve",
                        help="Comma-separated MetaGraphDef tags to load.")
    network = parser.add_argument_group("network")
    network.add_argument("--host", default="127.0.0.1",
                         help="Address to bind (default loopback only).")
    network.add_argument("--port", type=int, default=8500, help="gRPC port (0: pick a free one).")
    network.add_argument("--rest_api_port", type=int, default=8501,
                         help="REST port (0: pick a free one; -1: no REST API).")
    network.add_argument("--rest_api_timeout_in_ms", type=int, default=30000,
                         help="Session run timeout for REST requests (0: none).")
    network.add_argument("--max_request_bytes", type=int, default=64 << 20,
                         help="Largest REST body or gRPC message accepted.")
    network.add_argument("--enable_cors_support", type=_bool, nargs="?", const=True,
                         default=False, help="Add CORS headers to REST responses.")
    network.add_argument("--grpc_max_threads", type=int, default=64,
                         help="gRPC worker threads.")
    tuning = parser.add_argument_group("tensorflow")
    tuning.add_argument("--tensorflow_inter_op_parallelism", type=int, default=-1,
                        help="Inter-op threads per model (-1: run ops in the request thread).")
    tuning.add_argument("--tensorflow_intra_op_parallelism", type=int, default=0,
                        help="Intra-op threads (0: TensorFlow chooses).")


def _say(message: str) -> None:
    print(f"[serve] {message}", file=sys.stderr, flush=True)


def _watch_config(path: str, interval: float, handle, stop: threading.Event) -> None:
    from tfx_kfp.serving.errors import ServingError
    from tfx_kfp.serving.model_config import load_model_config_file

    last = os.path.getmtime(path)
    while not stop.wait(interval):
        try:
            mtime = os.path.getmtime(path)
            if mtime != last:
                last = mtime
                handle.manager.reconfigure(load_model_config_file(path))
                _say(f"reloaded {path}")
        except (OSError, ServingError) as error:
            _say(f"cannot reload {path}: {error}")


def run(args: argparse.Namespace) -> int:
    """Starts the server and blocks until Ctrl-C / SIGTERM."""
    from tfx_kfp.serving.errors import ServingError
    from tfx_kfp.serving.model_config import load_model_config_file, single_model_config

    try:
        if args.model_config_file:
            configs = load_model_config_file(args.model_config_file)
        else:
            if not args.model_base_path:
                print("error: pass --model_base_path (with --model_name) or --model_config_file",
                      file=sys.stderr)
                return 2
            configs = single_model_config(args.model_name, args.model_base_path)
    except ServingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    for config in configs:
        _say(f"model {config.name}: {config.base_path} ({config.policy.kind} versions)")
    _say("loading TensorFlow...")
    started = time.monotonic()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    from tfx_kfp.serving import server

    try:
        handle = server.start_from_config(
            configs, rest_port=None if args.rest_api_port < 0 else args.rest_api_port,
            grpc_port=args.port, host=args.host, poll_seconds=args.file_system_poll_wait_seconds,
            max_num_load_retries=args.max_num_load_retries,
            load_retry_interval_seconds=args.load_retry_interval_micros / 1e6,
            enable_warmup=args.enable_model_warmup,
            rest_api_timeout_ms=args.rest_api_timeout_in_ms,
            max_request_bytes=args.max_request_bytes, enable_cors=args.enable_cors_support,
            saved_model_tags=[t for t in args.saved_model_tags.split(",") if t],
            inter_op_threads=args.tensorflow_inter_op_parallelism,
            intra_op_threads=args.tensorflow_intra_op_parallelism,
            grpc_max_threads=args.grpc_max_threads, on_event=_say)
    except OSError as error:
        print(f"error: cannot start the server: {error}", file=sys.stderr)
        return 1

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    if args.model_config_file and args.model_config_file_poll_wait_seconds > 0:
        threading.Thread(target=_watch_config, daemon=True, args=(
            args.model_config_file, args.model_config_file_poll_wait_seconds, handle, stop)).start()
    endpoints = []
    if handle.rest_port is not None:
        endpoints.append(f"REST http://{args.host}:{handle.rest_port}/v1/models/<name>")
    endpoints.append(f"gRPC {args.host}:{handle.grpc_port}")
    _say("listening: " + ", ".join(endpoints) + " (Ctrl-C to stop)")
    try:
        while not stop.wait(0.5):
            pass
        served = ", ".join(
            f"{name} {handle.manager.available_versions(name) or 'no version'}"
            for name in handle.manager.model_names())
    finally:
        handle.stop()
    print(f"serve: stopped after {time.monotonic() - started:.0f}s; was serving {served}")
    return 0
