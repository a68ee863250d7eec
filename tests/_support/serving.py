"""Constants and a raw HTTP helper shared by the serving tests."""

import http.client
from typing import Dict, Optional, Tuple

MODEL_NAME = "half_plus_two"
MODEL_VERSION = 123
PUSH_BOOKKEEPING = '{"pushed_by": "tfx-kfp", "version": 123}'


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
