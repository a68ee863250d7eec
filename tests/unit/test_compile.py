"""The compiled pipeline: a valid PipelineSpec, all eight stages wired, guarded by golden YAML.

Regenerate the golden files after an intended change with:

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

GOLDEN = os.path.join(os.path.dirname(os.path.dirname(__file__)), "golden")
REGENERATE = "UPDATE_GOLDEN=1 uv run pytest tests/unit/test_compile.py"
STAGES = ["example-gen", "statistics-gen", "schema-gen", "example-validator", "transform", "trainer",
          "evaluator", "pusher"]


def _compile(pipeline, tmp_path) -> str:
    path = tmp_path / "pipeline.yaml"
    compile_pipeline(pipeline, str(path))
    return path.read_text()


def normalize(text: str) -> str:
    """Replaces what changes with the SDK or our version, not with the pipeline."""
    text = re.sub(r"sdkVersion: kfp-[\w.]+", "sdkVersion: kfp-<SDK_VERSION>", text)
    return text.replace(RUNTIME_IMAGE, "<RUNTIME_IMAGE>").replace(tfx_kfp.__version__, "<VERSION>")


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


def test_parses_as_pipeline_spec_with_all_stages_wired(kind_yaml):
    spec = _spec(kind_yaml)
    root_tasks = spec.root.dag.tasks
    assert set(STAGES[:-1]) <= set(root_tasks)
    wiring = {
        ("statistics-gen", names.EXAMPLES): ("example-gen", names.EXAMPLES),
        ("schema-gen", names.STATISTICS): ("statistics-gen", names.STATISTICS),
        ("example-validator", names.STATISTICS): ("statistics-gen", names.STATISTICS),
        ("example-validator", names.SCHEMA): ("schema-gen", names.SCHEMA),
        ("transform", names.EXAMPLES): ("example-gen", names.EXAMPLES),
        ("transform", names.SCHEMA): ("schema-gen", names.SCHEMA),
        ("trainer", names.EXAMPLES): ("transform", names.TRANSFORMED_EXAMPLES),
        ("trainer", names.TRANSFORM_GRAPH): ("transform", names.TRANSFORM_GRAPH),
        ("evaluator", names.EXAMPLES): ("example-gen", names.EXAMPLES),
        ("evaluator", names.MODEL): ("trainer", names.MODEL),
    }
    for (task, key), (producer, output) in wiring.items():
        source = root_tasks[task].inputs.artifacts[key].task_output_artifact
        assert (source.producer_task, source.output_artifact_key) == (producer, output), f"{task}.{key}"
    assert "example-validator" in root_tasks["transform"].dependent_tasks


def test_pusher_runs_only_when_the_evaluator_blesses(kind_yaml):
    spec = _spec(kind_yaml)
    (condition_name,) = [t for t in spec.root.dag.tasks if t.startswith("condition")]
    condition = spec.root.dag.tasks[condition_name]
    assert condition.trigger_policy.condition == \
        "inputs.parameter_values['pipelinechannel--evaluator-blessed'] == true"
    inner = spec.components[condition.component_ref.name].dag.tasks
    assert list(inner) == ["pusher"]
    assert not inner["pusher"].caching_options.enable_cache


def test_every_task_uses_the_runtime_image_and_mounts_the_model_store(kind_yaml):
    spec = _spec(kind_yaml)
    executors = spec.deployment_spec["executors"]
    assert len(executors) == len(STAGES)
    assert {e["container"]["image"] for e in executors.values()} == {RUNTIME_IMAGE}
    _, platform = yaml.safe_load_all(kind_yaml)
    mounts = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert set(mounts) == set(executors)
    for executor in mounts.values():
        (mount,) = executor["pvcMount"]
        assert mount["mountPath"] == cluster.MODEL_STORE_MOUNT_PATH
        assert cluster.MODEL_STORE_PVC_NAME in str(mount)


def test_kind_defaults_point_into_the_model_store(kind_yaml):
    spec = _spec(kind_yaml)
    parameters = spec.root.input_definitions.parameters
    assert parameters["data_root"].default_value.string_value == cluster.CLUSTER_DATA_ROOT
    assert parameters["serving_base_dir"].default_value.string_value == cluster.CLUSTER_SERVING_BASE_DIR
    assert "def run_fn(fn_args)" in parameters["module_source"].default_value.string_value


def test_artifact_types_carry_tfx_type_names(kind_yaml):
    titles = set(re.findall(r"schemaTitle: ([\w.]+)", kind_yaml))
    assert {"tfx.Examples", "tfx.ExampleStatistics", "tfx.Schema", "tfx.ExampleAnomalies", "tfx.TransformGraph",
            "tfx.Model", "tfx.ModelRun", "tfx.ModelEvaluation", "tfx.ModelBlessing", "tfx.PushedModel"} <= titles


def test_import_schema_variant_takes_schema_text(tmp_path):
    spec = _spec(_compile(penguin_pipeline("kind", import_schema=True), tmp_path))
    assert "import-schema" in spec.root.dag.tasks and "schema-gen" not in spec.root.dag.tasks
    assert "schema_pbtxt" in spec.root.input_definitions.parameters


def test_unknown_default_is_rejected():
    with pytest.raises(ValueError, match="unknown pipeline parameters \\['label'\\]"):
        create_training_pipeline(defaults={"label": "x"})


def test_visual_outputs_have_the_system_schema_titles_the_ui_renders(kind_yaml):
    spec = _spec(kind_yaml)
    expected = {
        "comp-statistics-gen": {"report": "system.HTML"},
        "comp-schema-gen": {"report": "system.Markdown"},
        "comp-example-validator": {"report": "system.HTML"},
        "comp-transform": {"report": "system.Markdown"},
        "comp-trainer": {"report": "system.HTML", "metrics": "system.Metrics"},
        "comp-evaluator": {"report": "system.HTML", "metrics": "system.Metrics",
                           "confusion_matrix": "system.ClassificationMetrics"},
        "comp-pusher": {"report": "system.Markdown"},
    }
    for component, outputs in expected.items():
        artifacts = spec.components[component].output_definitions.artifacts
        for name, title in outputs.items():
            assert artifacts[name].artifact_type.schema_title == title, f"{component}.{name}"
