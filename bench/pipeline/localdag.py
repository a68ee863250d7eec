"""The anchor: the same penguin pipeline with TFX's own components on TFX's ``LocalDagRunner``.

Set up like the tfx-kfp penguin preset (same CSV folder, module file, steps, EvalConfig, Beam args),
with a fresh SQLite ML Metadata store and caching off. Per-component seconds come from TFX's own
records: each component's MLMD execution, registered before its executor runs and published after.
"""

import time
from types import SimpleNamespace


def tfx_api(public: bool):
    """TFX's classes from the public ``tfx.v1`` API (what TFX's examples use) or from their modules.

    ``from tfx import v1`` also imports ``tfx.v1.extensions`` (google-cloud-aiplatform and more);
    the module imports load only what a LocalDagRunner pipeline of these stages needs.
    """
    if public:
        from tfx import v1 as tfx

        return SimpleNamespace(components=tfx.components, proto=tfx.proto, Pipeline=tfx.dsl.Pipeline,
                               LocalDagRunner=tfx.orchestration.LocalDagRunner,
                               sqlite_config=tfx.orchestration.metadata.sqlite_metadata_connection_config)
    from tfx import components
    from tfx.orchestration import metadata, pipeline
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner
    from tfx.proto import pusher_pb2, trainer_pb2

    proto = SimpleNamespace(TrainArgs=trainer_pb2.TrainArgs, EvalArgs=trainer_pb2.EvalArgs,
                            PushDestination=pusher_pb2.PushDestination)
    return SimpleNamespace(components=components, proto=proto, Pipeline=pipeline.Pipeline,
                           LocalDagRunner=LocalDagRunner, sqlite_config=metadata.sqlite_metadata_connection_config)


def _eval_config(spec: dict):
    from tensorflow_model_analysis.proto import config_pb2 as tfma

    accuracy = tfma.MetricConfig(
        class_name="SparseCategoricalAccuracy",
        threshold=tfma.MetricThreshold(
            value_threshold=tfma.GenericValueThreshold(lower_bound={"value": spec["accuracy_threshold"]})),
    )
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(label_key=spec["label_key"], signature_name="serving_examples")],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[tfma.MetricsSpec(metrics=[tfma.MetricConfig(class_name="ExampleCount"), accuracy])],
    )


def tfx_pipeline(tfx, spec: dict, eval_config=None, name: str = "penguin-local-dag"):
    """CsvExampleGen → … → Pusher with TFX's own components (``tfx`` from :func:`tfx_api`); the penguin
    EvalConfig unless ``eval_config`` is given."""
    transform_module = spec.get("transform_module_file", spec["module_file"])
    trainer_module = spec.get("trainer_module_file", spec["module_file"])
    example_gen = tfx.components.CsvExampleGen(input_base=spec["data_root"])  # default split: 2:1 hash buckets
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"], infer_feature_shape=True)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"])
    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"], schema=schema_gen.outputs["schema"],
        module_file=transform_module, disable_statistics=True)  # as tfx-kfp's transform
    trainer = tfx.components.Trainer(
        module_file=trainer_module, examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"], schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=spec["train_steps"]),
        eval_args=tfx.proto.EvalArgs(num_steps=spec["eval_steps"]))
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"], model=trainer.outputs["model"],
        eval_config=eval_config or _eval_config(spec))
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"], model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=spec["serving_base_dir"])))
    return tfx.Pipeline(
        pipeline_name=name, pipeline_root=spec["pipeline_root"],
        components=[example_gen, statistics_gen, schema_gen, example_validator, transform, trainer, evaluator,
                    pusher],
        metadata_connection_config=tfx.sqlite_config(spec["mlmd_path"]),
        beam_pipeline_args=list(spec["beam_pipeline_args"] or []), enable_cache=bool(spec.get("cache", False)))


def only_artifact(store, type_name: str):
    artifacts = store.get_artifacts_by_type(type_name)
    if len(artifacts) != 1:
        raise RuntimeError(f"expected one {type_name} artifact in MLMD, found {len(artifacts)}")
    return artifacts[0]


def node_seconds(store) -> dict:
    """Seconds per component (class name, e.g. ``CsvExampleGen``) from its completed MLMD execution."""
    from ml_metadata.proto import metadata_store_pb2

    types = {t.id: t.name.rsplit(".", 1)[-1] for t in store.get_execution_types()}
    seconds = {}
    for execution in store.get_executions():
        if execution.last_known_state != metadata_store_pb2.Execution.COMPLETE:
            raise RuntimeError(f"{types[execution.type_id]}: execution state {execution.last_known_state}")
        seconds[types[execution.type_id]] = (execution.last_update_time_since_epoch
                                             - execution.create_time_since_epoch) / 1000
    return seconds


def _outcome(spec: dict) -> dict:
    """Blessing, accuracy, push destination and per-component seconds, from MLMD and the evaluation."""
    import tensorflow_model_analysis as tfma
    from ml_metadata.metadata_store import metadata_store
    from tfx.orchestration import metadata

    store = metadata_store.MetadataStore(metadata.sqlite_metadata_connection_config(spec["mlmd_path"]))
    blessing = only_artifact(store, "ModelBlessing").custom_properties.get("blessed")
    pushed = only_artifact(store, "PushedModel").custom_properties
    accuracy = None
    for slice_key, by_output in tfma.load_eval_result(only_artifact(store, "ModelEvaluation").uri).slicing_metrics:
        if not slice_key:  # the overall slice
            for by_class in by_output.values():
                value = by_class.get("", {}).get("sparse_categorical_accuracy", {}).get("doubleValue")
                accuracy = value if value is not None else accuracy
    was_pushed = "pushed" in pushed and pushed["pushed"].int_value == 1
    return {
        "node_seconds": node_seconds(store),
        "blessed": None if blessing is None else bool(blessing.int_value),
        "accuracy": accuracy,
        "pushed_destination": pushed["pushed_destination"].string_value if was_pushed else None,
    }


def run(spec: dict) -> dict:
    """Builds and runs the pipeline; returns when imports finished, its seconds and its outcome."""
    tfx = tfx_api(public=not spec.get("module_imports"))
    imported = time.time()
    pipeline = tfx_pipeline(tfx, spec)
    started = time.time()
    tfx.LocalDagRunner().run(pipeline)
    return {"imported": imported, "pipeline_seconds": time.time() - started, **_outcome(spec)}
