"""The pipeline's penguin model, served and called over both protocols.

Uses the checked-in fixture chain's penguin model (the real trainer's output,
tests/fixtures/penguin_chain/model/Format-Serving) unless
``TFX_KFP_PENGUIN_MODEL_DIR`` points at another pushed penguin model: either the
pusher's base path (``<base>/<version>/``) or one version directory.
"""

import base64
import math
import os

import pytest

from tfx_kfp.serving import InvalidArgument, ServingClient, server

FIXTURE_MODEL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             "fixtures", "penguin_chain", "model", "Format-Serving")
PENGUIN_DIR = os.environ.get("TFX_KFP_PENGUIN_MODEL_DIR") or (FIXTURE_MODEL if os.path.isdir(FIXTURE_MODEL) else "")
FEATURES = ["culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g"]

pytestmark = pytest.mark.skipif(
    not PENGUIN_DIR,
    reason="no penguin model: set TFX_KFP_PENGUIN_MODEL_DIR to a pushed penguin model "
           "(<base>/<version>/ or the version directory), e.g. after `tfx-kfp demo`")


def _base_path(tmp_path_factory) -> str:
    path = os.path.abspath(PENGUIN_DIR)
    if not os.path.isdir(path):
        pytest.fail(f"TFX_KFP_PENGUIN_MODEL_DIR={PENGUIN_DIR} is not a directory")
    if os.path.exists(os.path.join(path, "saved_model.pb")):  # a version directory
        base = tmp_path_factory.mktemp("penguin")
        name = os.path.basename(path)
        os.symlink(path, base / (name if name.isdigit() else "1"))
        return str(base)
    return path


@pytest.fixture(scope="module")
def penguin(tmp_path_factory):
    with server.start("penguin", _base_path(tmp_path_factory), rest_port=0, grpc_port=0,
                      poll_seconds=5) as handle:
        handle.wait_until_available(300)
        clients = {p: ServingClient(rest_port=handle.rest_port, grpc_port=handle.grpc_port,
                                    protocol=p) for p in ("rest", "grpc")}
        yield clients
        for client in clients.values():
            client.close()


ROWS = [
    {"culmen_length_mm": 0.25, "culmen_depth_mm": 0.66, "flipper_length_mm": 0.15,
     "body_mass_g": 0.29},
    {"culmen_length_mm": 0.74, "culmen_depth_mm": 0.30, "flipper_length_mm": 0.86,
     "body_mass_g": 0.78},
]


def _check_scores(rows):
    assert len(rows) == len(ROWS)
    for scores in rows:
        assert len(scores) == 3
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert math.isclose(sum(scores), 1.0, abs_tol=1e-3)


def test_signature_matches_the_contract(penguin):
    signatures = penguin["rest"].metadata("penguin")["metadata"]["signature_def"]["signature_def"]
    default = signatures["serving_default"]
    assert sorted(default["inputs"]) == sorted(FEATURES)
    for name in FEATURES:
        assert default["inputs"][name]["dtype"] == "DT_FLOAT"
    assert default["outputs"]["scores"]["dtype"] == "DT_FLOAT"
    assert penguin["grpc"].metadata("penguin") == penguin["rest"].metadata("penguin")


def test_predict_rows_over_both_protocols(penguin):
    rest = penguin["rest"].predict("penguin", instances=ROWS)
    assert rest == penguin["grpc"].predict("penguin", instances=ROWS)
    predictions = rest["predictions"]
    rows = [p["scores"] if isinstance(p, dict) else p for p in predictions]
    _check_scores(rows)


def test_predict_columns_over_both_protocols(penguin):
    columns = {name: [row[name] for row in ROWS] for name in FEATURES}
    rest = penguin["rest"].predict("penguin", inputs=columns)
    assert rest == penguin["grpc"].predict("penguin", inputs=columns)
    outputs = rest["outputs"]
    _check_scores(outputs["scores"] if isinstance(outputs, dict) else outputs)


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_bad_inputs_are_invalid_argument(penguin, protocol):
    with pytest.raises(InvalidArgument, match="is not of expected type: float"):
        penguin[protocol].predict("penguin", instances=[dict(ROWS[0], body_mass_g="heavy")])
    incomplete = {k: v for k, v in ROWS[0].items() if k != "body_mass_g"}
    with pytest.raises(InvalidArgument, match="keys must be equal to"):
        penguin[protocol].predict("penguin", instances=[incomplete])


def test_example_signature_when_present(penguin):
    signatures = penguin["rest"].metadata("penguin")["metadata"]["signature_def"]["signature_def"]
    candidates = [name for name, sig in signatures.items()
                  if name not in ("serving_default", "__saved_model_init_op")
                  and len(sig["inputs"]) == 1
                  and next(iter(sig["inputs"].values()))["dtype"] == "DT_STRING"]
    if not candidates:
        pytest.skip("the penguin model has no tf.Example signature")
    import tensorflow as tf

    serialized = []
    for row in ROWS:
        example = tf.train.Example()
        for name, value in row.items():
            example.features.feature[name].float_list.value.append(value)
        serialized.append(example.SerializeToString())
    for protocol in ("rest", "grpc"):
        result = penguin[protocol].predict("penguin", signature_name=candidates[0],
                                           instances=[{"b64": base64.b64encode(s).decode()}
                                                      for s in serialized])
        predictions = result["predictions"]
        _check_scores([p["scores"] if isinstance(p, dict) else p for p in predictions])
