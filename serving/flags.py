"""``tensorflow_model_server``'s command line (TF Serving 2.16.1 ``main.cc``) for ``tfx-kfp serve``.

Every flag is accepted (``--flag=value`` or ``--flag value``); those without effect here warn
why, unknown ones warn and are ignored, as ``tensorflow_model_server`` does. Defaults are TF
Serving's except ``--rest_api_port`` (8501) and the loopback address (``--host``).
"""

import argparse
import os
from typing import List, Tuple

__all__ = ["FLAGS", "add_arguments", "server_arguments", "warnings_for", "HOST_WARNING"]

_CPUS = os.cpu_count() or 1

DEFAULT_LOAD_TIMEOUT_SECONDS = 600.0  # TF Serving has no limit; a hung load would stall forever

HOST_WARNING = (
    "--host 0.0.0.0 exposes the gRPC ModelService: anyone who reaches the port can "
    "re-point or unload every model (HandleReloadConfigRequest), as with TF Serving, and "
    "send unbounded prediction load. Bind to loopback (the default) unless the network in "
    "front of the port is trusted.")

# (flag, type, default, None when implemented, else why it does nothing here)
FLAGS: List[Tuple[str, type, object, object]] = [
    ("port", int, 8500, None),
    ("grpc_socket_path", str, "", None),
    ("rest_api_port", int, 8501, None),
    ("rest_api_num_threads", int, 4 * _CPUS, None),
    ("rest_api_timeout_in_ms", int, 30000, None),
    ("rest_api_enable_cors_support", bool, False, None),
    ("enable_batching", bool, False, None),
    ("allow_version_labels_for_unavailable_models", bool, False, None),
    ("batching_parameters_file", str, "", None),
    ("enable_per_model_batching_parameters", bool, False,
     "per-model batching_params.pbtxt files are not read; --batching_parameters_file applies"),
    ("model_config_file", str, "", None),
    ("model_config_file_poll_wait_seconds", int, 0, None),
    ("model_name", str, "default", None),
    ("model_base_path", str, "", None),
    ("num_load_threads", int, 0, "versions load one at a time"),
    ("num_unload_threads", int, 0, "versions unload in their own threads"),
    ("max_num_load_retries", int, 5, None),
    ("load_retry_interval_micros", int, 60_000_000, None),
    ("file_system_poll_wait_seconds", int, 1, None),
    ("flush_filesystem_caches", bool, True, "no file system caches to flush"),
    ("tensorflow_session_parallelism", int, 0, "use the inter/intra-op flags"),
    ("tensorflow_session_config_file", str, "", "session config files are not read"),
    ("tensorflow_intra_op_parallelism", int, 0, None),
    ("tensorflow_inter_op_parallelism", int, 0, None),
    ("use_alts_credentials", bool, False, "no ALTS on a local server"),
    ("ssl_config_file", str, "", "no TLS: keep the server on loopback or behind a proxy"),
    ("platform_config_file", str, "", "only the tensorflow platform is served"),
    ("per_process_gpu_memory_fraction", float, 0.0, "CPU serving"),
    ("saved_model_tags", str, "serve", None),
    ("grpc_channel_arguments", str, "", "gRPC server arguments are fixed"),
    ("grpc_max_threads", int, 4 * _CPUS, None),
    ("enable_model_warmup", bool, True, None),
    ("num_request_iterations_for_warmup", int, 0, "each warmup record is replayed once"),
    ("version", bool, False, None),
    ("monitoring_config_file", str, "", None),
    ("remove_unused_fields_from_bundle_metagraph", bool, True, "metagraphs are kept whole"),
    ("prefer_tflite_model", bool, False, "TFLite models are not served"),
    ("num_tflite_pools", int, _CPUS, "TFLite models are not served"),
    ("num_tflite_interpreters_per_pool", int, 1, "TFLite models are not served"),
    ("enable_signature_method_name_check", bool, False,
     "signature method names are not checked (TF Serving's default)"),
    ("xla_cpu_compilation_enabled", bool, False, "TensorFlow's own XLA setting applies"),
    ("enable_profiler", bool, True, "no profiler service"),
    ("thread_pool_factory_config_file", str, "", "no custom thread pools"),
    ("mixed_precision", str, "", "no mixed-precision rewriting"),
    ("skip_initialize_tpu", bool, False, "no TPUs"),
    ("enable_grpc_healthcheck_service", bool, False,
     "the gRPC health service is always on here"),
]


def _bool(text: str) -> bool:
    """TF's command_line_flags.cc accepts true/false/1/0."""
    value = {"1": True, "true": True, "0": False, "false": False}.get(text.strip().lower())
    if value is None:
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return value


class _LenientParser(argparse.ArgumentParser):
    """Keeps unknown arguments instead of failing, as tensorflow_model_server does."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, unknown = super().parse_known_args(args, namespace)
        namespace.unknown_arguments = list(getattr(namespace, "unknown_arguments", [])) + unknown
        return namespace, []


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds every tensorflow_model_server flag plus this server's own to ``parser``."""
    # Scoped to this sub-command's parser, so unknown flags warn instead of failing.
    parser.__class__ = _LenientParser
    parser.set_defaults(unknown_arguments=[])
    tf_flags = parser.add_argument_group(
        "tensorflow_model_server flags", "TF Serving 2.16.1's flags; see docs/serving.md for "
        "which ones act here")
    for name, kind, default, ignored in FLAGS:
        help_text = f"(default {default!r})" + (f"; accepted, no effect: {ignored}"
                                                 if ignored else "")
        if kind is bool:
            tf_flags.add_argument(f"--{name}", type=_bool, nargs="?", const=True,
                                  default=default, metavar="true|false", help=help_text)
        else:
            tf_flags.add_argument(f"--{name}", type=kind, default=default, help=help_text)
    local = parser.add_argument_group("this server's own flags")
    local.add_argument("--host", default="127.0.0.1",
                       help="Address to bind (default loopback only). WARNING: " + HOST_WARNING)
    local.add_argument("--rest_api_header_timeout_seconds", type=float, default=10.0,
                       help="Seconds a client may take to send a request's headers.")
    local.add_argument("--rest_api_body_timeout_seconds", type=float, default=60.0,
                       help="Seconds a client may take to send a request's body.")
    local.add_argument("--rest_api_body_memory_bytes", type=int, default=1 << 30,
                       help="Request-body bytes held in memory over all REST requests.")
    local.add_argument("--rest_api_max_connections", type=int, default=1000,
                       help="Open REST connections kept before idle or stalled ones are shed.")
    local.add_argument("--model_load_timeout_seconds", type=float,
                       default=DEFAULT_LOAD_TIMEOUT_SECONDS,
                       help="A version whose load and warmup take longer fails (its status says "
                            "so) and the serving versions stay; 0: no limit (TF Serving).")


def warnings_for(args: argparse.Namespace) -> List[str]:
    """Warnings for unknown arguments and for flags set to something that does nothing here."""
    lines = [f"unknown argument: {arg} (ignored, as tensorflow_model_server does)"
             for arg in args.unknown_arguments]
    for name, _, default, ignored in FLAGS:
        if ignored and getattr(args, name) != default:
            lines.append(f"--{name} is accepted but has no effect here: {ignored}")
    return lines


def server_arguments(args: argparse.Namespace):
    """(model configs, rest port or None, grpc port, host, ``ServerOptions`` fields) from the
    parsed flags; InvalidArgument naming the file for a bad model/batching/monitoring config."""
    from tfx_kfp.serving.models.batching import BatchingOptions, batching_options_from_proto
    from tfx_kfp.serving.models.config import (
        load_model_config_file, parse_batching_parameters, parse_monitoring_config,
        single_model_config,
    )
    from tfx_kfp.serving.protocol.errors import InvalidArgument
    from tfx_kfp.serving.transport.metrics import DEFAULT_PATH
    from tfx_kfp.serving.transport.rest_limits import RestLimits

    if args.model_config_file:
        configs = load_model_config_file(args.model_config_file)
    elif args.model_base_path:
        # A relative --model_base_path is resolved here for convenience (TF Serving rejects
        # it); config files and reloads keep TF Serving's absolute-path rule.
        base = args.model_base_path
        configs = single_model_config(args.model_name,
                                      base if "://" in base else os.path.abspath(base))
    else:
        raise InvalidArgument("pass --model_base_path (with --model_name) or --model_config_file")
    batching = None
    if args.enable_batching:
        batching = (batching_options_from_proto(parse_batching_parameters(
            args.batching_parameters_file)) if args.batching_parameters_file
            else BatchingOptions())
    metrics_path = ""
    if args.monitoring_config_file:
        prometheus = parse_monitoring_config(args.monitoring_config_file).prometheus_config
        if prometheus.enable:
            metrics_path = prometheus.path or DEFAULT_PATH
    options = dict(
        poll_seconds=args.file_system_poll_wait_seconds,
        max_num_load_retries=args.max_num_load_retries,
        load_retry_interval_seconds=args.load_retry_interval_micros / 1e6,
        enable_warmup=args.enable_model_warmup,
        rest_api_timeout_ms=args.rest_api_timeout_in_ms,
        rest_api_num_threads=args.rest_api_num_threads,
        enable_cors=args.rest_api_enable_cors_support,
        saved_model_tags=[t for t in args.saved_model_tags.split(",") if t],
        inter_op_threads=args.tensorflow_inter_op_parallelism or -1,
        intra_op_threads=args.tensorflow_intra_op_parallelism,
        grpc_max_threads=args.grpc_max_threads, grpc_socket_path=args.grpc_socket_path,
        batching=batching, metrics_path=metrics_path,
        allow_unavailable_labels=args.allow_version_labels_for_unavailable_models,
        load_timeout_seconds=args.model_load_timeout_seconds,
        rest_limits=RestLimits(args.rest_api_header_timeout_seconds,
                               args.rest_api_body_timeout_seconds,
                               args.rest_api_body_memory_bytes, args.rest_api_max_connections))
    rest_port = args.rest_api_port if args.rest_api_port > 0 else None
    return configs, rest_port, args.port, args.host, options
