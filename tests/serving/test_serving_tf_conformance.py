"""Conformance on TF Serving's own test model and tests (TF Serving 2.16.1).

The model is ``saved_model_half_plus_two_cpu/00000123`` shipped unchanged in
``tests/serving/testdata`` (see its README). Each case names the TF Serving
test or source it comes from.
"""

import json
import os
import shutil

import grpc
import pytest

from tests._support.serving import Deferred, RawHttp

tf = Deferred("tensorflow")
get_model_status_pb2 = Deferred("tensorflow_serving.apis.get_model_status_pb2")
model_service_pb2_grpc = Deferred("tensorflow_serving.apis.model_service_pb2_grpc")
predict_pb2 = Deferred("tensorflow_serving.apis.predict_pb2")
prediction_service_pb2_grpc = Deferred("tensorflow_serving.apis.prediction_service_pb2_grpc")
regression_pb2 = Deferred("tensorflow_serving.apis.regression_pb2")

TESTDATA = os.path.join(os.path.dirname(__file__), "testdata", "saved_model_half_plus_two_cpu")


@pytest.fixture(scope="module")
def tf_model(tmp_path_factory):
    """TF Serving's half_plus_two as model "default", with metrics and a UNIX socket."""
    from tfx_kfp.serving import server

    base = tmp_path_factory.mktemp("tfs") / "half_plus_two"
    shutil.copytree(TESTDATA, base)
    socket_path = str(tmp_path_factory.mktemp("uds") / "grpc.sock")
    with server.start("default", str(base), rest_port=0, grpc_port=0,
                      grpc_socket_path=socket_path,
                      metrics_path="/monitoring/prometheus/metrics") as handle:
        handle.wait_until_available(120)
        handle.socket_path = socket_path
        yield handle


def _post(handle, path, doc):
    status, body = RawHttp(handle.rest_port).post(path, json.dumps(doc).encode())
    return status, json.loads(body)


def test_docker_tutorial_predict_over_rest(tf_model):
    # TF Serving's Docker tutorial (docker.md): the signature declares x as [-1,1]; the
    # request feeds [3]; Session::Run does not enforce the declared shape.
    assert _post(tf_model, "/v1/models/default:predict", {"instances": [1.0, 2.0, 5.0]}) == (
        200, {"predictions": [2.5, 3.0, 4.5]})


def test_predict_rest_and_columnar(tf_model):
    # tensorflow_model_server_test.py: testPredictREST, testPredictColumnarREST.
    assert _post(tf_model, "/v1/models/default:predict", {"instances": [2.0, 3.0, 4.0]}) == (
        200, {"predictions": [3.0, 3.5, 4.0]})
    assert _post(tf_model, "/v1/models/default:predict", {"inputs": [2.0, 3.0, 4.0]}) == (
        200, {"outputs": [3.0, 3.5, 4.0]})


def test_classify_and_regress_rest(tf_model):
    # tensorflow_model_server_test.py: testClassifyREST, testRegressREST.
    assert _post(tf_model, "/v1/models/default:classify",
                 {"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}]}) == (
        200, {"results": [[["", 3.0]]]})
    assert _post(tf_model, "/v1/models/default:regress",
                 {"signature_name": "regress_x_to_y", "examples": [{"x": 2.0}]}) == (
        200, {"results": [3.0]})


def _predict_request(values):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "default"
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(values, dtype=tf.float32))
    return request


@pytest.mark.parametrize("target", ["tcp", "unix"])
def test_predict_grpc_tcp_and_unix_socket(tf_model, target):
    # tensorflow_model_server_test.py: testPredictSavedModel (VerifyPredictRequest), testPredictUDS.
    address = (f"127.0.0.1:{tf_model.grpc_port}" if target == "tcp"
               else f"unix:{tf_model.socket_path}")
    with grpc.insecure_channel(address) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        result = stub.Predict(_predict_request([2.0]), 30)
        assert list(result.outputs["y"].float_val) == [3.0]
        assert result.model_spec.version.value == 123
        tutorial = stub.Predict(_predict_request([1.0, 2.0, 5.0]), 30)
        assert list(tutorial.outputs["y"].float_val) == [2.5, 3.0, 4.5]


def test_regress_grpc(tf_model):
    # tensorflow_model_server_test.py: _TestRegress.
    request = regression_pb2.RegressionRequest()
    request.model_spec.name = "default"
    request.model_spec.signature_name = "regress_x_to_y"
    request.input.example_list.examples.add().features.feature["x"].float_list.value.append(2.0)
    with grpc.insecure_channel(f"127.0.0.1:{tf_model.grpc_port}") as channel:
        result = prediction_service_pb2_grpc.PredictionServiceStub(channel).Regress(request, 30)
    assert [r.value for r in result.result.regressions] == [3.0]
    assert (result.model_spec.signature_name, result.model_spec.version.value) == (
        "regress_x_to_y", 123)


def test_status_rest_and_grpc(tf_model):
    # tensorflow_model_server_test.py: testGetStatusREST, testGetModelStatus.
    status, body = RawHttp(tf_model.rest_port).get("/v1/models/default")
    assert (status, json.loads(body)) == (200, {"model_version_status": [
        {"version": "123", "state": "AVAILABLE",
         "status": {"error_code": "OK", "error_message": ""}}]})
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "default"
    with grpc.insecure_channel(f"127.0.0.1:{tf_model.grpc_port}") as channel:
        result = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(request, 30)
    assert [(s.version, s.state) for s in result.model_version_status] == [(123, 30)]


def test_prometheus_endpoint_after_requests(tf_model):
    # tensorflow_model_server_test.py: testPrometheusEndpoint; metric names from
    # servables/tensorflow/util.cc through util/prometheus_exporter.cc.
    for _ in range(3):
        _post(tf_model, "/v1/models/default:predict", {"instances": [1.0]})
    _post(tf_model, "/v1/models/default:predict", {"instances": ["not a number"]})
    status, _, body = RawHttp(tf_model.rest_port).request("GET", "/monitoring/prometheus/metrics")
    assert status == 200
    text = body.decode()
    assert "# TYPE" in text
    counts = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
              if line.startswith(":tensorflow:serving:request_count{")}
    assert counts[':tensorflow:serving:request_count{model_name="default",status="OK"}'] >= 3
    assert counts[
        ':tensorflow:serving:request_count{model_name="default",status="INVALID_ARGUMENT"}'] >= 1
    assert ('tensorflow:serving:request_latency_count{API="Predict",entrypoint="REST",'
            'model_name="default"}') in text


def test_grpc_health_service(tf_model):
    # main.cc --enable_grpc_healthcheck_service: the standard grpc.health.v1 service.
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{tf_model.grpc_port}") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), 30)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
