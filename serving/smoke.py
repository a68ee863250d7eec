"""Serve a pushed model briefly and predict once over each protocol (``tfx-kfp demo``):
``serve_and_call("penguin", "/path/to/pushed/penguin").summary``. Without instances, one row
is built from the serving signature (0.5 for floats: penguin's features are scaled to [0, 1]).
"""

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from tfx_kfp.serving.protocol.errors import InvalidArgument, Unknown

__all__ = ["SmokeResult", "serve_and_call", "default_instances"]

_NEUTRAL_VALUES = {"DT_FLOAT": 0.5, "DT_DOUBLE": 0.5, "DT_INT32": 0, "DT_INT64": 0,
                   "DT_STRING": "", "DT_BOOL": False}


@dataclass
class SmokeResult:
    """What one serve-and-call round did: per protocol, the response and its latency."""

    model_name: str
    version: int
    responses: Dict[str, Any] = field(default_factory=dict)
    seconds: Dict[str, float] = field(default_factory=dict)
    summary: str = ""


def default_instances(metadata: Dict[str, Any], signature_name: str = "serving_default"
                      ) -> List[Any]:
    """One neutral row for a signature, built from its metadata (REST JSON form)."""
    signatures = metadata["metadata"]["signature_def"]["signature_def"]
    if signature_name not in signatures:
        raise InvalidArgument(f'Serving signature name: "{signature_name}" not found in '
                              "signature def")
    row = {}
    for name, info in signatures[signature_name]["inputs"].items():
        if info["dtype"] not in _NEUTRAL_VALUES:
            raise InvalidArgument(f"cannot make a default value for input {name} of type "
                                  f"{info['dtype']}; pass instances explicitly")
        dims = info.get("tensor_shape", {}).get("dim", [])
        value: Any = _NEUTRAL_VALUES[info["dtype"]]
        for dim in reversed(dims[1:]):
            value = [value] * max(int(dim["size"]), 1)
        row[name] = value
    return [next(iter(row.values()))] if len(row) == 1 else [row]


def serve_and_call(model_name: str, model_base_path: str, instances: Optional[List[Any]] = None,
                   *, signature_name: Optional[str] = None, timeout: float = 300.0,
                   on_event: Optional[Callable[[str], None]] = None) -> SmokeResult:
    """Starts the server on free loopback ports, predicts once over REST and gRPC, stops;
    ServingError when the model does not load in time, a call fails or the answers differ."""
    from tfx_kfp.serving import server
    from tfx_kfp.serving.client import ServingClient

    with server.start(model_name, model_base_path, rest_port=0, grpc_port=0,
                      on_event=on_event) as handle:
        handle.wait_until_available(timeout)
        version = max(handle.manager.available_versions(model_name))
        result = SmokeResult(model_name, version)
        for protocol in ("rest", "grpc"):
            with ServingClient(rest_port=handle.rest_port, grpc_port=handle.grpc_port,
                               protocol=protocol) as client:
                if instances is None:
                    instances = default_instances(client.metadata(model_name),
                                                  signature_name or "serving_default")
                started = time.perf_counter()
                result.responses[protocol] = client.predict(
                    model_name, instances=instances, signature_name=signature_name)
                result.seconds[protocol] = time.perf_counter() - started
    if result.responses["rest"] != result.responses["grpc"]:
        raise Unknown(f"REST and gRPC answers differ: {result.responses['rest']!r} vs "
                      f"{result.responses['grpc']!r}")
    answer = json.dumps(result.responses["rest"], separators=(",", ":"))
    result.summary = (
        f"served {model_name} version {version}; predict over REST "
        f"({result.seconds['rest'] * 1e3:.1f} ms) and gRPC ({result.seconds['grpc'] * 1e3:.1f} ms)"
        f" agree: {answer if len(answer) <= 120 else answer[:117] + '...'}")
    return result
