"""Runs TFX's Transform executor on KFP artifact paths."""

import json
import os

from kfp.dsl import Input, Markdown, Output
from tfx.components.transform import executor as tfx_executor
from tfx.types import standard_component_specs as specs

from tfx_kfp.components.types import Examples, Schema, TransformGraph
from tfx_kfp.runtime import arguments, beam_defaults, object_store, reports, tf_workarounds, tfx_bridge, user_module
from tfx_kfp.runtime.staging import staged_dir
from tfx_kfp.reports import render_transform_markdown


TRANSFORMED_SCHEMA = os.path.join("transformed_metadata", "schema.pbtxt")


def run(*, examples: Input[Examples], schema: Input[Schema], module_source: str,
        transform_graph: Output[TransformGraph], transformed_examples: Output[Examples], report: Output[Markdown],
        custom_config: str, beam_pipeline_args: list) -> None:
    """The ``transform`` component's body (arguments as documented there).

    Writes the transform graph and transformed examples.
    """
    config = arguments.parse_custom_config("transform", custom_config)
    beam_pipeline_args = beam_defaults.resolve(beam_pipeline_args, [examples.path], "examples", stage="transform")
    tfx_examples = tfx_bridge.to_tfx("Examples", examples, beam_pipeline_args=beam_pipeline_args)
    tfx_schema = tfx_bridge.to_tfx("Schema", schema, beam_pipeline_args=beam_pipeline_args)
    with staged_dir(transform_graph.path) as graph_dir, staged_dir(transformed_examples.path) as examples_dir, \
            user_module.loaded(module_source, "preprocessing_fn", beam_pipeline_args) as module, \
            tf_workarounds.not_autographed():
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
