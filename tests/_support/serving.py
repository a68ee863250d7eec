"""Constants and a raw HTTP helper shared by the serving tests."""

import http.client
import importlib
import json
from typing import Dict, Optional, Tuple

MODEL_NAME = "half_plus_two"
MODEL_VERSION = 123
PUSH_BOOKKEEPING = '{"pushed_by": "tfx-kfp", "version": 123}'


def parsed(response: Tuple[int, bytes]) -> Tuple[int, str]:
    """(status, JSON body) as a client sees it once parsed: values and their JSON types (1 vs
    1.0, float digits), not the layout, which the server does not emulate (docs/serving.md)."""
    status, body = response
    return status, json.dumps(json.loads(body.decode("utf-8", "surrogateescape")))


def reply(status: int, value) -> Tuple[int, str]:
    """The ``parsed`` form of a response whose JSON body is ``value``."""
    return status, json.dumps(value)


class Deferred:
    """A module imported on first attribute access, so that collecting a test module imports no
    TensorFlow (``tensorflow_serving.apis`` imports it too): the unit tier asserts none is loaded."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute: str):
        if attribute.startswith("__"):  # pytest's collection probes e.g. ``__test__``
            raise AttributeError(attribute)
        return getattr(importlib.import_module(self._name), attribute)


class RawHttp:
    """Raw HTTP against the REST port, independent of our client."""

    def __init__(self, port: int):
        self.port = port

    def request(self, method: str, path: str, body: Optional[bytes] = None,
                headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, \
                response.read()
        finally:
            connection.close()

    def post(self, path: str, body: bytes) -> Tuple[int, bytes]:
        status, _, payload = self.request("POST", path, body)
        return status, payload

    def get(self, path: str) -> Tuple[int, bytes]:
        status, _, payload = self.request("GET", path)
        return status, payload
