"""What the KFP backend does between tasks, reproduced for local runs.

Read from kubeflow/pipelines at the backend tag named in BACKEND_REFERENCE
(``backend/src/v2``); each function names the Go code it follows. Local runs
apply these rules so that a component which would break on a cluster breaks in
our tests too: kfp.local (SDK 2.13) hands metadata over unchanged, parses
executor output leniently, and cannot evaluate ``dsl.If``.
"""

import hashlib
import json
import math
from typing import Any, Dict, List, Mapping

import celpy
from celpy import celtypes
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from tfx_kfp.local.errors import BackendRejection

BACKEND_REFERENCE = "kubeflow/pipelines 2.17.0 (backend/src/v2)"


def _reject_constant(token: str):
    raise ValueError(f"{token} is not valid JSON")


def protojson_numbers(value: Any) -> Any:
    """A protobuf Value as the executor sees it after protojson: integral numbers print as integers.

    The launcher passes ``{{$}}`` as protojson text, which writes ``2`` for the number 2.0;
    Python's json module would write ``2.0`` and a component would receive a float.
    """
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, list):
        return [protojson_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: protojson_numbers(v) for k, v in value.items()}
    return value


def parse_executor_output(text: str, path: str) -> Dict[str, Any]:
    """Parses ``executor_output.json`` as the launcher does (protojson, strict).

    component/launcher_v2.go getExecutorOutputFile: ``protojson.Unmarshal`` rejects
    the ``NaN``/``Infinity`` tokens Python's json.dumps writes, and unknown fields.
    """
    try:
        raw = json.loads(text, parse_constant=_reject_constant)
        message = json_format.ParseDict(raw, pipeline_spec_pb2.ExecutorOutput(), ignore_unknown_fields=False)
    except (ValueError, json_format.ParseError) as e:
        raise BackendRejection(f"failed to unmarshall ExecutorOutput in file {path!r}: {e}") from None
    return json_format.MessageToDict(message)


def _to_mlmd_value(key: str, value: Any) -> Any:
    """metadata/converter.go StructValueToMLMDValue, then toRuntimeArtifact on the way back."""
    if isinstance(value, bool):
        return 1 if value else 0  # MLMD int_value; comes back as a number
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise BackendRejection(f"metadata {key!r}: non-finite number {value!r} cannot be stored in ML Metadata")
        return float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return {"list": value}
    if isinstance(value, dict):
        return {"struct": value}
    raise BackendRejection(f"metadata {key!r}: unknown/unsupported value type {type(value).__name__} "
                           "(ML Metadata stores no null)")


def mlmd_round_trip(metadata: Mapping[str, Any], output_name: str) -> Dict[str, Any]:
    """Artifact metadata as the next task receives it after the launcher stored it in ML Metadata.

    metadata/client.go RecordArtifact also adds ``display_name`` (the output name)
    and ``store_session_info`` when absent.
    """
    stored = {key: _to_mlmd_value(key, value) for key, value in metadata.items() if key != "_kfp_workspace"}
    stored.setdefault("display_name", output_name)
    stored.setdefault("store_session_info", json.dumps({"provider": "local"}))
    return stored


def parameter_from_text(text: str, parameter_type: str) -> Any:
    """metadata/converter.go TextToPbValue: an output parameter file read by the launcher."""
    try:
        if parameter_type == "STRING":
            return text
        if parameter_type == "NUMBER_INTEGER":
            return int(text.strip())
        if parameter_type == "NUMBER_DOUBLE":
            return float(text.strip())
        if parameter_type == "BOOLEAN":
            return {"true": True, "false": False, "1": True, "0": False}[text.strip().lower()]
        value = json.loads(text, parse_constant=_reject_constant)
        if parameter_type == "LIST" and isinstance(value, list) or parameter_type == "STRUCT" and isinstance(value, dict):
            return value
    except (ValueError, KeyError):
        pass
    raise BackendRejection(f"TextToPbValue(text={text!r}, type={parameter_type}) failed")


def condition_holds(condition: str, parameter_values: Mapping[str, Any]) -> bool:
    """expression/expression.go Condition: a CEL expression over the task's ExecutorInput."""
    environment = celpy.Environment()
    program = environment.program(environment.compile(condition))
    result = program.evaluate({"inputs": celpy.json_to_cel({"parameter_values": dict(parameter_values)})})
    if not isinstance(result, celtypes.BoolType):
        raise BackendRejection(f"evaluation error: return type is not bool, got {result!r} for {condition!r}")
    return bool(result)


def cache_fingerprint(input_artifact_ids: Mapping[str, List[str]], parameter_values: Mapping[str, Any],
                      output_artifact_types: Mapping[str, Any], output_parameter_types: Mapping[str, str],
                      image: str, command_and_args: List[str], pvc_names: List[str]) -> str:
    """cacheutils/cache.go GenerateCacheKey + GenerateFingerPrint (sha256 of the key as JSON).

    Input artifacts count by identity (their ML Metadata ids), so a task downstream
    of a cache hit hits too; the container's command and args include the
    component's source, so editing a component (or the image) misses.
    """
    key = {
        "inputArtifactNames": {name: {"artifactNames": ids} for name, ids in input_artifact_ids.items()},
        "inputParameterValues": dict(parameter_values),
        "outputArtifactsSpec": {name: {"name": name, "type": artifact_type}
                                for name, artifact_type in output_artifact_types.items()},
        "outputParametersSpec": dict(output_parameter_types),
        "containerSpec": {"image": image, "cmdArgs": list(command_and_args), "pvcNames": list(pvc_names)},
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
