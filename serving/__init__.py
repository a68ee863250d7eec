"""TF Serving-compatible local model server and a REST/gRPC client.

* :mod:`tfx_kfp.serving.server` -- ``start(...)``: serve SavedModels over TF
  Serving's REST (8501) and gRPC (8500) APIs from this process.
* :mod:`tfx_kfp.serving.client` -- ``ServingClient``: one API over REST and
  gRPC, against our server or ``tensorflow/serving``.
* The exceptions of :mod:`tfx_kfp.serving.protocol.errors`, raised by both.

Importing this package (or the client) does not import TensorFlow.
"""

from tfx_kfp.serving.protocol import errors as _errors
from tfx_kfp.serving.protocol.errors import *  # noqa: F401,F403 - the exception classes

__all__ = ["ServingClient"] + [name for name in _errors.__all__ if not name.startswith("error_for_")]


def __getattr__(name):
    if name == "ServingClient":
        from tfx_kfp.serving.client import ServingClient

        return ServingClient
    raise AttributeError(f"module 'tfx_kfp.serving' has no attribute {name!r}")
