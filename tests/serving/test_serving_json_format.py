"""Unit tests of the JSON rules a client sees once parsed (no TensorFlow, no server).

Number texts follow TF Serving's ``WriteDecimal`` (util/json_tensor.cc, 2.16.1): a float32
written with six digits parses to another value than the float32's shortest repr, so the
digits are kept; the layout (indentation, line breaks) is not emulated.
"""

import json
import math

import numpy as np
import pytest

from tfx_kfp.serving.protocol.errors import InvalidArgument
from tfx_kfp.serving.protocol.json_codec import (
    debug_string, format_float32, format_float64, format_rapidjson_double, parse_json,
    parse_json_object,
)
from tfx_kfp.serving.protocol.rest_response import (
    classify_body, error_body, predict_response_json, regress_body,
)


@pytest.mark.parametrize("value, text", [
    (2.5, "2.5"), (3.0, "3.0"), (0.0, "0.0"), (-0.0, "-0.0"), (9000000.0, "9e+06"),
    (3e-05, "3e-05"), (0.1, "0.1"), (1.0 / 3.0, "0.333333343"), (100000.0, "100000.0"),
    (float("nan"), "NaN"), (float("inf"), "Infinity"), (float("-inf"), "-Infinity"),
])
def test_float32_decimal_like_tf_serving(value, text):
    import struct

    as_float32 = struct.unpack("f", struct.pack("f", value))[0] if math.isfinite(value) else value
    assert format_float32(as_float32) == text


def test_float64_falls_back_to_17_digits():
    assert format_float64(0.1) == "0.1"
    assert format_float64(1.0 / 3.0) == "0.33333333333333331"
    assert format_float64(12.0) == "12.0"


@pytest.mark.parametrize("value, text", [
    (1.0, "1.0"), (2.5, "2.5"), (1e21, "1e21"), (1.5e-7, "1.5e-7"), (0.001, "0.001"),
    (123456.0, "123456.0"), (-0.5, "-0.5"), (1e22, "1e22"), (12345678901234567890.0,
                                                            "12345678901234567000.0"),
])
def test_rapidjson_double_format(value, text):
    assert format_rapidjson_double(value) == text


def test_debug_string_single_line_arrays_and_pretty_objects():
    assert debug_string([1, 2.5, "a", True, None]) == '[1, 2.5, "a", true, null]'
    assert debug_string({"b64": "AA=="}) == '{\n    "b64": "AA=="\n}'
    assert debug_string([{"a": [1]}]) == '[{\n        "a": [1]\n    }]'


def test_debug_string_truncates_near_256_bytes():
    text = debug_string(list(range(1000)))
    assert 256 <= len(text) < 270
    assert text.startswith("[0, 1, 2")


def test_debug_string_stops_at_nan_like_rapidjson():
    assert debug_string([1.0, float("nan"), 2.0]) == "[1.0, "


def test_error_body_escaping_round_trips():
    assert json.loads(error_body('bad "x"\n\x01')) == {"error": 'bad "x"\n\x01'}


def test_regress_and_classify_bodies_keep_float32_digits():
    assert json.loads(regress_body([3.5, 4.0, float(np.float32(1 / 3))])) == {
        "results": [3.5, 4.0, 0.333333343]}
    assert json.loads(classify_body([[("a", 0.25), (b"b", 0.75)], [("", 1.0)]])) == {
        "results": [[["a", 0.25], ["b", 0.75]], [["", 1.0]]]}


def test_predict_values_as_tf_serving_writes_them():
    third = np.float32(1 / 3)
    body = predict_response_json({
        "f": np.array([third, 3.0, np.nan, np.inf], np.float32),
        "d": np.array([1 / 3, 12.0, -np.inf, 0.1], np.float64),
        "i": np.array([1, -2, 2**62, 0], np.int64),
        "s": np.array([b"\xff", b"a", b"", b"q"], object),
        "x_bytes": np.array([b"hi", b"", b"\x00", b"b"], object),
    }, "row")
    assert b'"f":NaN' in body and b"Infinity" in body and b"\xff" in body  # as TF Serving sends
    rows = parse_json(body)["predictions"]
    assert [r["f"] for r in rows[:2]] == [0.333333343, 3.0]  # not float(third): 0.3333333432674408
    assert type(rows[1]["f"]) is float and type(rows[0]["i"]) is int and rows[2]["i"] == 2**62
    assert math.isnan(rows[2]["f"]) and rows[3]["f"] == math.inf and rows[2]["d"] == -math.inf
    assert [r["d"] for r in (rows[0], rows[1], rows[3])] == [0.3333333333333333, 12.0, 0.1]
    assert rows[0]["s"].encode("utf-8", "surrogateescape") == b"\xff"  # raw bytes pass through
    assert [r["x_bytes"] for r in rows[:2]] == [{"b64": "aGk="}, {"b64": ""}]
    columns = json.loads(predict_response_json({"y": np.array([[1.0, 2.5]], np.float32)},
                                                "columnar"))
    assert json.dumps(columns) == '{"outputs": [[1.0, 2.5]]}'


@pytest.mark.parametrize("outputs, message", [
    ({}, "Cannot convert empty tensor map to JSON"),
    ({"a": np.float32(1)}, "Tensor name: a has no shape information "),
    ({"a": np.zeros(2), "b": np.zeros(3)}, "Tensor name: b has inconsistent batch size: 3 "
                                           "expecting: 2"),
    ({"a": np.zeros(2, np.complex64)}, "Failed to write JSON value for tensor type: complex64"),
])
def test_predict_rendering_errors(outputs, message):
    outputs = {k: np.asarray(v) for k, v in outputs.items()}
    with pytest.raises(InvalidArgument) as raised:
        predict_response_json(outputs, "row")
    assert raised.value.message == message


# ------------------------------------------------------------------ parsing


@pytest.mark.parametrize("body, offset", [
    (b'{"instances": [1.0,5.0', 22),
    (b'{"a" 1}', 5),
    (b"{a: 1}", 1),
    (b'{"a": [1,]}', 9),
    (b'{"a": tru}', 6),
    (b'{"a": "x', 6),
    (b'{"\xc3\xa9": tru}', 7),  # offsets count bytes, as rapidjson's do
])
def test_parse_errors_name_the_byte_offset(body, offset):
    # The reason is Python's wording (no client depends on rapidjson's); the form is
    # TF Serving's "JSON Parse error: <reason> at offset: <byte>" with HTTP 400.
    with pytest.raises(InvalidArgument) as raised:
        parse_json(body)
    assert raised.value.message.startswith("JSON Parse error: ")
    assert raised.value.message.endswith(f" at offset: {offset}")
    assert raised.value.http_status == 400


@pytest.mark.parametrize("body", [b"", b"   ", b"\xef\xbb\xbf "])
def test_empty_documents(body):
    with pytest.raises(InvalidArgument, match="^JSON Parse error: The document is empty$"):
        parse_json(body)


def test_parse_accepts_what_rapidjson_accepts():
    assert parse_json(b'{"a": [NaN, Infinity, -Infinity]}')["a"][1:] == [math.inf, -math.inf]
    assert parse_json(b'\xef\xbb\xbf {"a": 1} trailing garbage') == {"a": 1}
    raw = parse_json(b'{"s": "\xff\xfe"}')["s"]
    assert raw.encode("utf-8", "surrogateescape") == b"\xff\xfe"
    assert parse_json(b'{"e": "\\ud83d\\ude00"}')["e"] == "\U0001F600"


def test_parse_object_required():
    with pytest.raises(InvalidArgument) as raised:
        parse_json_object(b"[1, 2]")
    assert raised.value.message == "JSON Value: [1, 2] Is not object"


def test_deep_nesting_is_an_error_not_a_crash():
    body = b'{"instances": ' + b"[" * 100000 + b"]" * 100000 + b"}"
    with pytest.raises(InvalidArgument, match="JSON Parse error: "):
        parse_json(body)


# ------------------------------------------------------------------ base64


@pytest.mark.parametrize("text, decoded", [
    ("QUJD", b"ABC"), ("QUI=", b"AB"), ("QUI", b"AB"), ("QQ==", b"A"),
    ("QU\nJD", b"ABC"), ("QUJD\n", b"ABC"), ("Q Q = =", b"A"),  # what `base64` prints, wrapped
])
def test_base64_accepted_like_absl(text, decoded):
    # TF Serving decodes {"b64": ...} with absl::Base64Unescape (absl/strings/escaping.cc):
    # ASCII whitespace is skipped anywhere; padding is optional.
    from tfx_kfp.serving.protocol.json_codec import decode_base64_object

    assert decode_base64_object({"b64": text}) == decoded


@pytest.mark.parametrize("text", ["QUI==", "QUJD=", "QQ===", "Q", "-_", "QU!D"])
def test_base64_rejected_like_absl(text):
    # ... but padding, when present, must be exactly what the length needs.
    from tfx_kfp.serving.protocol.json_codec import decode_base64_object

    with pytest.raises(InvalidArgument, match="^Unable to base64 decode$"):
        decode_base64_object({"b64": text})
