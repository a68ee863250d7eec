"""REST conformance: raw HTTP bodies from TF Serving's docs, compared as a client parses them.

Expected bodies follow TF Serving's ``api_rest.md`` examples and the value formatting of
``json_tensor.cc`` / ``http_rest_api_util.cc`` (TF Serving 2.16.1): parsed values and their JSON
types (``3.0`` stays a float, ``1`` an int) and error messages are exact; the layout is not
compared (the server writes compact JSON; docs/serving.md).
"""

import json

import pytest

from tests._support.serving import MODEL_NAME, RawHttp, parsed, reply

STATUS_AVAILABLE = {"model_version_status": [{"version": "123", "state": "AVAILABLE",
                                              "status": {"error_code": "OK", "error_message": ""}}]}


def error(status: int, message: str):
    return reply(status, {"error": message})


PREDICT = f"/v1/models/{MODEL_NAME}:predict"
CLASSIFY = f"/v1/models/{MODEL_NAME}:classify"
REGRESS = f"/v1/models/{MODEL_NAME}:regress"


# ----------------------------------------------------------------- status


@pytest.mark.parametrize("path", [
    f"/v1/models/{MODEL_NAME}",
    f"/v1/models/{MODEL_NAME}/versions/123",
    f"/v1/models/{MODEL_NAME}/labels/anything",  # TF Serving ignores labels for status
])
def test_model_status_doc_example(rest: RawHttp, path):
    status, headers, body = rest.request("GET", path)
    assert parsed((status, body)) == reply(200, STATUS_AVAILABLE)
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize("path, code, message", [
    (f"/v1/models/{MODEL_NAME}/versions/7", 404, f"Could not find version 7 of model {MODEL_NAME}"),
    ("/v1/models/unknown", 404, "Could not find any versions of model unknown"),
    ("/v1/models", 400, "Missing model name in request."),
])
def test_model_status_errors(rest: RawHttp, path, code, message):
    assert parsed(rest.get(path)) == error(code, message)


# ----------------------------------------------------------------- metadata


def test_metadata_layout(rest: RawHttp, half_plus_two_base):
    status, body = rest.get(f"/v1/models/{MODEL_NAME}/metadata")
    assert status == 200
    parsed = json.loads(body)
    assert parsed["model_spec"] == {"name": "half_plus_two", "signature_name": "",
                                    "version": "123"}
    signatures = parsed["metadata"]["signature_def"]["signature_def"]
    assert signatures["classify_labels"]["inputs"]["inputs"] == {
        "dtype": "DT_STRING", "tensor_shape": {"dim": [{"size": "-1", "name": ""}],
                                               "unknown_rank": False}, "name": "tf_example:0"}
    assert signatures["serving_default"]["method_name"] == "tensorflow/serving/predict"
    assert signatures["serving_default"]["inputs"]["x"] == {
        "dtype": "DT_FLOAT", "tensor_shape": {"dim": [{"size": "-1", "name": ""}],
                                              "unknown_rank": False}, "name": "x:0"}
    assert set(signatures) == {"serving_default", "multi_io", "classify_labels",
                               "classify_x_to_y", "regress_x_to_y",
                               "tensorflow/serving/classify", "tensorflow/serving/regress"}


def test_metadata_of_unknown_version(rest: RawHttp):
    assert parsed(rest.get(f"/v1/models/{MODEL_NAME}/versions/9/metadata")) == error(
        404, "Servable not found for request: Specific(half_plus_two, 9)")


# ----------------------------------------------------------------- predict


def test_predict_row_doc_example(rest: RawHttp):
    assert parsed(rest.post(PREDICT, b'{"instances": [1.0,2.0,5.0]}')) == reply(
        200, {"predictions": [2.5, 3.0, 4.5]})


def test_predict_columnar(rest: RawHttp):
    assert parsed(rest.post(PREDICT, b'{"inputs": [1.0,2.0,5.0]}')) == reply(
        200, {"outputs": [2.5, 3.0, 4.5]})


def test_predict_specific_version(rest: RawHttp):
    assert parsed(rest.post(f"/v1/models/{MODEL_NAME}/versions/123:predict",
                            b'{"instances": [0]}')) == reply(200, {"predictions": [2.0]})


def test_predict_not_found_doc_example(rest: RawHttp):
    status, headers, body = rest.request("POST", "/v1/models/half:predict",
                                         b'{"instances": [1.0,5.0]}')
    assert status == 404
    assert headers["content-type"] == "application/json"
    assert parsed((status, body)) == error(404, "Servable not found for request: Latest(half)")


def test_predict_rows_of_objects_with_binary(rest: RawHttp):
    body = (b'{"signature_name": "multi_io", "instances": '
            b'[{"x": 1.0, "label": {"b64": "aGk="}}, {"x": 2.0, "label": "b"}]}')
    assert parsed(rest.post(PREDICT, body)) == reply(200, {"predictions": [
        {"label_bytes": {"b64": "aGk="}, "x_int": 1, "y": 2.5},
        {"label_bytes": {"b64": "Yg=="}, "x_int": 2, "y": 3.0}]})


def test_predict_columnar_named_outputs(rest: RawHttp):
    body = b'{"signature_name": "multi_io", "inputs": {"x": [1.5], "label": ["a"]}}'
    assert parsed(rest.post(PREDICT, body)) == reply(200, {"outputs": {
        "label_bytes": [{"b64": "YQ=="}], "x_int": [1], "y": [2.75]}})


PREDICT_ERRORS = [
    (b'{"instances": ["a"]}', 400,
     "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: "
     '"a" Type: String is not of expected type: float'),
    (b'{"instances": [true]}', 400,
     "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: "
     "true Type: True is not of expected type: float"),
    (b'{"instances": [1.0], "inputs": [1.0]}', 400,
     'JSON Value: {\n    "instances": [1.0],\n    "inputs": [1.0]\n} Not formatted correctly '
     "expecting only one of 'inputs' or 'instances' keys to exist "),
    (b'{"instances": []}', 400,
     "JSON Value: {\n    \"instances\": []\n} No values in 'instances' array"),
    (b'{"instances": 1.0}', 400,
     "JSON Value: {\n    \"instances\": 1.0\n} Expecting 'instances' to be an list/array"),
    (b"{}", 400, "Missing 'inputs' or 'instances' key"),
    (b'{"signature_name": 1, "instances": [1.0]}', 400,
     'JSON Value: {\n    "signature_name": 1,\n    "instances": [1.0]\n} not formatted '
     "correctly. 'signature_name' key must be a string value."),
    (b'{"signature_name": "nope", "instances": [1.0]}', 400,
     'Serving signature name: "nope" not found in signature def'),
    (b"[1.0]", 400, "JSON Value: [1.0] Is not object"),
    (b'{"instances": [1.0,5.0', 400, "JSON Parse error: Expecting ',' delimiter at offset: 22"),
    (b"", 400, "JSON Parse error: The document is empty"),
    (b'{"signature_name": "multi_io", "instances": [1.0]}', 400,
     "instances is a plain list, but expecting list of objects as multiple input tensors "
     "required as per tensorinfo_map"),
    (b'{"signature_name": "multi_io", "instances": [{"x": 1.0}]}', 400,
     "Failed to process element: 0 of 'instances' list. JSON object: {\n    \"x\": 1.0\n} keys "
     "must be equal to: label,x"),
    (b'{"signature_name": "multi_io", "instances": [{"x": 1.0, "label": "a", "z": 1}]}', 400,
     "Failed to process element: 0 key: z of 'instances' list. Error: INVALID_ARGUMENT: JSON "
     "object: does not have named input: z"),
    (b'{"signature_name": "multi_io", "instances": [{"x": 1.0, "label": "a"}, '
     b'{"x": [1.0], "label": "b"}]}', 400,
     "Failed to process element: 1 key: x of 'instances' list. Error: INVALID_ARGUMENT: "
     "Expecting shape [] but got: [1]"),
    (b'{"signature_name": "multi_io", "inputs": {"x": [[1.0], [2.0, 3.0]], "label": ["a"]}}', 400,
     "Encountered list at unexpected size: 2 at level: 1 expected size: 1"),
    (b'{"signature_name": "multi_io", "inputs": {"x": [1.0]}}', 400,
     "Missing named input: label in 'inputs' object."),
    (b'{"signature_name": "multi_io", "inputs": [1.0]}', 400,
     "inputs is a plain value/list, but expecting an object as multiple input tensors required "
     "as per tensorinfo_map"),
    (b'{"signature_name": "multi_io", "inputs": {"x": [1.0], "label": [{"b64": "!!"}]}}', 400,
     "Unable to base64 decode"),
    (b'{"signature_name": "multi_io", "inputs": {"x": [1.0], "label": [{"b": "AA=="}]}}', 400,
     'JSON Value: {\n    "b": "AA=="\n} not formatted correctly for base64 data'),
    (b'{"inputs": [[1.0], 2.0]}', 400,
     "JSON Value: 2.0 found at incorrect level: 2 in the JSON DOM. Expected at level: 2"),
]


@pytest.mark.parametrize("body, code, message", PREDICT_ERRORS)
def test_predict_errors(rest: RawHttp, body, code, message):
    assert parsed(rest.post(PREDICT, body)) == error(code, message)


def _nested(depth: int, leaf: bytes = b"1.0") -> bytes:
    return b"[" * depth + leaf + b"]" * depth


RANK_LIMIT = "at most 32 are supported (numpy's limit, which TensorFlow's session feeds share)"


@pytest.mark.parametrize("body, message", [
    # Issue 24: these were 500 "maximum supported dimension for an ndarray is 32".
    (b'{"instances": [' + _nested(32) + b"]}",
     "An input with its batch dimension has 33 dimensions; " + RANK_LIMIT),
    (b'{"instances": [' + _nested(33) + b"]}", "Failed to process element: 0 of 'instances' "
     "list. Error: INVALID_ARGUMENT: A JSON tensor has 33 dimensions; " + RANK_LIMIT),
    (b'{"instances": [' + _nested(200, b"") + b"]}", "Failed to process element: 0 of "
     "'instances' list. Error: INVALID_ARGUMENT: A JSON tensor has 200 dimensions; " + RANK_LIMIT),
    (b'{"inputs": ' + _nested(33) + b"}", "A JSON tensor has 33 dimensions; " + RANK_LIMIT),
    (b'{"inputs": {"x": ' + _nested(40) + b"}}", "A JSON tensor has 40 dimensions; " + RANK_LIMIT),
])
def test_tensors_of_more_dimensions_than_numpy_holds_are_400(rest: RawHttp, body, message):
    assert parsed(rest.post(PREDICT, body)) == error(400, message)


# ----------------------------------------------------------------- classify / regress


def test_regress_doc_example(rest: RawHttp):
    body = (b'{"signature_name": "tensorflow/serving/regress", '
            b'"examples": [{"x": 1.0}, {"x": 2.0}]}')
    assert parsed(rest.post(REGRESS, body)) == reply(200, {"results": [2.5, 3.0]})


def test_regress_with_context(rest: RawHttp):
    body = b'{"signature_name": "regress_x_to_y", "context": {"x": 1.0}, "examples": [{}, {}]}'
    assert parsed(rest.post(REGRESS, body)) == reply(200, {"results": [2.5, 2.5]})


def test_classify_scores_only_and_with_labels(rest: RawHttp):
    body = b'{"signature_name": "tensorflow/serving/classify", "examples": [{"x": 1.0}, {"x": 4.0}]}'
    assert parsed(rest.post(CLASSIFY, body)) == reply(200, {"results": [[["", 2.5]], [["", 4.0]]]})
    body = b'{"signature_name": "classify_labels", "examples": [{"x": [3.0]}]}'
    assert parsed(rest.post(CLASSIFY, body)) == reply(200, {"results": [[["half_plus_two", 3.5]]]})


CLASSIFY_ERRORS = [
    (CLASSIFY, b'{"signature_name": "tensorflow/serving/classify"}', 400,
     'JSON Value: {\n    "signature_name": "tensorflow/serving/classify"\n} When method is '
     "classify, key 'examples' is expected and was not found"),
    (REGRESS, b'{"examples": {}}', 400,
     "JSON Value: {\n    \"examples\": {}\n} Expecting 'examples' value to be an list/array"),
    (REGRESS, b'{"examples": []}', 400,
     "JSON Value: {\n    \"examples\": []\n} 'examples' value is an empty array"),
    (REGRESS, b'{"examples": [1]}', 400, "Example must be JSON object but got JSON Number"),
    (REGRESS, b'{"signature_name": "regress_x_to_y", "examples": [{"x": [1.0, "a"]}]}', 400,
     "Unexpected element type in feature: x expecting type: float"),
    (REGRESS, b'{"examples": [{"x": null}]}', 400,
     "Feature: x has element with unexpected JSON type: Null"),
    (REGRESS, b'{"examples": [{"x": [[1]]}]}', 400,
     "Feature: x has element with unexpected JSON type: Array"),
    (REGRESS, b'{"examples": [{"x": 18446744073709551615}]}', 400,
     "Feature: x has uint64_t element. Only int64_t is supported."),
    (CLASSIFY, b'{"signature_name": "multi_io", "examples": [{"x": 1.0}]}', 400,
     "Expected one input Tensor."),
    (CLASSIFY, b'{"signature_name": "nope", "examples": [{"x": 1.0}]}', 400,
     "No signature was found with the name: nope"),
    (f"/v1/models/{MODEL_NAME}/labels/stable:regress", b'{"examples": [{"x": 1.0}]}', 400,
     "Unrecognized servable version label: stable"),
    ("/v1/models/nope:classify", b'{"examples": [{"x": 1.0}]}', 404,
     "Servable not found for request: Latest(nope)"),
]


@pytest.mark.parametrize("path, body, code, message", CLASSIFY_ERRORS)
def test_classify_regress_errors(rest: RawHttp, path, body, code, message):
    assert parsed(rest.post(path, body)) == error(code, message)


def test_missing_feature_is_the_tensorflow_error(rest: RawHttp):
    status, body = rest.post(REGRESS, b'{"signature_name": "regress_x_to_y", '
                                      b'"examples": [{"y": 1.0}]}')
    assert parsed((status, body)) == error(400, (
        "Name: <unknown>, Feature: x (data type: float) is required but could not be found.\n"
        "\t [[{{node ParseExample/ParseExampleV2}}]]"))


def test_int_feature_for_float_column_is_the_tensorflow_error(rest: RawHttp):
    status, body = rest.post(REGRESS, b'{"signature_name": "regress_x_to_y", '
                                      b'"examples": [{"x": 4}]}')
    assert status == 400
    assert "Data types don't match" in json.loads(body)["error"]
