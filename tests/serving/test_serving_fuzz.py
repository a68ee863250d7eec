"""Fuzzing: malformed REST bodies and gRPC requests get 4xx / client-error codes, never a crash."""

import json

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests._support.serving import MODEL_NAME, RawHttp, parsed, reply
from tfx_kfp.serving.protocol.json_codec import is_proto_text

FUZZ_SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                         suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                HealthCheck.too_slow])

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.just({"b64": "aGk="}), st.just({"b64": "%%%"}))
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(["x", "label", "b64", "inputs", "z"]), children,
                        max_size=3)),
    max_leaves=12)
request_objects = st.dictionaries(
    st.sampled_from(["instances", "inputs", "signature_name", "examples", "context", "extra"]),
    json_values, max_size=4)
signature_names = st.sampled_from(["multi_io", "regress_x_to_y", "classify_labels",
                                   "serving_default", "nope", 7])


def _mangle(text: str, data) -> bytes:
    raw = text.encode("utf-8")
    if not raw:
        return raw
    choice = data.draw(st.integers(0, 3))
    position = data.draw(st.integers(0, len(raw) - 1))
    if choice == 0:  # truncate
        return raw[:position]
    if choice == 1:  # flip a byte
        return raw[:position] + bytes([data.draw(st.integers(0, 255))]) + raw[position + 1:]
    if choice == 2:  # insert garbage
        return raw[:position] + data.draw(st.binary(max_size=6)) + raw[position:]
    return raw


def _assert_client_error(status: int, body: bytes):
    assert status < 500, (status, body[:300])
    if status != 200:
        if body:  # error messages may echo invalid UTF-8 from the request, as TF Serving's do
            assert set(json.loads(body.decode("utf-8", "surrogateescape"))) == {"error"}


@FUZZ_SETTINGS
@given(doc=request_objects, signature=signature_names,
       verb=st.sampled_from(["predict", "classify", "regress"]), data=st.data())
def test_malformed_rest_bodies_get_client_errors(rest: RawHttp, doc, signature, verb, data):
    if data.draw(st.booleans()):
        doc["signature_name"] = signature
    text = json.dumps(doc, allow_nan=True)
    body = _mangle(text, data) if data.draw(st.booleans()) else text.encode()
    status, payload = rest.post(f"/v1/models/{MODEL_NAME}:{verb}", body)
    _assert_client_error(status, payload)


@FUZZ_SETTINGS
@given(body=st.binary(max_size=64), path=st.sampled_from([
    f"/v1/models/{MODEL_NAME}:predict", f"/v1/models/{MODEL_NAME}/versions/123:regress",
    "/v1/models/x/labels/y:classify", f"/v1/models/{MODEL_NAME}/metadata"]))
def test_random_bytes_get_client_errors(rest: RawHttp, body, path):
    status, payload = rest.post(path, body)
    _assert_client_error(status, payload)


CLIENT_ERROR_CODES = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
                      grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNIMPLEMENTED}


def _tensor_protos():
    from tensorflow.core.framework import tensor_pb2, types_pb2

    dims = st.lists(st.integers(-2, 3), max_size=3)
    return st.builds(
        lambda dtype, shape, floats, strings, content, ints: tensor_pb2.TensorProto(
            dtype=dtype, tensor_shape={"dim": [{"size": d} for d in shape]},
            float_val=floats, string_val=strings, tensor_content=content, int_val=ints),
        st.sampled_from([types_pb2.DT_FLOAT, types_pb2.DT_DOUBLE, types_pb2.DT_STRING,
                         types_pb2.DT_INT32, types_pb2.DT_INVALID, types_pb2.DT_HALF, 99]),
        dims, st.lists(st.floats(width=32), max_size=4), st.lists(st.binary(max_size=4),
                                                                   max_size=3),
        st.binary(max_size=12), st.lists(st.integers(-5, 5), max_size=3))


@FUZZ_SETTINGS
@given(data=st.data())
def test_malformed_grpc_predict_requests(grpc_stubs, data):
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = data.draw(st.sampled_from([MODEL_NAME, MODEL_NAME, "", "nope"]))
    request.model_spec.signature_name = data.draw(st.sampled_from(
        ["", "multi_io", "regress_x_to_y", "nope"]))
    for name in data.draw(st.lists(st.sampled_from(["x", "label", "z", "inputs"]), max_size=3,
                                   unique=True)):
        request.inputs[name].CopyFrom(data.draw(_tensor_protos()))
    request.output_filter.extend(data.draw(st.lists(st.sampled_from(["y", "x_int", "q"]),
                                                    max_size=2)))
    try:
        grpc_stubs[0].Predict(request, timeout=30)
    except grpc.RpcError as error:
        assert error.code() in CLIENT_ERROR_CODES, (error.code(), error.details())


@FUZZ_SETTINGS
@given(payload=st.binary(max_size=64), method=st.sampled_from(
    ["Predict", "Classify", "Regress", "MultiInference", "GetModelMetadata"]))
def test_undecodable_grpc_messages(hpt_server, payload, method):
    with grpc.insecure_channel(f"127.0.0.1:{hpt_server.grpc_port}") as channel:
        call = channel.unary_unary(f"/tensorflow.serving.PredictionService/{method}",
                                   request_serializer=lambda b: b,
                                   response_deserializer=lambda b: b)
        try:
            call(payload, timeout=30)
        except grpc.RpcError as error:
            # grpcio answers undecodable bytes with INTERNAL before any handler runs.
            assert error.code() in CLIENT_ERROR_CODES | {grpc.StatusCode.INTERNAL}, \
                (error.code(), error.details())


def test_server_still_serves_after_fuzzing(rest: RawHttp, grpc_stubs):
    assert parsed(rest.post(f"/v1/models/{MODEL_NAME}:predict", b'{"instances": [1.0]}')) == \
        reply(200, {"predictions": [2.5]})
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL_NAME
    request.inputs["x"].CopyFrom(tf.make_tensor_proto([1.0], dtype=tf.float32))
    assert list(grpc_stubs[0].Predict(request, timeout=30).outputs["y"].float_val) == [2.5]


@pytest.mark.parametrize("raw, status", [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /v1/models/x HTTP/9\r\n\r\n", 400),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414),  # limits of rest_limits.py
    (b"GET /v1/models/x HTTP/1.1\r\n" + b"X-Big: " + b"b" * 70000 + b"\r\n\r\n", 431),
    (b"POST /v1/models/x:predict HTTP/1.1\r\nContent-Length: ten\r\n\r\n", 400),
    (b"POST /v1/models/x:predict HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    (b"GET /v1/models/x HTTP/1.1\r\nno colon here\r\n\r\n", 400),
])
def test_malformed_http_is_rejected_and_server_survives(rest: RawHttp, raw, status):
    import socket

    with socket.create_connection(("127.0.0.1", rest.port), timeout=10) as sock:
        sock.sendall(raw)
        reply = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(f"HTTP/1.1 {status} ".encode()), reply[:200]
    assert rest.post(f"/v1/models/{MODEL_NAME}:predict", b'{"instances": [0]}')[0] == 200


non_utf8 = st.binary(min_size=1, max_size=24).filter(
    lambda data: not is_proto_text(data.decode("utf-8", "surrogateescape")))


@FUZZ_SETTINGS
@given(data=non_utf8, path=st.sampled_from(["example_signature", "classify", "string_input"]))
def test_non_utf8_bytes_are_client_errors_over_rest(rest: RawHttp, data, path):
    # Issue 14 item 3: non-UTF-8 bytes used to give 500 (UnicodeDecodeError) where TF
    # Serving answers 400 / INVALID_ARGUMENT.
    import base64

    b64 = {"b64": base64.b64encode(data).decode()}
    body = {
        "example_signature": {"signature_name": "classify_labels", "instances": [b64]},
        "classify": {"signature_name": "classify_labels", "examples": [{"x": b64}]},
        "string_input": {"signature_name": "multi_io", "instances": [{"x": 1.0, "label": b64}]},
    }[path]
    verb = "classify" if path == "classify" else "predict"
    status, payload = rest.post(f"/v1/models/{MODEL_NAME}:{verb}", json.dumps(body).encode())
    _assert_client_error(status, payload)
    if path == "example_signature":
        assert status == 400 and "parse" in json.loads(payload.decode(
            "utf-8", "surrogateescape"))["error"].lower()


@FUZZ_SETTINGS
@given(data=non_utf8)
def test_non_utf8_bytes_are_client_errors_over_grpc(grpc_stubs, data):
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL_NAME
    request.model_spec.signature_name = "classify_labels"
    request.inputs["inputs"].CopyFrom(tf.make_tensor_proto([data], dtype=tf.string))
    with pytest.raises(grpc.RpcError) as raised:
        grpc_stubs[0].Predict(request, timeout=30)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()
