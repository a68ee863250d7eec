"""``tfx-kfp predict``: call a served model once over REST or gRPC and print the response."""

import argparse
import json
import sys
import time

NAME = "predict"
HELP = "Call a served model's Predict API (REST or gRPC) and print the response."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the predict flags."""
    # The same names as `tfx-kfp serve` (TF Serving's own flags); the short ones stay as aliases.
    parser.add_argument("--model_name", "--model", dest="model", required=True, help="Model name, e.g. penguin.")
    protocol = parser.add_mutually_exclusive_group()
    protocol.add_argument("--rest", dest="protocol", action="store_const", const="rest",
                          help="Use the REST API (default).")
    protocol.add_argument("--grpc", dest="protocol", action="store_const", const="grpc",
                          help="Use the gRPC API.")
    parser.set_defaults(protocol="rest")
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument("--instances",
                      help="Row-format JSON list (or @file.json), e.g. '[1.0, 2.0]'.")
    data.add_argument("--inputs", help="Columnar-format JSON (or @file.json).")
    parser.add_argument("--signature_name", default="", help="Signature (default serving_default).")
    version = parser.add_mutually_exclusive_group()
    version.add_argument("--version", type=int, help="Call this model version.")
    version.add_argument("--label", help="Call the version with this label.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--rest_api_port", "--rest_port", dest="rest_port", type=int, default=8501,
                        help="REST port (serve's --rest_api_port).")
    parser.add_argument("--port", "--grpc_port", dest="grpc_port", type=int, default=8500,
                        help="gRPC port (serve's --port).")
    parser.add_argument("--timeout", type=float, default=10.0, help="Seconds per attempt.")


def _load_json(text: str, flag: str):
    if text.startswith("@"):
        with open(text[1:], "r", encoding="utf-8") as handle:
            text = handle.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{flag} is not valid JSON ({error}); got: {text[:80]!r}") from None


def run(args: argparse.Namespace) -> int:
    """Sends one Predict request and prints the JSON response."""
    from tfx_kfp.serving.client import ServingClient
    from tfx_kfp.serving.protocol.errors import ServingError

    try:
        instances = _load_json(args.instances, "--instances") if args.instances else None
        inputs = _load_json(args.inputs, "--inputs") if args.inputs else None
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    where = f"{args.host}:{args.rest_port if args.protocol == 'rest' else args.grpc_port}"
    started = time.perf_counter()
    try:
        with ServingClient(args.host, rest_port=args.rest_port, grpc_port=args.grpc_port,
                           protocol=args.protocol, timeout=args.timeout) as client:
            response = client.predict(args.model, instances=instances, inputs=inputs,
                                      signature_name=args.signature_name or None,
                                      version=args.version, version_label=args.label)
    except ServingError as error:
        print(f"predict: {args.model} over {args.protocol.upper()} at {where} failed: "
              f"{error.grpc_code} (HTTP {error.http_status}): {error}", file=sys.stderr)
        return 1
    print(json.dumps(response, indent=2))
    elapsed_ms = (time.perf_counter() - started) * 1000
    key = "predictions" if "predictions" in response else "outputs"
    count = len(response[key]) if isinstance(response.get(key), list) else 1
    print(f"predict: {args.model} over {args.protocol.upper()} at {where}: {count} "
          f"{key} in {elapsed_ms:.1f} ms", file=sys.stderr)
    return 0
