"""One client for TF Serving's REST and gRPC APIs (ours or ``tensorflow/serving``), returning
the parsed REST JSON over both (gRPC answers are rendered as REST renders them). Errors raise
:mod:`~tfx_kfp.serving.protocol.errors`; only UNAVAILABLE is retried. No TensorFlow import::

    with ServingClient(protocol="grpc") as client:
        client.predict("half_plus_two", instances=[1.0, 2.0])   # {"predictions": [2.5, 3.0]}
"""

import base64
import http.client
import json
import threading
import time
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote

from tfx_kfp.serving.protocol.errors import (
    DeadlineExceeded,
    InvalidArgument,
    ServingError,
    Unavailable,
    error_for_http_status,
)
from tfx_kfp.serving.protocol.json_codec import parse_json

__all__ = ["ServingClient", "PROTOCOLS"]

PROTOCOLS = ("rest", "grpc")
# verb -> (HTTP method, what follows the model path)
_REST_CALLS = {
    "predict": ("POST", ":predict"),
    "classify": ("POST", ":classify"),
    "regress": ("POST", ":regress"),
    "metadata": ("GET", "/metadata"),
    "status": ("GET", ""),
}
_JSON_HEADERS = {"Content-Type": "application/json"}


def _jsonable(value: Any) -> Any:
    """Turns ``bytes`` into TF Serving's ``{"b64": ...}`` and numpy values into lists."""
    if isinstance(value, (bytes, bytearray)):
        return {"b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _jsonable(value.tolist())
    return value


class ServingClient:
    """TF Serving's APIs over ``protocol`` "rest" or "grpc"; ``timeout`` is per attempt, and
    ``retries`` extra attempts follow UNAVAILABLE, ``retry_backoff`` s apart, doubling to 2 s."""

    def __init__(self, host: str = "127.0.0.1", *, rest_port: int = 8501, grpc_port: int = 8500,
                 protocol: str = "rest", timeout: float = 10.0, retries: int = 3,
                 retry_backoff: float = 0.1):
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
        self.host = host
        self.rest_port = rest_port
        self.grpc_port = grpc_port
        self.protocol = protocol
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.retry_backoff = retry_backoff
        self._transport = None
        self._transport_lock = threading.Lock()

    def predict(self, model_name: str, *, instances: Any = None, inputs: Any = None,
                signature_name: Optional[str] = None, version: Optional[int] = None,
                version_label: Optional[str] = None) -> Dict[str, Any]:
        """Predict on rows (``instances``: ``{"predictions": ...}``) or columns (``inputs``:
        ``{"outputs": ...}``); ``bytes`` values are sent as ``{"b64": ...}``."""
        if (instances is None) == (inputs is None):
            raise InvalidArgument("Pass exactly one of instances= (row format) or inputs= "
                                  "(columnar format)")
        doc: Dict[str, Any] = {"signature_name": signature_name} if signature_name else {}
        if instances is not None:
            doc["instances"] = _jsonable(instances)
        else:
            doc["inputs"] = _jsonable(inputs)
        return self._call("predict", model_name, version, version_label, doc)

    def classify(self, model_name: str, *, examples: List[Dict[str, Any]],
                 context: Optional[Dict[str, Any]] = None, signature_name: Optional[str] = None,
                 version: Optional[int] = None,
                 version_label: Optional[str] = None) -> Dict[str, Any]:
        """Classify tf.Examples given as feature dicts: ``{"results": [[[label, score]]]}``."""
        doc = self._examples_doc(examples, context, signature_name)
        return self._call("classify", model_name, version, version_label, doc)

    def regress(self, model_name: str, *, examples: List[Dict[str, Any]],
                context: Optional[Dict[str, Any]] = None, signature_name: Optional[str] = None,
                version: Optional[int] = None,
                version_label: Optional[str] = None) -> Dict[str, Any]:
        """Regress tf.Examples given as feature dicts: ``{"results": [value, ...]}``."""
        doc = self._examples_doc(examples, context, signature_name)
        return self._call("regress", model_name, version, version_label, doc)

    def metadata(self, model_name: str, *, version: Optional[int] = None,
                 version_label: Optional[str] = None) -> Dict[str, Any]:
        """``{"model_spec": ..., "metadata": {"signature_def": ...}}``."""
        return self._call("metadata", model_name, version, version_label, None)

    def status(self, model_name: str, *, version: Optional[int] = None,
               version_label: Optional[str] = None) -> Dict[str, Any]:
        """Returns ``{"model_version_status": [{"version", "state", "status"}, ...]}``."""
        return self._call("status", model_name, version, version_label, None)

    def close(self) -> None:
        """Closes connections and the gRPC channel."""
        with self._transport_lock:
            if self._transport is not None:
                self._transport.close()
                self._transport = None

    def __enter__(self) -> "ServingClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @staticmethod
    def _examples_doc(examples, context, signature_name) -> Dict[str, Any]:
        doc: Dict[str, Any] = {"signature_name": signature_name} if signature_name else {}
        if context is not None:
            doc["context"] = _jsonable(context)
        doc["examples"] = _jsonable(examples)
        return doc

    def _call(self, verb: str, model_name: str, version: Optional[int],
              version_label: Optional[str], doc: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        if version is not None and version_label is not None:
            raise InvalidArgument(f"Both model version ({version}) and model version label "
                                  f"({version_label}) cannot be supplied.")
        with self._transport_lock:
            if self._transport is None:
                if self.protocol == "rest":
                    self._transport = _RestTransport(self)
                else:
                    from tfx_kfp.serving.client.grpc_transport import GrpcTransport

                    self._transport = GrpcTransport(self)
            transport = self._transport
        delay = self.retry_backoff
        for _ in range(self.retries):
            try:
                return transport.call(verb, model_name, version, version_label, doc)
            except Unavailable:
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        return transport.call(verb, model_name, version, version_label, doc)


class _RestTransport:
    """A ``ServingClient``'s REST calls, on ``http.client`` with one keep-alive connection per
    concurrent caller (less per-call work than httpcore/h11; docs/serving.md)."""

    def __init__(self, client: ServingClient):
        self._client = client
        self._idle: List[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def call(self, verb: str, model_name: str, version: Optional[int],
             version_label: Optional[str], doc: Optional[Dict[str, Any]]) -> Any:
        method, suffix = _REST_CALLS[verb]
        path = "/v1/models/" + quote(model_name, safe="")
        if version is not None:
            path += f"/versions/{int(version)}"
        elif version_label is not None:
            path += "/labels/" + quote(version_label, safe="")
        path += suffix
        body = json.dumps(doc).encode("utf-8") if doc is not None else None
        client = self._client
        try:
            status, payload = self._exchange(method, path, body)
        except TimeoutError:
            raise DeadlineExceeded(f"No response from {client.host}:{client.rest_port} within "
                                   f"{client.timeout:g}s ({method} {path})") from None
        except (OSError, http.client.HTTPException) as error:
            raise Unavailable(f"Cannot reach the REST API at {client.host}:{client.rest_port}: "
                              f"{error}") from None
        if status == 200:
            return parse_json(payload)
        message = payload.decode("utf-8", "replace").strip()
        try:
            parsed = parse_json(payload)
            if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
                message = parsed["error"]
        except ServingError:
            pass
        raise error_for_http_status(status, message or f"HTTP {status} for {method} {path}")

    def _exchange(self, method: str, path: str, body: Optional[bytes]) -> Tuple[int, bytes]:
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        if connection is not None:
            try:
                return self._send(connection, method, path, body)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                pass  # the server closed the idle keep-alive connection: send on a new one
        client = self._client
        connection = http.client.HTTPConnection(client.host, client.rest_port,
                                                timeout=client.timeout)
        return self._send(connection, method, path, body)

    def _send(self, connection: http.client.HTTPConnection, method: str, path: str,
              body: Optional[bytes]) -> Tuple[int, bytes]:
        if connection.timeout != self._client.timeout:
            connection.timeout = self._client.timeout
            if connection.sock is not None:
                connection.sock.settimeout(connection.timeout)
        try:
            connection.request(method, path, body, _JSON_HEADERS if body is not None else {})
            response = connection.getresponse()
            payload = response.read()
        except BaseException:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        else:
            with self._lock:
                self._idle.append(connection)
        return response.status, payload
