"""ServingClient: same results over REST and gRPC, typed errors, bounded retries."""

import subprocess
import sys
import textwrap
import threading
import time
from concurrent import futures

import grpc
import pytest

from tests._support.serving import MODEL_NAME
from tfx_kfp.serving import (
    DeadlineExceeded,
    InvalidArgument,
    NotFound,
    ServingClient,
    ServingError,
    Unavailable,
)
from tfx_kfp.serving.transport.rest_api import RestResponse
from tfx_kfp.serving.transport.rest_app import RestServer


@pytest.fixture(scope="module")
def clients(hpt_server):
    made = {protocol: ServingClient(rest_port=hpt_server.rest_port,
                                    grpc_port=hpt_server.grpc_port, protocol=protocol)
            for protocol in ("rest", "grpc")}
    yield made
    for client in made.values():
        client.close()


CALLS = [
    ("predict", dict(instances=[1.0, 2.0, 5.0]), {"predictions": [2.5, 3.0, 4.5]}),
    ("predict", dict(inputs=[0.1]), {"outputs": [2.05]}),
    ("predict", dict(instances=[{"x": 1.0, "label": b"\x00\x01"}, {"x": 2.0, "label": "b"}],
                     signature_name="multi_io"),
     {"predictions": [{"label_bytes": {"b64": "AAE="}, "x_int": 1, "y": 2.5},
                      {"label_bytes": {"b64": "Yg=="}, "x_int": 2, "y": 3.0}]}),
    ("predict", dict(inputs={"x": [1.0], "label": ["a"]}, signature_name="multi_io",
                     version=123),
     {"outputs": {"label_bytes": [{"b64": "YQ=="}], "x_int": [1], "y": [2.5]}}),
    ("classify", dict(examples=[{"x": 1.0}], signature_name="classify_labels"),
     {"results": [[["half_plus_two", 2.5]]]}),
    ("regress", dict(examples=[{}, {"x": 4.0}], context={"x": 2.0},
                     signature_name="regress_x_to_y"), {"results": [3.0, 4.0]}),
    ("status", dict(), {"model_version_status": [
        {"version": "123", "state": "AVAILABLE",
         "status": {"error_code": "OK", "error_message": ""}}]}),
]


@pytest.mark.parametrize("method, kwargs, expected", CALLS)
def test_same_answer_over_rest_and_grpc(clients, method, kwargs, expected):
    rest = getattr(clients["rest"], method)(MODEL_NAME, **kwargs)
    grpc_result = getattr(clients["grpc"], method)(MODEL_NAME, **kwargs)
    assert rest == grpc_result
    assert rest == expected


def test_metadata_same_over_both(clients):
    rest = clients["rest"].metadata(MODEL_NAME)
    assert rest == clients["grpc"].metadata(MODEL_NAME)
    assert rest["model_spec"] == {"name": MODEL_NAME, "signature_name": "", "version": "123"}
    assert "serving_default" in rest["metadata"]["signature_def"]["signature_def"]


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_typed_errors(clients, protocol):
    client = clients[protocol]
    with pytest.raises(NotFound) as raised:
        client.predict("nope", instances=[1.0])
    assert (raised.value.http_status, raised.value.grpc_code) == (404, "NOT_FOUND")
    assert str(raised.value) == "Servable not found for request: Latest(nope)"
    with pytest.raises(InvalidArgument) as raised:
        client.predict(MODEL_NAME, instances=["a"])
    assert raised.value.http_status == 400
    assert "is not of expected type: float" in str(raised.value)
    with pytest.raises(InvalidArgument):
        client.predict(MODEL_NAME, instances=[1.0], version=1, version_label="x")
    with pytest.raises(InvalidArgument):
        client.predict(MODEL_NAME)


def test_client_does_not_import_tensorflow(hpt_server):
    script = textwrap.dedent(f"""
        import sys
        import tfx_kfp.serving
        from tfx_kfp.serving.client import ServingClient
        for protocol in ("rest", "grpc"):
            client = ServingClient(rest_port={hpt_server.rest_port},
                                   grpc_port={hpt_server.grpc_port}, protocol=protocol)
            assert client.predict("{MODEL_NAME}", instances=[1.0]) == {{"predictions": [2.5]}}
        assert "tensorflow" not in sys.modules, "client imported tensorflow"
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


# ------------------------------------------------------------------ retries


class _FlakyRest:
    """A real HTTP server answering 503 (or another status) a few times, then 200."""

    def __init__(self, failures: int, status: int = 503):
        self.calls = 0
        self.failures = failures
        self.status = status
        self.server = RestServer(self, "127.0.0.1", 0)
        self.server.start()

    def handle(self, method, path, body, origin):
        self.calls += 1
        if self.calls <= self.failures:
            return RestResponse(self.status, b'{\n    "error": "not yet"\n}')
        return RestResponse(200, b'{"model_version_status": []}')


def test_rest_retries_unavailable_only():
    flaky = _FlakyRest(failures=2)
    try:
        client = ServingClient(rest_port=flaky.server.port, retries=3, retry_backoff=0.01)
        assert client.status("m") == {"model_version_status": []}
        assert flaky.calls == 3
        exhausted = _FlakyRest(failures=10)
        client = ServingClient(rest_port=exhausted.server.port, retries=2, retry_backoff=0.01)
        with pytest.raises(Unavailable, match="not yet"):
            client.status("m")
        assert exhausted.calls == 3
        exhausted.server.stop()
        bad = _FlakyRest(failures=5, status=400)
        client = ServingClient(rest_port=bad.server.port, retries=3, retry_backoff=0.01)
        with pytest.raises(InvalidArgument):
            client.status("m")
        assert bad.calls == 1
        bad.server.stop()
    finally:
        flaky.server.stop()


def test_grpc_retries_unavailable_only():
    from tfx_kfp.serving.client.protos import message_class

    response_class = message_class("tensorflow.serving.GetModelStatusResponse")
    state = {"calls": 0, "code": grpc.StatusCode.UNAVAILABLE, "failures": 2}

    def get_status(request_bytes, context):
        state["calls"] += 1
        if state["calls"] <= state["failures"]:
            context.abort(state["code"], "warming up")
        return response_class().SerializeToString()

    handler = grpc.method_handlers_generic_handler("tensorflow.serving.ModelService", {
        "GetModelStatus": grpc.unary_unary_rpc_method_handler(get_status)})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        client = ServingClient(grpc_port=port, protocol="grpc", retries=3, retry_backoff=0.01)
        assert client.status("m") == {"model_version_status": []}
        assert state["calls"] == 3
        state.update(calls=0, code=grpc.StatusCode.INVALID_ARGUMENT)
        with pytest.raises(InvalidArgument, match="warming up"):
            client.status("m")
        assert state["calls"] == 1
        client.close()
    finally:
        server.stop(0)


def test_unreachable_server_is_unavailable_after_bounded_retries():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for protocol in ("rest", "grpc"):
        client = ServingClient(rest_port=port, grpc_port=port, protocol=protocol, retries=2,
                               retry_backoff=0.01, timeout=2)
        started = time.monotonic()
        with pytest.raises(Unavailable):
            client.status("m")
        assert time.monotonic() - started < 10
        client.close()


def test_timeouts_raise_deadline_exceeded():
    release = threading.Event()

    class Slow:
        def handle(self, method, path, body, origin):
            release.wait(5)
            return RestResponse(200, b"{}")

    server = RestServer(Slow(), "127.0.0.1", 0)
    server.start()
    try:
        client = ServingClient(rest_port=server.port, timeout=0.3, retries=0)
        with pytest.raises(DeadlineExceeded) as raised:
            client.status("m")
        assert raised.value.http_status == 504
        assert isinstance(raised.value, ServingError)
    finally:
        release.set()
        server.stop()


def test_serve_and_call_for_the_demo(half_plus_two_base):
    from tfx_kfp.serving.smoke import serve_and_call

    events = []
    result = serve_and_call(MODEL_NAME, half_plus_two_base, on_event=events.append)
    assert result.version == 123
    assert result.responses["rest"] == result.responses["grpc"] == {"predictions": [2.25]}
    assert result.summary.startswith(f"served {MODEL_NAME} version 123; predict over REST (")
    assert any("AVAILABLE" in e for e in events)


def test_rest_reconnects_when_the_server_closed_an_idle_connection():
    from tfx_kfp.serving.transport.rest_limits import RestLimits

    flaky = _FlakyRest(failures=0)
    flaky.server.stop()
    server = RestServer(flaky, "127.0.0.1", 0, limits=RestLimits(keep_alive_timeout=1))
    server.start()
    try:
        client = ServingClient(rest_port=server.port, retries=0)
        assert client.status("m") == {"model_version_status": []}
        time.sleep(1.5)  # past the keep-alive timeout: the server closes the connection
        assert client.status("m") == {"model_version_status": []}
        assert flaky.calls == 2
        client.close()
    finally:
        server.stop()
