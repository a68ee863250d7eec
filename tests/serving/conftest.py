"""Shared fixtures for the serving tests.

TensorFlow is imported once per test session (about 11 s); the test models
are written once per session and each test module starts one server.
"""

import os

import pytest

from tests._support.serving import MODEL_NAME, MODEL_VERSION, PUSH_BOOKKEEPING, RawHttp


@pytest.fixture(scope="session")
def models_root(tmp_path_factory) -> str:
    """A session-wide directory for test models."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return str(tmp_path_factory.mktemp("serving-models"))


@pytest.fixture(scope="session")
def half_plus_two_base(models_root) -> str:
    """Base path holding version 123 of y = 0.5x + 2 (with warmup and pusher bookkeeping)."""
    from tests._support import serving_models

    base = os.path.join(models_root, MODEL_NAME)
    serving_models.write_half_plus_two(base, MODEL_VERSION, warmup=True,
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
