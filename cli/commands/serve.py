"""``tfx-kfp serve``: serve SavedModels over TF Serving's REST and gRPC APIs.

Takes ``tensorflow_model_server``'s command line unchanged (every flag of TF
Serving 2.16; see docs/serving.md for which act here). Unlike TF Serving, the
default address is loopback; ``--host 0.0.0.0`` exposes it, and with it the gRPC
ModelService that lets anyone re-point or unload models (as in TF Serving).
"""

import argparse
import sys

NAME = "serve"
HELP = ("Serve SavedModels over TF Serving's REST (8501) and gRPC (8500) APIs; takes "
        "tensorflow_model_server's flags. WARNING: --host 0.0.0.0 lets anyone who reaches "
        "the gRPC port re-point or unload models, as with TF Serving.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds tensorflow_model_server's flags (parsed by the serving library)."""
    from tfx_kfp.serving.flags import add_arguments as add_model_server_flags

    add_model_server_flags(parser)


def _say(message: str) -> None:
    print(f"[serve] {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Starts the server and blocks until Ctrl-C / SIGTERM."""
    from tfx_kfp.serving.model_server import serve

    return serve(args, _say)
