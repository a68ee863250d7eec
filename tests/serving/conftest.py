"""Shared fixtures for the serving tests.

TensorFlow is imported once per test session (about 11 s); the test models
are written once per session and each test module starts one server.
"""

import http.client
import os
from typing import Dict, Optional, Tuple

import pytest

MODEL_NAME = "half_plus_two"
MODEL_VERSION = 123
PUSH_BOOKKEEPING = '{"pushed_by": "tfx-kfp", "version": 123}'


@pytest.fixture(scope="session")
def models_root(tmp_path_factory) -> str:
    """A session-wide directory for test models."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return str(tmp_path_factory.mktemp("serving-models"))


@pytest.fixture(scope="session")
def half_plus_two_base(models_root) -> str:
    """Base path holding version 123 of y = 0.5x + 2 (with warmup and pusher bookkeeping)."""
    from tfx_kfp.serving import testing

    base = os.path.join(models_root, MODEL_NAME)
    testing.write_half_plus_two(base, MODEL_VERSION, warmup=True,
                                extra_assets={"tfx_kfp_push.json": PUSH_BOOKKEEPING})
    return base


@pytest.fixture(scope="module")
def hpt_server(half_plus_two_base):
    """One server per test module serving ``half_plus_two`` on free ports."""
    from tfx_kfp.serving import server

    with server.start(MODEL_NAME, half_plus_two_base, rest_port=0, grpc_port=0,
                      poll_seconds=0.5) as handle:
        handle.wait_until_available(120)
        yield handle


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


@pytest.fixture(scope="module")
def rest(hpt_server) -> RawHttp:
    """Raw HTTP helper bound to the module's server."""
    return RawHttp(hpt_server.rest_port)


@pytest.fixture(scope="module")
def grpc_stubs(hpt_server):
    """Official TF Serving gRPC stubs bound to the module's server."""
    import grpc
    from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

    channel = grpc.insecure_channel(f"127.0.0.1:{hpt_server.grpc_port}")
    yield (prediction_service_pb2_grpc.PredictionServiceStub(channel),
           model_service_pb2_grpc.ModelServiceStub(channel))
    channel.close()
