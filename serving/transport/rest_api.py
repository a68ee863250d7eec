"""REST routing and handling as TF Serving's ``HttpRestApiHandler``: its URL patterns
(``http_rest_api_util.cc``), ``Malformed request: <METHOD> <path>`` for other ``/v1/`` paths,
its JSON bodies and ``http_server.cc``'s status mapping. Transport independent.
"""

import json
import logging
import re
from typing import List, Optional, Tuple
from urllib.parse import unquote_to_bytes

from tfx_kfp.serving.models import classify_regress
from tfx_kfp.serving.models import inference
from tfx_kfp.serving.models import proto_handlers
from tfx_kfp.serving.protocol.errors import (
    FailedPrecondition, InvalidArgument, ServingError, error_for_exception,
)
from tfx_kfp.serving.protocol.json_codec import parse_json_object
from tfx_kfp.serving.models.manager import ModelManager
from tfx_kfp.serving.transport.metrics import recorded
from tfx_kfp.serving.versions import INT64_MAX
from tfx_kfp.serving.protocol.rest_request import (
    predict_inputs_from_json, signature_inputs, signature_name_of,
)
from tfx_kfp.serving.protocol.rest_examples import examples_from_json
from tfx_kfp.serving.protocol.rest_response import (
    classify_body, error_body, message_to_dict, predict_response_json, regress_body,
)

__all__ = ["RestApi", "RestResponse", "HANDLER_PATH", "NOT_FOUND_HTML", "BAD_REQUEST_HTML"]

log = logging.getLogger(__name__)

HANDLER_PATH = re.compile(r"/v1/.*", re.IGNORECASE | re.DOTALL)
_PREDICTION_PATH = re.compile(
    r"/v1/models/([^/:]+)(?:(?:/versions/([0-9]+))|(?:/labels/([^/:]+)))?"
    r":(classify|regress|predict)", re.IGNORECASE | re.ASCII)
_STATUS_PATH = re.compile(
    r"/v1/models(?:/([^/:]+))?(?:(?:/versions/([0-9]+))|(?:/labels/([^/:]+)))?"
    r"(?:/(metadata))?", re.IGNORECASE | re.ASCII)
_JSON = "application/json"

# What libevent's evhttp_send_error() sends (paths outside /v1/, refused request targets).
_EVHTTP_ERROR = "<HTML><HEAD>\n<TITLE>{0}</TITLE>\n</HEAD><BODY>\n<H1>{1}</H1>\n</BODY></HTML>\n"
NOT_FOUND_HTML = _EVHTTP_ERROR.format("404 Not Found", "Not Found").encode()
BAD_REQUEST_HTML = _EVHTTP_ERROR.format("400 Bad Request", "Bad Request").encode()
# net_http's ParsedEvRequest::decode (util/net_http/server/internal/evhttp_request.cc, 2.16.1)
# refuses, before any routing, a method libevent does not name and a request target that
# libevent's evhttp_uri_parse refuses: outside RFC 3986's path and query characters, or a "%"
# not followed by two hex digits. EvHTTPServer then answers evhttp_send_error(400).
_EVHTTP_METHODS = frozenset(("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE",
                             "CONNECT", "PATCH"))
_URI_CHARS = r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2}"
_EVHTTP_TARGET = re.compile(rf"(?:{_URI_CHARS})*(?:\?(?:{_URI_CHARS}|\?)*)?")


class RestResponse:
    """An HTTP response: status, headers and body."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, body: bytes, headers: Optional[List[Tuple[str, str]]] = None):
        self.status = status
        self.body = body
        self.headers = headers if headers is not None else [("Content-Type", _JSON)]


def _decode_arg(text: str) -> str:
    return unquote_to_bytes(text).decode("utf-8", "surrogateescape")


class RestApi:
    """Handles REST requests against a ModelManager (settings as in ``ServerOptions``)."""

    def __init__(self, manager: ModelManager, timeout_ms: int = 30000, enable_cors: bool = False,
                 metrics=None, metrics_path: str = ""):
        self._manager = manager
        self._timeout_ms = timeout_ms or None
        self._enable_cors = enable_cors
        self._metrics = metrics
        self._metrics_path = metrics_path

    def handle(self, method: str, path: str, body: bytes, origin: str = "") -> RestResponse:
        """Answers one request (``path`` percent-encoded, with its query); never raises."""
        if method not in _EVHTTP_METHODS or not _EVHTTP_TARGET.fullmatch(path):
            return RestResponse(400, BAD_REQUEST_HTML, [("Content-Type", "text/html"),
                                                        ("Connection", "close")])
        if self._metrics_path and path == self._metrics_path and method == "GET":
            from tfx_kfp.serving.transport.metrics import CONTENT_TYPE

            return RestResponse(200, self._metrics.exposition(), [("Content-Type", CONTENT_TYPE)])
        if not HANDLER_PATH.fullmatch(path):
            return RestResponse(404, NOT_FOUND_HTML, [("Content-Type", "text/html")])
        if method == "OPTIONS":
            if re.search(r"https?://", origin):
                response = RestResponse(200, b"", [])
            else:
                error = FailedPrecondition("Origin header is missing in CORS preflight")
                response = RestResponse(error.http_status, b"", [])
        else:
            try:
                response = RestResponse(200, self._dispatch(method, path, body))
            except _EmptyBodyError as error:
                response = RestResponse(error.http_status, b"")
            except Exception as error:  # noqa: BLE001 - never let a request kill the server
                if not isinstance(error, (ServingError, UnicodeError)):
                    log.exception("REST request failed unexpectedly: %s %s", method, path)
                failure = error_for_exception(error)
                response = RestResponse(failure.http_status, error_body(failure.message))
        if self._enable_cors:
            response.headers = response.headers + [
                ("Access-Control-Allow-Origin", "*"),
                ("Access-Control-Allow-Methods", "POST, GET"),
                ("Access-Control-Allow-Headers", "Content-Type"),
            ]
        return response

    def _dispatch(self, method: str, path: str, body: bytes) -> bytes:
        match = None
        if method == "POST":
            match = _PREDICTION_PATH.fullmatch(path)
        elif method == "GET":
            match = _STATUS_PATH.fullmatch(path)
        name = version_text = label_text = verb = ""
        if match:
            name, version_text, label_text, verb = (g or "" for g in match.groups())
        if name:
            name = _decode_arg(name)
        version: Optional[int] = None
        if version_text:
            version = int(version_text)
            if version > INT64_MAX:
                raise _EmptyBodyError(f"Failed to convert version: {version_text} to numeric.")
        label = _decode_arg(label_text) if label_text else None
        if match and method == "POST":
            if verb == "predict":
                return recorded(self._metrics, name, "Predict", "REST",
                                lambda: self._predict(name, version, label, body))
            if verb in ("classify", "regress"):
                return recorded(self._metrics, name, verb.capitalize(), "REST",
                                lambda: self._classify_or_regress(verb, name, version, label,
                                                                  body))
        elif match and method == "GET":
            if not name:
                raise InvalidArgument("Missing model name in request.")
            if verb == "metadata":
                return self._metadata(name, version, label)
            return self._status(name, version)
        raise InvalidArgument(f"Malformed request: {method} {path}")

    def _predict(self, name: str, version: Optional[int], label: Optional[str],
                 body: bytes) -> bytes:
        doc = parse_json_object(body)
        signature_name = signature_name_of(doc)
        with self._manager.acquire(name, version, label) as loaded:
            infos = signature_inputs(loaded.signature_defs, signature_name)
            inputs, request_format = predict_inputs_from_json(doc, infos, signature_name)
            _, outputs = inference.predict(loaded, signature_name, inputs, (), self._timeout_ms)
        return predict_response_json(outputs, request_format)

    def _classify_or_regress(self, verb: str, name: str, version: Optional[int],
                             label: Optional[str], body: bytes) -> bytes:
        doc = parse_json_object(body)
        signature_name = signature_name_of(doc)
        examples = examples_from_json(doc)
        with self._manager.acquire(name, version, label) as loaded:
            if verb == "classify":
                return classify_body(classify_regress.classify(
                    loaded, signature_name, examples, self._timeout_ms))
            return regress_body(classify_regress.regress(
                loaded, signature_name, examples, self._timeout_ms).tolist())

    def _status(self, name: str, version: Optional[int]) -> bytes:
        from tensorflow_serving.apis import get_model_status_pb2

        response = get_model_status_pb2.GetModelStatusResponse()
        proto_handlers.fill_status(self._manager, name, version, response)
        return json.dumps(message_to_dict(response)).encode("utf-8")

    def _metadata(self, name: str, version: Optional[int], label: Optional[str]) -> bytes:
        from tensorflow_serving.apis import get_model_metadata_pb2

        response = get_model_metadata_pb2.GetModelMetadataResponse()
        with self._manager.acquire(name, version, label) as loaded:
            proto_handlers.fill_metadata(loaded, response)
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        response.metadata[proto_handlers.SIGNATURE_DEF_FIELD].Unpack(signature_map)
        return json.dumps({
            "model_spec": message_to_dict(response.model_spec, preserve_proto_field_names=True),
            "metadata": {"signature_def": message_to_dict(signature_map, True)}}).encode("utf-8")


class _EmptyBodyError(InvalidArgument):
    """A URL error TF Serving reports with an empty body (before building JSON)."""
