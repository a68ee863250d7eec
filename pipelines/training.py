"""The generic TFX training pipeline: CSV in, a blessed SavedModel pushed to TF Serving out.

ResolveInputs → ExampleGen → StatisticsGen → SchemaGen (or ImportSchema) → ExampleValidator →
Transform → Trainer → Evaluator (against LatestPushedModel, the model being served) →
InfraValidator → Pusher: the InfraValidator under ``dsl.If`` on the Evaluator's blessing, the
Pusher under a second ``dsl.If`` on the InfraValidator's.
"""

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from kfp import dsl

from tfx_kfp import components
from tfx_kfp.components import names
from tfx_kfp.pipelines import beam_runner
from tfx_kfp.runtime import task_env
from tfx_kfp.runtime.beam_defaults import DEFAULT_BEAM_PIPELINE_ARGS


@dataclass(frozen=True)
class Parameter:
    """One pipeline parameter: its type, default (``inspect.Parameter.empty`` = required) and help."""

    type: type
    default: Any
    help: str


REQUIRED = inspect.Parameter.empty

PARAMETERS: Dict[str, Parameter] = {
    "data_root": Parameter(str, REQUIRED, "Folder of input CSV (or TFRecord) files, as a path the tasks can read."),
    "module_source": Parameter(str, REQUIRED, "Python source of the TFX module file (preprocessing_fn and run_fn)."),
    "label_key": Parameter(str, REQUIRED, "The label column."),
    "serving_base_dir": Parameter(str, REQUIRED, "TF Serving model base path the Pusher writes versions into."),
    "input_format": Parameter(str, "csv", "Input file format: csv or tfrecord."),
    "input_pattern": Parameter(str, "", "Files to read under data_root as a TFX input pattern, e.g. "
                                        "span-{SPAN}/*.csv (latest span by default); empty: every file."),
    "span_range": Parameter(list, [], "[first, last] span to read with input_pattern; empty: the latest span."),
    "train_steps": Parameter(int, 100, "Training steps (fn_args.train_steps)."),
    "eval_steps": Parameter(int, 5, "Evaluation steps during training (fn_args.eval_steps)."),
    "accuracy_threshold": Parameter(float, 0.6, "Lowest overall accuracy the Evaluator blesses (BinaryAccuracy for "
                                                "one sigmoid score, SparseCategoricalAccuracy for class scores)."),
    "min_improvement": Parameter(float, 0.0, "How much the candidate's accuracy must exceed the served model's "
                                             "(0: at least as good; negative, e.g. -0.01: a tolerated regression); "
                                             "ignored on a first run."),
    "fail_on_anomalies": Parameter(bool, True, "Stop at the ExampleValidator when the data has anomalies."),
    "custom_config": Parameter(str, "{}", "JSON object passed to preprocessing_fn and run_fn as custom_config."),
    "eval_config_json": Parameter(str, "", "A full TFMA EvalConfig as JSON; replaces the accuracy threshold."),
    "beam_pipeline_args": Parameter(list, DEFAULT_BEAM_PIPELINE_ARGS, "Apache Beam pipeline options for every Beam "
                                    "stage; empty: each stage picks the DirectRunner's mode by its input size and "
                                    "the cores (runtime/beam_defaults.py)."),
}
# Compile/submit-time parameters naming a Beam engine; they expand into beam_pipeline_args
# (pipelines/beam_runner.py) and are not parameters of the compiled pipeline.
BEAM_RUNNER_PARAMETERS: Dict[str, Parameter] = {
    name: Parameter(str, "", help) for name, help in beam_runner.HELP.items()}
SCHEMA_PARAMETER = Parameter(str, REQUIRED, "Text of the curated schema.pbtxt used instead of an inferred schema.")
# With separate modules (a module file per component, as TFX allows) these replace module_source, so
# editing only the training code leaves Transform's inputs, and its cache entry, unchanged.
SEPARATE_MODULE_PARAMETERS: Dict[str, Parameter] = {
    "transform_module_source": Parameter(str, REQUIRED, "Python source of the Transform module (preprocessing_fn)."),
    "trainer_module_source": Parameter(str, REQUIRED, "Python source of the Trainer module (run_fn)."),
}


def _signature(parameters: Dict[str, Parameter], defaults: Dict[str, Any]) -> inspect.Signature:
    unknown = sorted(set(defaults) - set(parameters))
    if unknown:
        raise ValueError(f"unknown pipeline parameters {unknown}; expected some of {sorted(parameters)}")
    def has_default(item) -> bool:
        return item[0] in defaults or item[1].default is not REQUIRED

    # Python requires parameters without defaults first.
    ordered = [i for i in parameters.items() if not has_default(i)] + [i for i in parameters.items() if has_default(i)]
    return inspect.Signature([
        inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=spec.type,
                          default=defaults.get(name, spec.default))
        for name, spec in ordered
    ])


def _docstring(description: str, parameters: Dict[str, Parameter]) -> str:
    lines = [description, "", "Args:"] + [f"    {name}: {spec.help}" for name, spec in parameters.items()]
    return "\n".join(lines) + "\n"


def _wire(p: Dict[str, Any], *, import_schema: bool, gate_push: bool, mount: Optional[Callable]) -> None:
    """Adds the eight stages to the pipeline being built; ``p`` maps parameter names to channels."""
    tasks: List[dsl.PipelineTask] = []

    inputs = components.resolve_inputs(data_root=p["data_root"], input_format=p["input_format"],
                                       input_pattern=p["input_pattern"], span_range=p["span_range"])
    inputs.set_caching_options(False)  # new data arrives outside the pipeline
    example_gen = components.example_gen(
        data_root=p["data_root"], input_format=p["input_format"], label_key=p["label_key"],
        beam_pipeline_args=p["beam_pipeline_args"], input_pattern=p["input_pattern"], span_range=p["span_range"],
        input_fingerprint=inputs.outputs["fingerprint"],
    )
    statistics_gen = components.statistics_gen(
        examples=example_gen.outputs[names.EXAMPLES], beam_pipeline_args=p["beam_pipeline_args"],
    )
    if import_schema:
        schema_task = components.import_schema(schema_pbtxt=p["schema_pbtxt"])
    else:
        schema_task = components.schema_gen(statistics=statistics_gen.outputs[names.STATISTICS])
    schema = schema_task.outputs[names.SCHEMA]
    example_validator = components.example_validator(
        statistics=statistics_gen.outputs[names.STATISTICS], schema=schema,
        fail_on_anomalies=p["fail_on_anomalies"],
    )
    transform = components.transform(
        examples=example_gen.outputs[names.EXAMPLES], schema=schema,
        module_source=p.get("transform_module_source", p.get("module_source")),
        custom_config=p["custom_config"], beam_pipeline_args=p["beam_pipeline_args"],
    ).after(example_validator)
    trainer = components.trainer(
        examples=transform.outputs[names.TRANSFORMED_EXAMPLES],
        transform_graph=transform.outputs[names.TRANSFORM_GRAPH],
        schema=schema, module_source=p.get("trainer_module_source", p.get("module_source")),
        train_steps=p["train_steps"], eval_steps=p["eval_steps"], custom_config=p["custom_config"],
    )
    served = components.latest_pushed_model(serving_base_dir=p["serving_base_dir"])
    served.set_caching_options(False)  # what is served changes outside the pipeline
    evaluator = components.evaluator(
        examples=example_gen.outputs[names.EXAMPLES], model=trainer.outputs[names.MODEL],
        baseline_model=served.outputs[names.BASELINE_MODEL], label_key=p["label_key"],
        accuracy_threshold=p["accuracy_threshold"], min_improvement=p["min_improvement"],
        eval_config_json=p["eval_config_json"], beam_pipeline_args=p["beam_pipeline_args"],
    )
    tasks += [inputs, example_gen, statistics_gen, schema_task, example_validator, transform, trainer, served, evaluator]

    def validate_and_push() -> List[dsl.PipelineTask]:
        infra = components.infra_validator(model=trainer.outputs[names.MODEL],
                                           examples=example_gen.outputs[names.EXAMPLES])
        with dsl.If(infra.outputs[names.BLESSED] == True, name="serves-correctly"):  # noqa: E712
            push = components.pusher(
                model=trainer.outputs[names.MODEL], blessing=evaluator.outputs[names.BLESSING],
                serving_base_dir=p["serving_base_dir"], evaluation_metrics=evaluator.outputs[names.METRICS],
                source_run=dsl.PIPELINE_JOB_NAME_PLACEHOLDER, infra_blessing=infra.outputs[names.INFRA_BLESSING],
            )
            push.set_caching_options(False)  # its effect is outside the pipeline root
        return [infra, push]

    if gate_push:
        with dsl.If(evaluator.outputs[names.BLESSED] == True, name="model-blessed"):  # noqa: E712
            tasks += validate_and_push()
    else:
        tasks += validate_and_push()
    for task in tasks:
        task_env.set_on(task)  # Keras 2 for TFX's stack, in the spec (runtime/task_env.py)
        if mount:
            mount(task)


def create_training_pipeline(
    name: str = "tfx-kfp-training",
    *,
    description: str = "TFX training pipeline on Kubeflow Pipelines v2 (tfx-kfp).",
    defaults: Optional[Dict[str, Any]] = None,
    import_schema: bool = False,
    separate_modules: bool = False,
    gate_push: bool = True,
    model_store_pvc: Optional[str] = None,
    model_store_mount_path: Optional[str] = None,
):
    """Builds the training pipeline.

    Args:
        name: The pipeline name.
        description: The pipeline description.
        defaults: Default values for pipeline parameters (see ``PARAMETERS``).
        import_schema: Use ``import_schema`` with a ``schema_pbtxt`` parameter instead of ``schema_gen``.
        separate_modules: Take ``transform_module_source`` and ``trainer_module_source`` instead of one
            ``module_source`` for both.
        gate_push: Put the Pusher under ``dsl.If`` on the blessing, as every compiled and local run does;
            ``False`` leaves only the Pusher's own blessing check (for tests of that check).
        model_store_pvc: If set, every task mounts this PersistentVolumeClaim (kfp-kubernetes).
        model_store_mount_path: Where tasks mount ``model_store_pvc``.

    Returns:
        A KFP pipeline (a ``GraphComponent``): compile it (``compile_pipeline``) or run it locally
        (``tfx_kfp.local.run_pipeline``).
    """
    parameters = dict(PARAMETERS)
    if separate_modules:
        del parameters["module_source"]
        parameters.update(SEPARATE_MODULE_PARAMETERS)
    if import_schema:
        parameters["schema_pbtxt"] = SCHEMA_PARAMETER
    mount = None
    if model_store_pvc:
        from kfp import kubernetes

        def mount(task):
            kubernetes.mount_pvc(task, pvc_name=model_store_pvc, mount_path=model_store_mount_path)

    signature = _signature(parameters, defaults or {})

    def training_pipeline(*args, **kwargs):
        channels = signature.bind(*args, **kwargs).arguments
        _wire(channels, import_schema=import_schema, gate_push=gate_push, mount=mount)

    training_pipeline.__signature__ = signature
    training_pipeline.__doc__ = _docstring(description, parameters)
    training_pipeline.__name__ = name.replace("-", "_")
    return dsl.pipeline(name=name, description=description)(training_pipeline)
