"""The compiled pipeline: guarded by golden YAML, plus the pipeline-level facts a regenerated golden must keep.

Component-level facts (artifact types, visual outputs, the runtime image) are tested once, on the
components, in test_component_interfaces.py. Golden files are normalised so that what changes with
the SDK, our version or the penguin module file does not break them. Regenerate them after an
intended change with:

    UPDATE_GOLDEN=1 uv run pytest tests/unit/test_compile.py
"""

import os
import re

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

import tfx_kfp
from tfx_kfp.components import names
from tfx_kfp.components.image import RUNTIME_IMAGE
from tfx_kfp.pipelines import cluster, compile_pipeline, create_training_pipeline, penguin_pipeline
from tfx_kfp.pipelines.penguin import module_source

GOLDEN = os.path.join(os.path.dirname(os.path.dirname(__file__)), "golden")
REGENERATE = "UPDATE_GOLDEN=1 uv run pytest tests/unit/test_compile.py"
MODULE_SOURCE = "<MODULE_SOURCE>"
ROOT_STAGES = {"resolve-inputs", "example-gen", "statistics-gen", "schema-gen", "example-validator", "transform",
               "trainer", "latest-pushed-model", "evaluator"}
# A module source default (module_source, or transform_/trainer_module_source), twice: in KFP's header comment (``#    name: type [Default: '…']``
# lines) and in the root inputDefinitions (a double-quoted YAML scalar that may span lines).
MODULE_SOURCE_HEADER = re.compile(r"^(#    \w*module_source: str \[Default: ').*?('\]\n)(?=#    \w+: |[^#])",
                                  re.DOTALL | re.MULTILINE)
MODULE_SOURCE_DEFAULT = re.compile(r'^(\s+\w*module_source:\n\s+defaultValue: )"(?:[^"\\]|\\.)*"',
                                   re.DOTALL | re.MULTILINE)
# On the kind target the default is a reference to the module file (pipelines/cluster.py), unquoted.
MODULE_REFERENCE = re.compile(r"tfx-kfp-module-file:\S+?#sha256=[0-9a-f]{64}")


def normalize(text: str) -> str:
    """Replaces what changes with the SDK, our version or the user module, not with the pipeline."""
    text = re.sub(r"sdkVersion: kfp-[\w.]+", "sdkVersion: kfp-<SDK_VERSION>", text)
    text = MODULE_SOURCE_HEADER.sub(rf"\g<1>{MODULE_SOURCE}\g<2>", text)
    text = MODULE_SOURCE_DEFAULT.sub(rf'\g<1>"{MODULE_SOURCE}"', text)
    text = MODULE_REFERENCE.sub(MODULE_SOURCE, text)
    return text.replace(RUNTIME_IMAGE, "<RUNTIME_IMAGE>").replace(tfx_kfp.__version__, "<VERSION>")


def _compile(pipeline, tmp_path) -> str:
    path = tmp_path / "pipeline.yaml"
    compile_pipeline(pipeline, str(path))
    return path.read_text()


def _check_golden(name: str, text: str) -> None:
    path = os.path.join(GOLDEN, name)
    actual = normalize(text)
    if os.environ.get("UPDATE_GOLDEN"):
        with open(path, "w") as f:
            f.write(actual)
    if not os.path.exists(path):
        pytest.fail(f"missing golden file {path}; create it with: {REGENERATE}")
    with open(path) as f:
        expected = f.read()
    assert actual == expected, f"compiled YAML differs from {path}; if intended, regenerate: {REGENERATE}"


def _spec(text: str) -> pipeline_spec_pb2.PipelineSpec:
    return json_format.ParseDict(next(yaml.safe_load_all(text)), pipeline_spec_pb2.PipelineSpec())


@pytest.fixture(scope="module")
def kind_yaml(tmp_path_factory):
    return _compile(penguin_pipeline("kind"), tmp_path_factory.mktemp("kind"))


def test_penguin_kind_matches_golden(kind_yaml):
    _check_golden("penguin_kind.yaml", kind_yaml)


def test_generic_training_pipeline_matches_golden(tmp_path):
    _check_golden("training.yaml", _compile(create_training_pipeline(), tmp_path))


def test_the_golden_holds_no_module_source_and_a_module_edit_does_not_change_it(kind_yaml, tmp_path):
    normalized = normalize(kind_yaml)
    source_lines = [line for line in cluster.escape_for_kubernetes(module_source()).splitlines()
                    if len(line.strip()) > 20]
    assert [line for line in source_lines if line.strip() in normalized] == []
    assert normalized.count(MODULE_SOURCE) == 2  # header comment and root input default
    assert _spec(normalized).root.input_definitions.parameters["module_source"].default_value.string_value \
        == MODULE_SOURCE
    edited = penguin_pipeline("kind", overrides={"module_source": module_source() + "\n# an edit\n"})
    assert normalize(_compile(edited, tmp_path)) == normalized


def test_normalisation_covers_the_separate_transform_and_trainer_modules(tmp_path):
    text = normalize(_compile(penguin_pipeline("kind", separate_modules=True), tmp_path))
    assert text.count(MODULE_SOURCE) == 4 and "def run_fn" not in text  # two parameters, twice each


def test_tasks_are_wired_output_to_input_through_the_declared_names(kind_yaml):
    root_tasks = _spec(kind_yaml).root.dag.tasks
    (condition,) = set(root_tasks) - ROOT_STAGES
    assert condition.startswith("condition-")
    wiring = {
        ("statistics-gen", names.EXAMPLES): ("example-gen", names.EXAMPLES),
        ("schema-gen", names.STATISTICS): ("statistics-gen", names.STATISTICS),
        ("example-validator", names.STATISTICS): ("statistics-gen", names.STATISTICS),
        ("example-validator", names.SCHEMA): ("schema-gen", names.SCHEMA),
        ("transform", names.EXAMPLES): ("example-gen", names.EXAMPLES),
        ("transform", names.SCHEMA): ("schema-gen", names.SCHEMA),
        ("trainer", names.EXAMPLES): ("transform", names.TRANSFORMED_EXAMPLES),
        ("trainer", names.TRANSFORM_GRAPH): ("transform", names.TRANSFORM_GRAPH),
        ("trainer", names.SCHEMA): ("schema-gen", names.SCHEMA),
        ("evaluator", names.EXAMPLES): ("example-gen", names.EXAMPLES),
        ("evaluator", names.MODEL): ("trainer", names.MODEL),
        ("evaluator", names.BASELINE_MODEL): ("latest-pushed-model", names.BASELINE_MODEL),
    }
    wired = {(task, key): (artifact.task_output_artifact.producer_task,
                           artifact.task_output_artifact.output_artifact_key)
             for task in ROOT_STAGES for key, artifact in root_tasks[task].inputs.artifacts.items()}
    assert wired == wiring
    # The validator gates Transform although Transform reads none of its outputs.
    assert set(root_tasks["transform"].dependent_tasks) == {"example-gen", "schema-gen", "example-validator"}
    # ExampleGen's cache key includes the fingerprint of the files it reads.
    fingerprint = root_tasks["example-gen"].inputs.parameters["input_fingerprint"].task_output_parameter
    assert (fingerprint.producer_task, fingerprint.output_parameter_key) == ("resolve-inputs", "fingerprint")
    assert not root_tasks["resolve-inputs"].caching_options.enable_cache
    assert not root_tasks["latest-pushed-model"].caching_options.enable_cache


def test_pusher_runs_only_when_the_evaluator_and_the_infra_validator_bless_the_trained_model(kind_yaml):
    spec = _spec(kind_yaml)
    (condition_name,) = set(spec.root.dag.tasks) - ROOT_STAGES
    condition = spec.root.dag.tasks[condition_name]
    assert condition.trigger_policy.condition == \
        f"inputs.parameter_values['pipelinechannel--evaluator-{names.BLESSED}'] == true"
    artifacts = condition.inputs.artifacts
    assert {key: (a.task_output_artifact.producer_task, a.task_output_artifact.output_artifact_key)
            for key, a in artifacts.items()} == {
        f"pipelinechannel--evaluator-{names.BLESSING}": ("evaluator", names.BLESSING),
        f"pipelinechannel--evaluator-{names.METRICS}": ("evaluator", names.METRICS),
        f"pipelinechannel--example-gen-{names.EXAMPLES}": ("example-gen", names.EXAMPLES),
        f"pipelinechannel--trainer-{names.MODEL}": ("trainer", names.MODEL)}
    inner = spec.components[condition.component_ref.name].dag.tasks
    (gate_name,) = set(inner) - {"infra-validator"}
    gate = inner[gate_name]
    assert gate.trigger_policy.condition == \
        f"inputs.parameter_values['pipelinechannel--infra-validator-{names.BLESSED}'] == true"
    innermost = spec.components[gate.component_ref.name].dag.tasks
    assert list(innermost) == ["pusher"]
    assert {key: a.component_input_artifact for key, a in innermost["pusher"].inputs.artifacts.items()} == {
        names.BLESSING: f"pipelinechannel--evaluator-{names.BLESSING}",
        "evaluation_metrics": f"pipelinechannel--evaluator-{names.METRICS}",
        names.INFRA_BLESSING: f"pipelinechannel--infra-validator-{names.INFRA_BLESSING}",
        names.MODEL: f"pipelinechannel--trainer-{names.MODEL}"}
    assert not innermost["pusher"].caching_options.enable_cache


def test_every_task_mounts_the_model_store(kind_yaml):
    spec, platform = list(yaml.safe_load_all(kind_yaml))
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert set(executors) == set(spec["deploymentSpec"]["executors"])
    assert len(executors) == len(ROOT_STAGES) + 2  # and the gated infra-validator and pusher
    for executor in executors.values():
        assert executor == {"pvcMount": [{
            "constant": cluster.MODEL_STORE_PVC_NAME, "mountPath": cluster.MODEL_STORE_MOUNT_PATH,
            "pvcNameParameter": {"runtimeValue": {"constant": cluster.MODEL_STORE_PVC_NAME}}}]}


def test_every_task_runs_on_keras_2_from_the_spec(kind_yaml, tmp_path):
    """TF_USE_LEGACY_KERAS=1 is in every container's env: uploaded with the spec, applied by local runs."""
    from tfx_kfp.runtime.task_env import TASK_ENVIRONMENT

    for text in (kind_yaml, _compile(create_training_pipeline(), tmp_path)):
        executors = _spec(text).deployment_spec["executors"]
        assert len(executors) == len(ROOT_STAGES) + 2
        for executor in executors.values():
            env = {item["name"]: item["value"] for item in executor["container"]["env"]}
            assert env == TASK_ENVIRONMENT == {"TF_USE_LEGACY_KERAS": "1"}


def test_kind_defaults_are_the_model_store_paths_and_the_penguin_module(kind_yaml):
    parameters = _spec(kind_yaml).root.input_definitions.parameters
    assert parameters["data_root"].default_value.string_value == cluster.CLUSTER_DATA_ROOT
    assert parameters["serving_base_dir"].default_value.string_value == cluster.CLUSTER_SERVING_BASE_DIR
    # The golden replaces the module text with a placeholder: its exact value is checked here.
    assert parameters["module_source"].default_value.string_value == \
        cluster.cluster_parameter_values({"module_source": module_source()})["module_source"]


def test_import_schema_variant_feeds_the_curated_schema_to_every_schema_reader(tmp_path):
    spec = _spec(_compile(penguin_pipeline("kind", import_schema=True), tmp_path))
    tasks = spec.root.dag.tasks
    assert "schema-gen" not in tasks
    assert tasks["import-schema"].inputs.parameters["schema_pbtxt"].component_input_parameter == "schema_pbtxt"
    schema = spec.root.input_definitions.parameters["schema_pbtxt"]
    assert not schema.is_optional and not schema.HasField("default_value")
    readers = {task for task in tasks if names.SCHEMA in tasks[task].inputs.artifacts}
    assert readers == {"example-validator", "transform", "trainer"}
    for task in readers:
        assert tasks[task].inputs.artifacts[names.SCHEMA].task_output_artifact.producer_task == "import-schema"


def test_unknown_default_is_rejected():
    with pytest.raises(ValueError, match="unknown pipeline parameters \\['label'\\]"):
        create_training_pipeline(defaults={"label": "x"})
