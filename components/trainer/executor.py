"""Runs TFX's generic Trainer executor on KFP artifact paths."""

import json
import math
import os

from kfp.dsl import HTML, Input, Metrics, Output
from tfx.components.trainer import executor as tfx_executor
from tfx.proto import trainer_pb2
from tfx.types import standard_component_specs as specs

from tfx_kfp.components import names
from tfx_kfp.components.types import Examples, Model, ModelRun, Schema, TransformGraph
from tfx_kfp.components import model_failures
from tfx_kfp.runtime import arguments, metadata, reports, tf_workarounds, tfx_bridge, user_module
from tfx_kfp.runtime.signatures import read_signatures
from tfx_kfp.runtime.staging import staged_dir
from tfx_kfp.components.trainer.history import read_history
from tfx_kfp.reports import render_training_html


def run(*, examples: Input[Examples], transform_graph: Input[TransformGraph], schema: Input[Schema],
        module_source: str, model: Output[Model], model_run: Output[ModelRun], metrics: Output[Metrics],
        report: Output[HTML], train_steps: int, eval_steps: int, custom_config: str) -> None:
    """The ``trainer`` component's body (arguments as documented there).

    Calls ``run_fn`` and writes the model, its logs and its final metrics.
    """
    arguments.check_steps("trainer", "train_steps", train_steps)
    arguments.check_steps("trainer", "eval_steps", eval_steps)
    config = arguments.parse_custom_config("trainer", custom_config)
    inputs = {
        specs.EXAMPLES_KEY: [tfx_bridge.to_tfx("Examples", examples)],
        specs.TRANSFORM_GRAPH_KEY: [tfx_bridge.to_tfx("TransformGraph", transform_graph)],
        specs.SCHEMA_KEY: [tfx_bridge.to_tfx("Schema", schema)],
    }
    with staged_dir(model.path) as model_dir, staged_dir(model_run.path) as run_dir, \
            user_module.loaded(module_source, "run_fn") as module, \
            tf_workarounds.not_autographed(), \
            model_failures.explained("trainer", schema_metadata=schema.metadata):  # issue 18 item 3
        tfx_model = tfx_bridge.to_tfx("Model", model, uri=model_dir)
        tfx_model_run = tfx_bridge.to_tfx("ModelRun", model_run, uri=run_dir)
        tfx_executor.GenericExecutor(tfx_bridge.plain_context()).Do(
            inputs,
            {specs.MODEL_KEY: [tfx_model], specs.MODEL_RUN_KEY: [tfx_model_run]},
            {
                **module,
                specs.TRAIN_ARGS_KEY: tfx_bridge.proto_json(trainer_pb2.TrainArgs(num_steps=train_steps)),
                specs.EVAL_ARGS_KEY: tfx_bridge.proto_json(trainer_pb2.EvalArgs(num_steps=eval_steps)),
                specs.CUSTOM_CONFIG_KEY: json.dumps(config),
            },
        )
        history = read_history(run_dir)
        signatures = read_signatures(os.path.join(model_dir, names.SERVING_MODEL_DIR))
    for name, values in history.items():
        if values and math.isfinite(values[-1]):
            metadata.log_finite_metric(metrics, name, values[-1])
    model.metadata["signatures"] = signatures
    reports.write_report(report, render_training_html(history))
    print(f"trainer: model in {model.path}; final metrics: "
          + (", ".join(f"{k}={v[-1]:.4f}" for k, v in history.items() if v) or "none logged"))
