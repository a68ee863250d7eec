"""Every component's interface: names declared once, TFX type names, documented inputs and outputs."""

import pytest

from tfx_kfp import components
from tfx_kfp.components import names
from tfx_kfp.components.image import RUNTIME_IMAGE

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
    "evaluator": (
        {names.EXAMPLES: "tfx.Examples", names.MODEL: "tfx.Model"},
        {names.EVALUATION: "tfx.ModelEvaluation", names.BLESSING: "tfx.ModelBlessing",
         names.METRICS: "system.Metrics", names.CONFUSION_MATRIX: "system.ClassificationMetrics",
         names.REPORT: "system.HTML"},
    ),
    "pusher": (
        {names.MODEL: "tfx.Model", names.BLESSING: "tfx.ModelBlessing"},
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
    assert container.image == RUNTIME_IMAGE
    assert not RUNTIME_IMAGE.endswith(":latest")
    script = " ".join(container.command)
    assert "pip install" not in script
    assert "from tfx_kfp.components." in container.command[-1]


def test_evaluator_exposes_the_blessing_as_a_parameter_for_dsl_if():
    assert _spec("evaluator").outputs[names.BLESSED].type == "Boolean"


def test_image_tag_follows_the_package_version():
    import tfx_kfp
    from tfx_kfp.components.image import image_tag, source_digest

    assert image_tag().endswith(f":{tfx_kfp.__version__}-{source_digest()}")
    assert image_tag("gpu").endswith(f":{tfx_kfp.__version__}-{source_digest()}-gpu")
    with pytest.raises(ValueError, match="'cpu' or 'gpu'"):
        image_tag("tpu")


def test_every_stage_has_a_visual_output_the_v2_ui_renders():
    visual = {"system.HTML", "system.Markdown"}
    for name in sorted(set(ARTIFACTS) - {"example_gen"}):
        outputs = _spec(name).outputs
        assert outputs[names.REPORT].type.split("@")[0] in visual, name
