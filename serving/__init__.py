"""TF Serving-compatible local model server (:mod:`tfx_kfp.serving.server`) and a REST/gRPC
client (``ServingClient``); both raise the exceptions of :mod:`tfx_kfp.serving.protocol.errors`,
exported here. Importing this package (or the client) does not import TensorFlow.
"""

from tfx_kfp.serving.client import ServingClient
from tfx_kfp.serving.protocol import errors as _errors
from tfx_kfp.serving.protocol.errors import *  # noqa: F401,F403 - the exception classes

__all__ = ["ServingClient"] + [n for n in _errors.__all__ if not n.startswith("error_for_")]
