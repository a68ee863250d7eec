"""One client for TF Serving's REST and gRPC APIs.

``ServingClient`` calls a model server (ours or ``tensorflow/serving``) over
either protocol and returns the same Python values for both: the parsed REST
JSON response (for gRPC, the response is rendered exactly as the REST API
would render it, then parsed). Failures raise the typed exceptions of
:mod:`tfx_kfp.serving.errors`, mapped from the HTTP status or gRPC code.
Only UNAVAILABLE is retried, a bounded number of times with backoff.

Example::

    from tfx_kfp.serving.client import ServingClient

    with ServingClient(protocol="grpc") as client:
        client.predict("half_plus_two", instances=[1.0, 2.0])   # {"predictions": [2.5, 3.0]}

This module does not import TensorFlow (gRPC messages come from
:mod:`tfx_kfp.serving.client_protos`).
"""

import base64
import json
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import quote

from tfx_kfp.serving.errors import (
    DeadlineExceeded,
    InvalidArgument,
    ServingError,
    Unavailable,
    error_for_code,
    error_for_http_status,
)
from tfx_kfp.serving.json_reader import parse_json

__all__ = ["ServingClient", "PROTOCOLS"]

PROTOCOLS = ("rest", "grpc")
_SIGNATURE_CACHE_SECONDS = 10.0


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
    """Calls TF Serving's APIs over REST or gRPC with one interface.

    Args:
        host: Server address.
        rest_port: REST port.
        grpc_port: gRPC port.
        protocol: ``"rest"`` or ``"grpc"``.
        timeout: Seconds per attempt (becomes the gRPC deadline / socket timeout).
        retries: Extra attempts when the server answers UNAVAILABLE (or cannot
            be reached); other errors are never retried.
        retry_backoff: First wait between attempts, doubled each time (capped at 2 s).
    """

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
        self._http = None
        self._http_lock = threading.Lock()
        self._channel = None
        self._stubs: Dict[str, Callable] = {}
        self._signatures: Dict[Tuple, Tuple[float, Any]] = {}

    # ------------------------------------------------------------ public API

    def predict(self, model_name: str, *, instances: Any = None, inputs: Any = None,
                signature_name: Optional[str] = None, version: Optional[int] = None,
                version_label: Optional[str] = None) -> Dict[str, Any]:
        """Calls Predict with row (``instances``) or columnar (``inputs``) data.

        Binary values may be given as ``bytes`` (sent as ``{"b64": ...}``).

        Returns:
            ``{"predictions": ...}`` for ``instances``, ``{"outputs": ...}`` for ``inputs``.
        """
        if (instances is None) == (inputs is None):
            raise InvalidArgument("Pass exactly one of instances= (row format) or inputs= "
                                  "(columnar format)")
        doc: Dict[str, Any] = {}
        if signature_name:
            doc["signature_name"] = signature_name
        if instances is not None:
            doc["instances"] = _jsonable(instances)
        else:
            doc["inputs"] = _jsonable(inputs)
        return self._call(lambda: self._predict(model_name, version, version_label, doc))

    def classify(self, model_name: str, *, examples: List[Dict[str, Any]],
                 context: Optional[Dict[str, Any]] = None, signature_name: Optional[str] = None,
                 version: Optional[int] = None,
                 version_label: Optional[str] = None) -> Dict[str, Any]:
        """Calls Classify on tf.Example features given as dicts.

        Returns:
            ``{"results": [[[label, score], ...], ...]}`` (one list per example).
        """
        doc = self._examples_doc(examples, context, signature_name)
        return self._call(lambda: self._classify_or_regress(
            "classify", model_name, version, version_label, doc))

    def regress(self, model_name: str, *, examples: List[Dict[str, Any]],
                context: Optional[Dict[str, Any]] = None, signature_name: Optional[str] = None,
                version: Optional[int] = None,
                version_label: Optional[str] = None) -> Dict[str, Any]:
        """Calls Regress on tf.Example features given as dicts.

        Returns:
            ``{"results": [value, ...]}``.
        """
        doc = self._examples_doc(examples, context, signature_name)
        return self._call(lambda: self._classify_or_regress(
            "regress", model_name, version, version_label, doc))

    def metadata(self, model_name: str, *, version: Optional[int] = None,
                 version_label: Optional[str] = None) -> Dict[str, Any]:
        """Returns model metadata: ``{"model_spec": ..., "metadata": {"signature_def": ...}}``."""
        return self._call(lambda: self._metadata(model_name, version, version_label))

    def status(self, model_name: str, *, version: Optional[int] = None,
               version_label: Optional[str] = None) -> Dict[str, Any]:
        """Returns ``{"model_version_status": [{"version", "state", "status"}, ...]}``."""
        return self._call(lambda: self._status(model_name, version, version_label))

    def close(self) -> None:
        """Closes connections and the gRPC channel."""
        with self._http_lock:
            if self._http is not None:
                self._http.close()
                self._http = None
        if self._channel is not None:
            self._channel.close()
            self._channel = None
            self._stubs.clear()

    def __enter__(self) -> "ServingClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # ------------------------------------------------------------ plumbing

    @staticmethod
    def _examples_doc(examples, context, signature_name) -> Dict[str, Any]:
        doc: Dict[str, Any] = {}
        if signature_name:
            doc["signature_name"] = signature_name
        if context is not None:
            doc["context"] = _jsonable(context)
        doc["examples"] = _jsonable(examples)
        return doc

    def _call(self, attempt: Callable[[], Dict[str, Any]]) -> Dict[str, Any]:
        delay = self.retry_backoff
        for number in range(self.retries + 1):
            try:
                return attempt()
            except Unavailable:
                if number == self.retries:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    @staticmethod
    def _check_version(version: Optional[int], version_label: Optional[str]) -> None:
        if version is not None and version_label is not None:
            raise InvalidArgument(f"Both model version ({version}) and model version label "
                                  f"({version_label}) cannot be supplied.")

    def _model_path(self, model_name: str, version: Optional[int],
                    version_label: Optional[str]) -> str:
        self._check_version(version, version_label)
        path = "/v1/models/" + quote(model_name, safe="")
        if version is not None:
            path += f"/versions/{int(version)}"
        elif version_label is not None:
            path += "/labels/" + quote(version_label, safe="")
        return path

    # REST ---------------------------------------------------------------

    def _http_pool(self):
        with self._http_lock:
            if self._http is None:
                # httpx's own transport layer: httpx.Client adds ~0.2 ms per call (measured,
                # docs/serving.md) for URL, cookie and header models this client never uses.
                import httpcore

                self._http = httpcore.ConnectionPool()
            return self._http

    def _rest(self, method: str, path: str, doc: Optional[Dict[str, Any]] = None) -> Any:
        import httpcore

        body = json.dumps(doc).encode("utf-8") if doc is not None else b""
        host = f"[{self.host}]" if ":" in self.host else self.host
        headers = [(b"Host", f"{host}:{self.rest_port}".encode("ascii"))]
        if doc is not None:
            headers.append((b"Content-Type", b"application/json"))
        timeouts = dict.fromkeys(("connect", "read", "write", "pool"), self.timeout)
        try:
            response = self._http_pool().request(
                method, f"http://{host}:{self.rest_port}{path}", headers=headers, content=body,
                extensions={"timeout": timeouts})
        except httpcore.TimeoutException:
            raise DeadlineExceeded(f"No response from {self.host}:{self.rest_port} within "
                                   f"{self.timeout:g}s ({method} {path})") from None
        except (httpcore.NetworkError, httpcore.ProtocolError) as error:
            raise Unavailable(f"Cannot reach the REST API at {self.host}:{self.rest_port}: "
                              f"{error}") from None
        status, payload = response.status, response.content
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

    # gRPC ---------------------------------------------------------------

    def _stub(self, service: str, method: str, request_type: str, response_type: str):
        key = f"/{service}/{method}"
        stub = self._stubs.get(key)
        if stub is None:
            import grpc
            from tfx_kfp.serving.client_protos import message_class

            if self._channel is None:
                target = (f"[{self.host}]:{self.grpc_port}" if ":" in self.host
                          else f"{self.host}:{self.grpc_port}")
                self._channel = grpc.insecure_channel(
                    target, options=[("grpc.max_receive_message_length", -1),
                                     ("grpc.max_send_message_length", -1)])
            stub = self._channel.unary_unary(
                key, request_serializer=message_class(request_type).SerializeToString,
                response_deserializer=message_class(response_type).FromString)
            self._stubs[key] = stub
        return stub

    def _grpc(self, method: str, request):
        import grpc

        types = {
            "Predict": ("PredictRequest", "PredictResponse"),
            "Classify": ("ClassificationRequest", "ClassificationResponse"),
            "Regress": ("RegressionRequest", "RegressionResponse"),
            "GetModelMetadata": ("GetModelMetadataRequest", "GetModelMetadataResponse"),
            "GetModelStatus": ("GetModelStatusRequest", "GetModelStatusResponse"),
        }[method]
        service = ("tensorflow.serving.ModelService" if method == "GetModelStatus"
                   else "tensorflow.serving.PredictionService")
        stub = self._stub(service, method, "tensorflow.serving." + types[0],
                          "tensorflow.serving." + types[1])
        try:
            return stub(request, timeout=self.timeout)
        except grpc.RpcError as error:
            raise error_for_code(error.code(), error.details() or str(error)) from None

    @staticmethod
    def _message(name: str):
        from tfx_kfp.serving.client_protos import message_class

        return message_class(name)()

    def _fill_spec(self, spec, model_name: str, version: Optional[int],
                   version_label: Optional[str], signature_name: str = "") -> None:
        self._check_version(version, version_label)
        spec.name = model_name
        if version is not None:
            spec.version.value = int(version)
        elif version_label is not None:
            spec.version_label = version_label
        if signature_name:
            spec.signature_name = signature_name

    def _signature_inputs(self, model_name: str, version: Optional[int],
                          version_label: Optional[str], signature_name: str):
        key = (model_name, version, version_label, signature_name)
        cached = self._signatures.get(key)
        if cached is not None and time.monotonic() - cached[0] < _SIGNATURE_CACHE_SECONDS:
            return cached[1]
        request = self._message("tensorflow.serving.GetModelMetadataRequest")
        self._fill_spec(request.model_spec, model_name, version, version_label)
        request.metadata_field.append("signature_def")
        response = self._grpc("GetModelMetadata", request)
        signature_map = self._message("tensorflow.serving.SignatureDefMap")
        response.metadata["signature_def"].Unpack(signature_map)
        name = signature_name or "serving_default"
        if name not in signature_map.signature_def:
            raise InvalidArgument(f'Serving signature name: "{name}" not found in signature def')
        infos = signature_map.signature_def[name].inputs
        self._signatures[key] = (time.monotonic(), infos)
        return infos

    # operations ----------------------------------------------------------

    def _predict(self, model_name, version, version_label, doc) -> Dict[str, Any]:
        if self.protocol == "rest":
            return self._rest("POST", self._model_path(model_name, version, version_label)
                              + ":predict", doc)
        from tfx_kfp.serving.rest_codec import predict_inputs_from_json
        from tfx_kfp.serving.rest_response import predict_response_json
        from tfx_kfp.serving.tensor_codec import ndarray_to_tensor_proto, tensor_proto_to_ndarray

        signature_name = doc.get("signature_name", "")
        infos = self._signature_inputs(model_name, version, version_label, signature_name)
        arrays, request_format = predict_inputs_from_json(doc, infos, signature_name)
        request = self._message("tensorflow.serving.PredictRequest")
        self._fill_spec(request.model_spec, model_name, version, version_label, signature_name)
        for alias, array in arrays.items():
            ndarray_to_tensor_proto(array, request.inputs[alias])
        response = self._grpc("Predict", request)
        outputs = {alias: tensor_proto_to_ndarray(proto, alias)
                   for alias, proto in response.outputs.items()}
        return parse_json(predict_response_json(outputs, request_format))

    def _classify_or_regress(self, verb, model_name, version, version_label, doc):
        if self.protocol == "rest":
            return self._rest("POST", self._model_path(model_name, version, version_label)
                              + ":" + verb, doc)
        from tfx_kfp.serving.rest_response import classify_body, regress_body
        from tfx_kfp.serving.rest_examples import examples_parts_from_json

        example_class = type(self._message("tensorflow.Example"))
        context, examples = examples_parts_from_json(doc, example_class)
        request = self._message("tensorflow.serving.ClassificationRequest" if verb == "classify"
                                else "tensorflow.serving.RegressionRequest")
        self._fill_spec(request.model_spec, model_name, version, version_label,
                        doc.get("signature_name", ""))
        if context is not None:
            request.input.example_list_with_context.context.CopyFrom(context)
            request.input.example_list_with_context.examples.extend(examples)
        else:
            request.input.example_list.examples.extend(examples)
        if verb == "classify":
            response = self._grpc("Classify", request)
            rows = [[(c.label, c.score) for c in item.classes]
                    for item in response.result.classifications]
            return parse_json(classify_body(rows))
        response = self._grpc("Regress", request)
        return parse_json(regress_body([r.value for r in response.result.regressions]))

    def _metadata(self, model_name, version, version_label):
        if self.protocol == "rest":
            return self._rest("GET", self._model_path(model_name, version, version_label)
                              + "/metadata")
        from tfx_kfp.serving.rest_api import message_to_json

        request = self._message("tensorflow.serving.GetModelMetadataRequest")
        self._fill_spec(request.model_spec, model_name, version, version_label)
        request.metadata_field.append("signature_def")
        response = self._grpc("GetModelMetadata", request)
        signature_map = self._message("tensorflow.serving.SignatureDefMap")
        response.metadata["signature_def"].Unpack(signature_map)
        return {
            "model_spec": json.loads(message_to_json(response.model_spec, True)),
            "metadata": {"signature_def": json.loads(message_to_json(signature_map, True))},
        }

    def _status(self, model_name, version, version_label):
        if self.protocol == "rest":
            return self._rest("GET", self._model_path(model_name, version, version_label))
        from tfx_kfp.serving.rest_api import message_to_json

        request = self._message("tensorflow.serving.GetModelStatusRequest")
        self._fill_spec(request.model_spec, model_name, version, version_label)
        return json.loads(message_to_json(self._grpc("GetModelStatus", request)))
