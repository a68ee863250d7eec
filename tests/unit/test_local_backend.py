"""The KFP backend's rules that local runs apply between tasks (kubeflow/pipelines backend/src/v2)."""

import json
import math

import pytest

from tfx_kfp.local import backend
from tfx_kfp.local.errors import BackendRejection
from tfx_kfp.pipelines.cluster import escape_for_kubernetes


def test_metadata_comes_back_from_ml_metadata_wrapped_and_bools_as_numbers():
    stored = backend.mlmd_round_trip(
        {"signatures": {"serving_default": {"inputs": 4}}, "split_names": '["train","eval"]',
         "labels": [0, 1, 2], "blessed": True, "accuracy": 0.97, "steps": 200}, "model")
    assert stored["signatures"] == {"struct": {"serving_default": {"inputs": 4}}}
    assert stored["labels"] == {"list": [0, 1, 2]}
    assert stored["blessed"] == 1 and stored["accuracy"] == 0.97 and stored["steps"] == 200.0
    assert stored["split_names"] == '["train","eval"]'
    assert stored["display_name"] == "model" and json.loads(stored["store_session_info"])


@pytest.mark.parametrize("bad", [float("nan"), math.inf, None])
def test_values_ml_metadata_cannot_store_fail_the_task(bad):
    with pytest.raises(BackendRejection, match="'loss'"):
        backend.mlmd_round_trip({"loss": bad}, "metrics")


def test_executor_output_is_parsed_strictly_like_protojson(tmp_path):
    good = {"artifacts": {"metrics": {"artifacts": [{"name": "metrics", "metadata": {"loss": 0.5}}]}},
            "parameterValues": {"blessed": True}}
    assert backend.parse_executor_output(json.dumps(good), "out.json")["parameterValues"] == {"blessed": True}
    with pytest.raises(BackendRejection, match="out.json.*NaN"):
        backend.parse_executor_output(json.dumps({"parameterValues": {"x": float("nan")}}), "out.json")
    with pytest.raises(BackendRejection, match="unknownField"):
        backend.parse_executor_output('{"unknownField": 1}', "out.json")


def test_condition_is_evaluated_as_cel_over_the_task_inputs():
    condition = "inputs.parameter_values['pipelinechannel--evaluator-blessed'] == true"
    assert backend.condition_holds(condition, {"pipelinechannel--evaluator-blessed": True}) is True
    assert backend.condition_holds(condition, {"pipelinechannel--evaluator-blessed": False}) is False
    assert backend.condition_holds("inputs.parameter_values['n'] > 2", {"n": 3}) is True
    with pytest.raises(BackendRejection, match="not bool"):
        backend.condition_holds("inputs.parameter_values['n'] + 1", {"n": 3})


@pytest.mark.parametrize("text,kind,expected", [
    ("true", "BOOLEAN", True), ("0", "BOOLEAN", False), (" 7 ", "NUMBER_INTEGER", 7),
    ("0.25", "NUMBER_DOUBLE", 0.25), ('["a"]', "LIST", ["a"]), ('{"a": 1}', "STRUCT", {"a": 1}), ("x", "STRING", "x"),
])
def test_output_parameter_files_are_read_with_the_declared_type(text, kind, expected):
    assert backend.parameter_from_text(text, kind) == expected


@pytest.mark.parametrize("text,kind", [("yes", "BOOLEAN"), ("1.5", "NUMBER_INTEGER"), ('{"a": 1}', "LIST")])
def test_output_parameter_files_of_the_wrong_type_are_rejected(text, kind):
    with pytest.raises(BackendRejection, match=kind):
        backend.parameter_from_text(text, kind)


def test_integral_numbers_reach_the_executor_as_integers_as_protojson_writes_them():
    assert backend.protojson_numbers({"a": 2.0, "b": [1.0, 0.5], "c": "2.0"}) == {"a": 2, "b": [1, 0.5], "c": "2.0"}


def test_cache_fingerprint_changes_with_inputs_command_and_image_only():
    base = dict(input_artifact_ids={"examples": ["a1"]}, parameter_values={"steps": 1},
                output_artifact_types={"model": {"schemaTitle": "tfx.Model"}}, output_parameter_types={},
                image="img:1", command_and_args=["sh", "-ec", "source"], pvc_names=[])
    fingerprint = backend.cache_fingerprint(**base)
    assert fingerprint == backend.cache_fingerprint(**dict(base))
    for change in ({"input_artifact_ids": {"examples": ["a2"]}}, {"parameter_values": {"steps": 2}},
                   {"image": "img:2"}, {"command_and_args": ["sh", "-ec", "edited source"]}):
        assert backend.cache_fingerprint(**{**base, **change}) != fingerprint


def _kubernetes_expand(text: str, env: dict) -> str:
    """Kubernetes' expansion of $(VAR) in a container's command and args
    (kubernetes third_party/forked/golang/expansion/expand.go): $$ -> $, $(VAR) -> value when defined."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "$" and i + 1 < len(text):
            if text[i + 1] == "$":
                out.append("$")
                i += 2
                continue
            if text[i + 1] == "(":
                end = text.find(")", i + 2)
                if end != -1:
                    name = text[i + 2:end]
                    out.append(env[name] if name in env else text[i:end + 1])
                    i = end + 1
                    continue
        out.append(text[i])
        i += 1
    return "".join(out)


def test_module_source_survives_the_pods_variable_expansion():
    source = 'PRICE = "$$5"\nHOME = "$(HOME)"\nPATTERN = r"^a$"\n'
    assert _kubernetes_expand(source, {"HOME": "/root"}) != source  # what reached a cluster pod before
    # twice at KFP 2.17: the root driver's --runtime_config, then the launcher's --executor_input
    # (tests/kind/test_cluster_parameters.py follows the backend's source)
    twice = _kubernetes_expand(_kubernetes_expand(escape_for_kubernetes(source), {"HOME": "/root"}), {"HOME": "/root"})
    assert twice == source
