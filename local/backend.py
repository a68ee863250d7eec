"""What the KFP backend does between tasks, reproduced for local runs.

Read from kubeflow/pipelines at the backend tag named in BACKEND_REFERENCE
(``backend/src/v2``); each function names the Go code it follows. Local runs
apply these rules so that a component which would break on a cluster breaks in
our tests too: kfp.local (SDK 2.13) hands metadata over unchanged, parses
executor output leniently, and cannot evaluate ``dsl.If``.
"""

import decimal
import functools
import hashlib
import json
import math
import time
import uuid
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


@functools.lru_cache(maxsize=None)
def _cel_environment() -> "celpy.Environment":
    return celpy.Environment()  # builds its Lark parser: about a second, so once per process


def condition_holds(condition: str, parameter_values: Mapping[str, Any]) -> bool:
    """expression/expression.go Condition: a CEL expression over the task's ExecutorInput."""
    environment = _cel_environment()
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


# driver/resolve.go resolveInputParameter, RuntimeValue constants: a constant that is exactly one of these
# placeholders is replaced by the run's value; any other text, placeholders inside it included, passes
# unchanged (``{{$.workspace_path}}``, replaced inside text, needs a workspace: not supported locally).
DRIVER_PLACEHOLDERS = ("{{$.pipeline_job_name}}", "{{$.pipeline_job_resource_name}}", "{{$.pipeline_job_uuid}}",
                       "{{$.pipeline_task_name}}", "{{$.pipeline_task_uuid}}", "{{$.pipeline_job_create_time_utc}}",
                       "{{$.pipeline_job_schedule_time_utc}}")


def run_values(run_name: str) -> Dict[str, str]:
    """What the driver puts in for DRIVER_PLACEHOLDERS in one run (a manual run: schedule time = create time)."""
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {"{{$.pipeline_job_name}}": run_name, "{{$.pipeline_job_resource_name}}": run_name,
            "{{$.pipeline_job_uuid}}": str(uuid.uuid4()), "{{$.pipeline_task_uuid}}": str(uuid.uuid4().int % 10**9),
            "{{$.pipeline_job_create_time_utc}}": created, "{{$.pipeline_job_schedule_time_utc}}": created}


def driver_constant(value: Any, run_values: Mapping[str, str]) -> Any:
    """A task's constant parameter value as the driver resolves it (``run_values``: placeholder -> value)."""
    return run_values[value] if isinstance(value, str) and value in DRIVER_PLACEHOLDERS else value


def _placeholder_text(value: Any) -> str:
    """launcher_v2.go getPlaceholders: how a parameter value is written into a placeholder."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):  # strconv.FormatFloat(v, 'f', -1, 64): shortest, never an exponent
        return format(decimal.Decimal(repr(float(value))).normalize(), "f")
    if isinstance(value, str):
        return value
    # Go's encoding/json of the structpb message, which is not this JSON: lists and dicts in a placeholder
    # differ from a cluster (docs/local-runs.md); our components never put one there.
    return json.dumps(value, separators=(",", ":"))


def launcher_placeholders(executor_input: Mapping[str, Any]) -> Dict[str, str]:
    """launcher_v2.go getPlaceholders: the inputs' and outputs' placeholders and their values."""
    found: Dict[str, str] = {}
    for name, artifacts in executor_input["inputs"].get("artifacts", {}).items():
        if artifacts["artifacts"]:
            found[f"{{{{$.inputs.artifacts['{name}'].uri}}}}"] = artifacts["artifacts"][0]["uri"]
            found[f"{{{{$.inputs.artifacts['{name}'].path}}}}"] = artifacts["artifacts"][0]["uri"]
    for name, artifacts in executor_input["outputs"].get("artifacts", {}).items():
        found[f"{{{{$.outputs.artifacts['{name}'].uri}}}}"] = artifacts["artifacts"][0]["uri"]
        found[f"{{{{$.outputs.artifacts['{name}'].path}}}}"] = artifacts["artifacts"][0]["uri"]
    for name, value in executor_input["inputs"].get("parameterValues", {}).items():
        found[f"{{{{$.inputs.parameters['{name}']}}}}"] = _placeholder_text(value)
    for name, parameter in executor_input["outputs"].get("parameters", {}).items():
        found[f"{{{{$.outputs.parameters['{name}'].output_file}}}}"] = parameter["outputFile"]
    return found


def launcher_command(command: List[str], args: List[str], executor_input: Mapping[str, Any]) -> List[str]:
    """launcher_v2.go compileCmdAndArgs: the container's command and args as the task's process receives them.

    ``{{$}}`` becomes the executor input's JSON everywhere; in the args, every placeholder of
    ``launcher_placeholders`` is then replaced too, inside that JSON (so inside parameter values) included.
    """
    text = json.dumps(executor_input)
    placeholders = launcher_placeholders(executor_input)
    compiled = [part.replace("{{$}}", text) for part in command]
    for arg in args:
        arg = arg.replace("{{$}}", text)
        for placeholder, value in placeholders.items():
            arg = arg.replace(placeholder, value)
        compiled.append(arg)
    return compiled
