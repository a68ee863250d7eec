"""Every component's interface: names declared once, TFX type names, documented inputs and outputs.

These are the component-level facts; the compile tests check only what the pipeline adds.
"""

import pytest

import tfx_kfp
from tfx_kfp import components
from tfx_kfp.components import names
from tfx_kfp.components.image import (
    DEFAULT_IMAGE_REPOSITORY,
    IMAGE_REPOSITORY_ENV,
    RUNTIME_IMAGE,
    STACKS,
    image_tag,
    running_stack,
    source_digest,
)

STACK_SUFFIX = STACKS[running_stack()].tag_suffix  # "" on the 1.16 stack, "-tfx1.21" on the current one

ARTIFACTS = {
    "example_gen": ({}, {names.EXAMPLES: "tfx.Examples"}),
    "statistics_gen": ({names.EXAMPLES: "tfx.Examples"},
                       {names.STATISTICS: "tfx.ExampleStatistics", names.REPORT: "system.HTML"}),
    "schema_gen": ({names.STATISTICS: "tfx.ExampleStatistics"}, {names.SCHEMA: "tfx.Schema", names.REPORT: "system.Markdown"}),
    "import_schema": ({}, {names.SCHEMA: "tfx.Schema", names.REPORT: "system.Markdown"}),
    "example_validator": (
        {names.STATISTICS: "tfx.ExampleStatistics", names.SCHEMA: "tfx.Schema"},
        {names.ANOMALIES: "tfx.ExampleAnomalies", names.REPORT: "system.HTML"},
    ),
    "transform": (
        {names.EXAMPLES: "tfx.Examples", names.SCHEMA: "tfx.Schema"},
        {names.TRANSFORM_GRAPH: "tfx.TransformGraph", names.TRANSFORMED_EXAMPLES: "tfx.Examples",
         names.REPORT: "system.Markdown"},
    ),
    "trainer": (
        {names.EXAMPLES: "tfx.Examples", names.TRANSFORM_GRAPH: "tfx.TransformGraph", names.SCHEMA: "tfx.Schema"},
        {names.MODEL: "tfx.Model", names.MODEL_RUN: "tfx.ModelRun", names.METRICS: "system.Metrics",
         names.REPORT: "system.HTML"},
    ),
    "resolve_inputs": ({}, {}),
    "latest_pushed_model": ({}, {names.BASELINE_MODEL: "tfx.Model"}),
    "infra_validator": ({names.MODEL: "tfx.Model", names.EXAMPLES: "tfx.Examples"},
                        {names.INFRA_BLESSING: "tfx.InfraBlessing", names.REPORT: "system.Markdown"}),
    "evaluator": (
        {names.EXAMPLES: "tfx.Examples", names.MODEL: "tfx.Model", names.BASELINE_MODEL: "tfx.Model"},
        {names.EVALUATION: "tfx.ModelEvaluation", names.BLESSING: "tfx.ModelBlessing",
         names.METRICS: "system.Metrics", names.CONFUSION_MATRIX: "system.ClassificationMetrics",
         names.REPORT: "system.HTML"},
    ),
    "pusher": (
        {names.MODEL: "tfx.Model", names.BLESSING: "tfx.ModelBlessing", "evaluation_metrics": "system.Metrics",
         names.INFRA_BLESSING: "tfx.InfraBlessing"},
        {names.PUSHED_MODEL: "tfx.PushedModel", names.REPORT: "system.Markdown"},
    ),
}


def _spec(name):
    return getattr(components, name).component_spec


@pytest.mark.parametrize("name", sorted(ARTIFACTS))
def test_artifact_inputs_and_outputs_match_declared_names_and_tfx_types(name):
    spec = _spec(name)
    inputs, outputs = ARTIFACTS[name]
    found_in = {k: v.type.split("@")[0] for k, v in (spec.inputs or {}).items() if "@" in v.type}
    found_out = {k: v.type.split("@")[0] for k, v in (spec.outputs or {}).items() if "@" in v.type}
    assert found_in == inputs
    assert found_out == outputs


@pytest.mark.parametrize("name", sorted(ARTIFACTS))
def test_every_input_and_output_is_documented(name):
    spec = _spec(name)
    for kind, io in (("input", spec.inputs or {}), ("output", spec.outputs or {})):
        for key, value in io.items():
            assert value.description, f"{name}: {kind} {key!r} has no description (Args:/Returns: in the docstring)"


@pytest.mark.parametrize("name", sorted(ARTIFACTS))
def test_runs_in_the_versioned_runtime_image_without_installing_kfp(name):
    container = _spec(name).implementation.container
    assert container.image == RUNTIME_IMAGE == (
        f"{DEFAULT_IMAGE_REPOSITORY}:{tfx_kfp.__version__}-{source_digest()}{STACK_SUFFIX}")
    assert "pip install" not in " ".join(container.command)
    # The body hands over to its own stage's executor module, imported inside the task.
    assert f"from tfx_kfp.components.{name.replace('import_schema', 'schema_gen')} import " in container.command[-1]


def test_evaluator_exposes_the_blessing_as_a_parameter_for_dsl_if():
    assert _spec("evaluator").outputs[names.BLESSED].type == "Boolean"


def test_image_tag_is_the_package_version_and_source_digest_under_the_repository_setting(monkeypatch):
    assert image_tag("gpu") == f"{DEFAULT_IMAGE_REPOSITORY}:{tfx_kfp.__version__}-{source_digest()}{STACK_SUFFIX}-gpu"
    monkeypatch.setenv(IMAGE_REPOSITORY_ENV, "registry.local/me/tfx-kfp")
    assert image_tag() == f"registry.local/me/tfx-kfp:{tfx_kfp.__version__}-{source_digest()}{STACK_SUFFIX}"
    with pytest.raises(ValueError, match="'cpu' or 'gpu'"):
        image_tag("tpu")
