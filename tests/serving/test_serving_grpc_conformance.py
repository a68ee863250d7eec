"""gRPC conformance with the official ``tensorflow_serving.apis`` stubs: exact protos and errors."""

import os

import grpc
import pytest
from google.protobuf import text_format

from tests._support.serving import Deferred, MODEL_NAME

tf = Deferred("tensorflow")
classification_pb2 = Deferred("tensorflow_serving.apis.classification_pb2")
get_model_metadata_pb2 = Deferred("tensorflow_serving.apis.get_model_metadata_pb2")
get_model_status_pb2 = Deferred("tensorflow_serving.apis.get_model_status_pb2")
inference_pb2 = Deferred("tensorflow_serving.apis.inference_pb2")
model_management_pb2 = Deferred("tensorflow_serving.apis.model_management_pb2")
predict_pb2 = Deferred("tensorflow_serving.apis.predict_pb2")
regression_pb2 = Deferred("tensorflow_serving.apis.regression_pb2")


def parse(message_type, text):
    return text_format.Parse(text, message_type())


def example(x):
    proto = tf.train.Example()
    if x is not None:
        proto.features.feature["x"].float_list.value.append(x)
    return proto


def predict_request(signature="", **inputs):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL_NAME
    if signature:
        request.model_spec.signature_name = signature
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(value)
    return request


def rpc_error(call, request):
    with pytest.raises(grpc.RpcError) as raised:
        call(request, timeout=30)
    return raised.value.code(), raised.value.details()


# ------------------------------------------------------------------ Predict


def test_predict_exact_response(grpc_stubs):
    prediction, _ = grpc_stubs
    request = predict_request(x=tf.make_tensor_proto([1.0, 2.0, 5.0], dtype=tf.float32))
    response = prediction.Predict(request, timeout=30)
    assert response == parse(predict_pb2.PredictResponse, """
        model_spec { name: "half_plus_two" version { value: 123 } signature_name: "serving_default" }
        outputs { key: "y" value {
            dtype: DT_FLOAT tensor_shape { dim { size: 3 } } float_val: [2.5, 3.0, 4.5] } }
    """)


def test_predict_typed_values_short_list_is_padded_like_tensorflow(grpc_stubs):
    prediction, _ = grpc_stubs
    x = parse(type(tf.make_tensor_proto([0.0])),
              "dtype: DT_FLOAT tensor_shape { dim { size: 3 } } float_val: [1.0, 2.0]")
    response = prediction.Predict(predict_request(x=x), timeout=30)
    assert list(response.outputs["y"].float_val) == [2.5, 3.0, 3.0]


def test_predict_output_filter_and_strings(grpc_stubs):
    prediction, _ = grpc_stubs
    request = predict_request(
        "multi_io", x=tf.make_tensor_proto([1.0, 2.0]),
        label=tf.make_tensor_proto([b"a", b"\x00\xff"]))
    request.output_filter.extend(["label_bytes", "x_int"])
    response = prediction.Predict(request, timeout=30)
    assert response == parse(predict_pb2.PredictResponse, r"""
        model_spec { name: "half_plus_two" version { value: 123 } signature_name: "multi_io" }
        outputs { key: "label_bytes" value {
            dtype: DT_STRING tensor_shape { dim { size: 2 } } string_val: ["a", "\000\377"] } }
        outputs { key: "x_int" value {
            dtype: DT_INT32 tensor_shape { dim { size: 2 } } int_val: [1, 2] } }
    """)


PREDICT_ERRORS = [  # (PredictRequest in text format, code, message)
    ("", grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec"),
    ('model_spec { name: "" }', grpc.StatusCode.INVALID_ARGUMENT,
     "ModelSpec has no name specified."),
    ('model_spec { name: "nope" }',
     grpc.StatusCode.NOT_FOUND, "Servable not found for request: Latest(nope)"),
    ('model_spec { name: "half_plus_two" version { value: 7 } }',
     grpc.StatusCode.NOT_FOUND, "Servable not found for request: Specific(half_plus_two, 7)"),
    ('model_spec { name: "half_plus_two" version_label: "canary" }',
     grpc.StatusCode.INVALID_ARGUMENT, "Unrecognized servable version label: canary"),
    ('model_spec { name: "half_plus_two" signature_name: "nope" }',
     grpc.StatusCode.FAILED_PRECONDITION, 'Serving signature key "nope" not found.'),
]


@pytest.mark.parametrize("request_text, code, message", PREDICT_ERRORS)
def test_predict_lookup_errors(grpc_stubs, request_text, code, message):
    request_proto = parse(predict_pb2.PredictRequest, request_text)
    assert rpc_error(grpc_stubs[0].Predict, request_proto) == (code, message)


def test_predict_input_errors(grpc_stubs):
    prediction, _ = grpc_stubs
    float_x = tf.make_tensor_proto([1.0], dtype=tf.float32)
    cases = [
        (predict_request(x=tf.make_tensor_proto([1.0], dtype=tf.float64)),
         "Expects arg[0] to be float but double is provided"),
        (predict_request(x=float_x, z=float_x),
         "input size does not match signature: 2!=1 len({x,z}) != len({x}). Sent extra: {z}. "
         "Missing but required: {}."),
        (predict_request(z=float_x),
         "Signature input alias: x(feed name: x:0) not found in request and no default value "
         "provided. Inputs expected to be in the request {z}, or default input alias set: "),
        (predict_request(x=parse(type(float_x), "dtype: DT_FLOAT tensor_shape { dim { size: 2 } }"
                                                " tensor_content: 'abc'")),
         "tensor parsing error: x"),
        (predict_request(x=parse(type(float_x), "dtype: DT_FLOAT tensor_shape { dim { size: -1 } }")),
         "tensor parsing error: x"),
    ]
    for request, message in cases:
        assert rpc_error(prediction.Predict, request) == (grpc.StatusCode.INVALID_ARGUMENT,
                                                          message)
    # No shape check: Session::Run does not enforce the signature's declared shape.
    result = prediction.Predict(predict_request(x=tf.make_tensor_proto([[1.0]], dtype=tf.float32)),
                                timeout=30)
    assert [d.size for d in result.outputs["y"].tensor_shape.dim] == [1, 1]
    request = predict_request(x=float_x)
    request.output_filter.append("nope")
    assert rpc_error(prediction.Predict, request) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "output tensor alias not found in signature: nope Outputs expected to be in the set {y}.")
    request.output_filter[:] = ["y", "y"]
    assert rpc_error(prediction.Predict, request) == (
        grpc.StatusCode.INVALID_ARGUMENT, "duplicate output tensor alias: y")


def test_long_error_messages_are_truncated_like_tf_serving(grpc_stubs):
    request = predict_request("s" * 2000)
    code, details = rpc_error(grpc_stubs[0].Predict, request)
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert details == ('Serving signature key "' + "s" * 2000)[:1024] + "...TRUNCATED"


# ------------------------------------------------------------------ Classify / Regress


def test_classify_exact_response(grpc_stubs):
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = MODEL_NAME
    request.model_spec.signature_name = "classify_labels"
    request.input.example_list.examples.extend([example(1.0), example(3.0)])
    response = grpc_stubs[0].Classify(request, timeout=30)
    assert response == parse(classification_pb2.ClassificationResponse, """
        model_spec { name: "half_plus_two" version { value: 123 } signature_name: "classify_labels" }
        result {
          classifications { classes { label: "half_plus_two" score: 2.5 } }
          classifications { classes { label: "half_plus_two" score: 3.5 } }
        }
    """)


def test_regress_with_context_and_default_signature_spec(grpc_stubs):
    request = regression_pb2.RegressionRequest()
    request.model_spec.name = MODEL_NAME
    request.model_spec.signature_name = "tensorflow/serving/regress"
    request.input.example_list_with_context.context.CopyFrom(example(2.0))
    request.input.example_list_with_context.examples.extend([example(None), example(None)])
    response = grpc_stubs[0].Regress(request, timeout=30)
    assert response == parse(regression_pb2.RegressionResponse, """
        model_spec { name: "half_plus_two" version { value: 123 }
                     signature_name: "tensorflow/serving/regress" }
        result { regressions { value: 3.0 } regressions { value: 3.0 } }
    """)


def test_classify_and_regress_errors(grpc_stubs):
    prediction, _ = grpc_stubs
    empty = regression_pb2.RegressionRequest()
    empty.model_spec.name = MODEL_NAME
    empty.model_spec.signature_name = "regress_x_to_y"
    assert rpc_error(prediction.Regress, empty) == (grpc.StatusCode.INVALID_ARGUMENT,
                                                    "Input is empty.")
    wrong = classification_pb2.ClassificationRequest()
    wrong.model_spec.name = MODEL_NAME
    wrong.input.example_list.examples.add().CopyFrom(example(1.0))
    code, details = rpc_error(prediction.Classify, wrong)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert details == "No classification inputs found in SignatureDef: " + text_format.MessageToString(
        _signature("serving_default"))
    assert rpc_error(prediction.Classify, classification_pb2.ClassificationRequest()) == (
        grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec")


def _signature(name):
    from tensorflow.core.protobuf import saved_model_pb2

    path = os.path.join(os.environ["HPT_MODEL_DIR"], "saved_model.pb")
    with open(path, "rb") as handle:
        saved_model = saved_model_pb2.SavedModel.FromString(handle.read())
    return saved_model.meta_graphs[0].signature_def[name]


@pytest.fixture(autouse=True)
def _model_dir(half_plus_two_base, monkeypatch):
    monkeypatch.setenv("HPT_MODEL_DIR", os.path.join(half_plus_two_base, "123"))


def test_multi_inference(grpc_stubs):
    request = inference_pb2.MultiInferenceRequest()
    for signature, method in (("classify_x_to_y", "tensorflow/serving/classify"),
                              ("regress_x_to_y", "tensorflow/serving/regress")):
        task = request.tasks.add()
        task.model_spec.name = MODEL_NAME
        task.model_spec.signature_name = signature
        task.method_name = method
    request.input.example_list.examples.extend([example(2.0)])
    response = grpc_stubs[0].MultiInference(request, timeout=30)
    assert response == parse(inference_pb2.MultiInferenceResponse, """
        results {
          model_spec { name: "half_plus_two" version { value: 123 } signature_name: "classify_x_to_y" }
          classification_result { classifications { classes { score: 3.0 } } }
        }
        results {
          model_spec { name: "half_plus_two" version { value: 123 } signature_name: "regress_x_to_y" }
          regression_result { regressions { value: 3.0 } }
        }
    """)
    request.tasks[1].method_name = "tensorflow/serving/predict"
    assert rpc_error(grpc_stubs[0].MultiInference, request) == (
        grpc.StatusCode.UNIMPLEMENTED,
        "Unsupported signature method_name: tensorflow/serving/predict")


# ------------------------------------------------------------------ metadata / status


def test_get_model_metadata(grpc_stubs):
    request = get_model_metadata_pb2.GetModelMetadataRequest()
    request.model_spec.name = MODEL_NAME
    request.metadata_field.append("signature_def")
    response = grpc_stubs[0].GetModelMetadata(request, timeout=30)
    assert response.model_spec == parse(type(response.model_spec),
                                         'name: "half_plus_two" version { value: 123 }')
    signatures = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(signatures)
    assert signatures.signature_def["serving_default"] == _signature("serving_default")
    assert len(signatures.signature_def) == 7
    request.metadata_field[:] = []
    assert rpc_error(grpc_stubs[0].GetModelMetadata, request) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "GetModelMetadataRequest must specify at least one metadata_field")
    request.metadata_field.append("graph")
    assert rpc_error(grpc_stubs[0].GetModelMetadata, request) == (
        grpc.StatusCode.INVALID_ARGUMENT, "Metadata field graph is not supported")


def test_get_model_status(grpc_stubs):
    _, model_service = grpc_stubs
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = MODEL_NAME
    response = model_service.GetModelStatus(request, timeout=30)
    assert response == parse(get_model_status_pb2.GetModelStatusResponse, """
        model_version_status { version: 123 state: AVAILABLE status {} }
    """)
    request.model_spec.name = "nope"
    assert rpc_error(model_service.GetModelStatus, request) == (
        grpc.StatusCode.NOT_FOUND, "Could not find any versions of model nope")
    assert rpc_error(model_service.GetModelStatus, get_model_status_pb2.GetModelStatusRequest()) \
        == (grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec")


def test_reload_config_rejects_bad_platforms(grpc_stubs):
    _, model_service = grpc_stubs
    request = model_management_pb2.ReloadConfigRequest()
    entry = request.config.model_config_list.config.add()
    entry.name, entry.base_path, entry.model_platform = "m", "/tmp/none", "pytorch"
    # model_service_impl.cc: the RPC fails with ReloadConfig's status (ToGRPCStatus).
    assert rpc_error(model_service.HandleReloadConfigRequest, request) == (
        grpc.StatusCode.INVALID_ARGUMENT, "Model m requests unsupported platform pytorch")


@pytest.mark.parametrize("dims", [[1] * 33, [1] * 40 + [0], [2] * 33, [1] * 300])
def test_tensors_of_more_dimensions_than_numpy_holds_are_invalid_argument(grpc_stubs, dims):
    # Issue 24: rank 33 was UNKNOWN ("maximum supported dimension for an ndarray is 32").
    shape = " ".join(f"dim {{ size: {size} }}" for size in dims)
    tensor = parse(type(tf.make_tensor_proto([1.0])),
                   f"dtype: DT_FLOAT tensor_shape {{ {shape} }} float_val: 1.0")
    code, message = rpc_error(grpc_stubs[0].Predict, predict_request(x=tensor))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert message == (f"tensor parsing error: x: the tensor has {len(dims)} dimensions; at "
                       "most 32 are supported (numpy's limit, which TensorFlow's session feeds "
                       "share)")


def test_a_short_value_list_is_not_padded_to_a_huge_shape(grpc_stubs):
    tensor = parse(type(tf.make_tensor_proto([1.0])), "dtype: DT_FLOAT tensor_shape { "
                   "dim { size: 1000000 } dim { size: 1000000 } } float_val: 1.0")
    assert rpc_error(grpc_stubs[0].Predict, predict_request(x=tensor)) == (
        grpc.StatusCode.INVALID_ARGUMENT, "tensor parsing error: x")

