"""Runs TFX's generic Trainer executor on KFP artifact paths."""

import json
import math
import os

from tfx.components.trainer import executor as tfx_executor
from tfx.proto import trainer_pb2
from tfx.types import standard_component_specs as specs

from tfx_kfp.runtime import metadata, reports, tfx_bridge, user_module
from tfx_kfp.runtime.signatures import read_signatures
from tfx_kfp.runtime.errors import InputError
from tfx_kfp.runtime.staging import staged_dir
from tfx_kfp.components.trainer.history import read_history
from tfx_kfp.reports import render_training_html
from tfx_kfp.components.transform.executor import parse_custom_config


SERVING_SUBDIR = "Format-Serving"


def run(*, examples, transform_graph, schema, module_source, model, model_run, metrics, report, train_steps,
        eval_steps, custom_config):
    """Calls ``run_fn`` and writes the model, its logs and its final metrics."""
    for field, value in (("train_steps", train_steps), ("eval_steps", eval_steps)):
        if value < 1:
            raise InputError("trainer", "must be a positive number of steps", field=field, received=str(value))
    module_file = user_module.materialize(module_source, "run_fn")
    config = parse_custom_config(custom_config, "trainer")
    inputs = {
        specs.EXAMPLES_KEY: [tfx_bridge.to_tfx("Examples", examples)],
        specs.TRANSFORM_GRAPH_KEY: [tfx_bridge.to_tfx("TransformGraph", transform_graph)],
        specs.SCHEMA_KEY: [tfx_bridge.to_tfx("Schema", schema)],
    }
    with staged_dir(model.path) as model_dir, staged_dir(model_run.path) as run_dir:
        tfx_model = tfx_bridge.to_tfx("Model", model, uri=model_dir)
        tfx_model_run = tfx_bridge.to_tfx("ModelRun", model_run, uri=run_dir)
        tfx_executor.GenericExecutor(tfx_bridge.plain_context()).Do(
            inputs,
            {specs.MODEL_KEY: [tfx_model], specs.MODEL_RUN_KEY: [tfx_model_run]},
            {
                specs.TRAIN_ARGS_KEY: tfx_bridge.proto_json(trainer_pb2.TrainArgs(num_steps=train_steps)),
                specs.EVAL_ARGS_KEY: tfx_bridge.proto_json(trainer_pb2.EvalArgs(num_steps=eval_steps)),
                specs.MODULE_FILE_KEY: module_file,
                specs.CUSTOM_CONFIG_KEY: json.dumps(config),
            },
        )
        history = read_history(run_dir)
        signatures = read_signatures(os.path.join(model_dir, SERVING_SUBDIR))
    for name, values in history.items():
        if values and math.isfinite(values[-1]):
            metadata.log_finite_metric(metrics, name, values[-1])
    model.metadata["signatures"] = signatures
    reports.write_report(report, render_training_html(history))
    print(f"trainer: model in {model.path}; final metrics: "
          + (", ".join(f"{k}={v[-1]:.4f}" for k, v in history.items() if v) or "none logged"))
