"""Runs TFX's Transform executor on KFP artifact paths."""

import json

from tfx.components.transform import executor as tfx_executor
from tfx.types import standard_component_specs as specs

import os

from tfx_kfp.runtime import object_store, reports, tfx_bridge, user_module
from tfx_kfp.runtime.errors import InputError
from tfx_kfp.runtime.staging import staged_dir
from tfx_kfp.reports import render_transform_markdown


def parse_custom_config(text: str, component: str) -> dict:
    """Parses a ``custom_config`` JSON object; raises InputError on anything else."""
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as e:
        raise InputError(component, "custom_config must be a JSON object", field="custom_config", received=str(e)) from e
    if not isinstance(value, dict):
        raise InputError(component, "custom_config must be a JSON object", field="custom_config",
                         received=type(value).__name__)
    return value


TRANSFORMED_SCHEMA = os.path.join("transformed_metadata", "schema.pbtxt")


def run(*, examples, schema, module_source, transform_graph, transformed_examples, report, custom_config,
        beam_pipeline_args):
    """Writes the transform graph and transformed examples."""
    module = user_module.module_properties(module_source, "preprocessing_fn",
                                           beam_pipeline_args or tfx_bridge.DEFAULT_BEAM_PIPELINE_ARGS)
    config = parse_custom_config(custom_config, "transform")
    tfx_examples = tfx_bridge.to_tfx("Examples", examples, beam_pipeline_args=beam_pipeline_args)
    tfx_schema = tfx_bridge.to_tfx("Schema", schema, beam_pipeline_args=beam_pipeline_args)
    with staged_dir(transform_graph.path) as graph_dir, staged_dir(transformed_examples.path) as examples_dir:
        tfx_graph = tfx_bridge.to_tfx("TransformGraph", transform_graph, uri=graph_dir,
                                      beam_pipeline_args=beam_pipeline_args)
        tfx_transformed = tfx_bridge.to_tfx("Examples", transformed_examples, uri=examples_dir,
                                            beam_pipeline_args=beam_pipeline_args)
        tfx_transformed.split_names = tfx_examples.split_names
        tfx_executor.Executor(tfx_bridge.beam_context(beam_pipeline_args)).Do(
            {specs.EXAMPLES_KEY: [tfx_examples], specs.SCHEMA_KEY: [tfx_schema]},
            {specs.TRANSFORM_GRAPH_KEY: [tfx_graph], specs.TRANSFORMED_EXAMPLES_KEY: [tfx_transformed]},
            tfx_bridge.exec_properties(**module, **{
                specs.CUSTOM_CONFIG_KEY: json.dumps(config) if config else None,
                specs.FORCE_TF_COMPAT_V1_KEY: 0,
                specs.DISABLE_STATISTICS_KEY: 1,
            }),
        )
    tfx_bridge.export_properties(tfx_transformed, transformed_examples)
    reports.write_report(report, render_transform_markdown(
        reports.read_schema(os.path.join(object_store.readable_path(transform_graph, beam_pipeline_args),
                                         TRANSFORMED_SCHEMA)),
        reports.read_schema(object_store.readable_path(schema, beam_pipeline_args))))
    print(f"transform: transform graph in {transform_graph.path}; transformed examples in {transformed_examples.path}")
