"""TF Serving-compatible local model server and a REST/gRPC client.

* :mod:`tfx_kfp.serving.server` -- ``start(...)``: serve SavedModels over TF
  Serving's REST (8501) and gRPC (8500) APIs from this process.
* :mod:`tfx_kfp.serving.client` -- ``ServingClient``: one API over REST and
  gRPC, against our server or ``tensorflow/serving``.
* The exceptions below, raised by both, carry ``http_status`` and ``grpc_code``.

Importing this package (or the client) does not import TensorFlow.
"""

from tfx_kfp.serving.protocol.errors import (
    Aborted,
    AlreadyExists,
    Cancelled,
    DataLoss,
    DeadlineExceeded,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    NotFound,
    OutOfRange,
    PermissionDenied,
    RequestTooLarge,
    ResourceExhausted,
    ServingError,
    Unauthenticated,
    Unavailable,
    Unimplemented,
    Unknown,
)

from tfx_kfp.serving.protocol import errors as _errors

# The client, plus every exception class (not the errors module's lookup helpers).
__all__ = ["ServingClient"] + [name for name in _errors.__all__ if not name.startswith("error_for_")]


def __getattr__(name):
    if name == "ServingClient":
        from tfx_kfp.serving.client import ServingClient

        return ServingClient
    raise AttributeError(f"module 'tfx_kfp.serving' has no attribute {name!r}")
