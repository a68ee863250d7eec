"""One timed pipeline run, executed as a fresh process by ``bench/pipeline_bench.py``.

Usage (the parent builds this): ``python bench/pipeline/children.py '<json spec>'``.
The spec names the system ("tfx-kfp" with a runner, or "tfx-local-dag-runner", which
imports TFX through ``tfx.v1`` unless ``module_imports`` is set), the
data folder, the module file, the Beam args and a work folder. The process prints
``BENCH_MARK <name> <epoch>`` and ``BENCH_TASK start|end <task> <epoch>`` lines while it
runs and ends with ``BENCH_RESULT <json>``; it exits non-zero if the run failed or
pushed no blessed model.

Nothing heavy is imported before ``BENCH_MARK start``: the parent times the whole
process, imports included.
"""

import json
import os
import sys
import time

STARTED = time.time()


def _mark(name: str, when: float = None) -> None:
    print(f"BENCH_MARK {name} {when if when is not None else time.time():.3f}", flush=True)


def _saved_model_under(path: str) -> bool:
    return bool(path) and os.path.exists(os.path.join(path, "saved_model.pb"))


# --------------------------------------------------------------------------- tfx-kfp


def run_tfx_kfp(spec: dict) -> dict:
    from tfx_kfp.cli.commands import run as run_command

    _mark("imported")
    params = {
        "serving_base_dir": spec["serving_base_dir"],
        "beam_pipeline_args": list(spec["beam_pipeline_args"]),
    }
    _mark("pipeline_start")
    result = run_command.execute("penguin", params, spec["runner"], spec["pipeline_root"])
    _mark("pipeline_end")
    print(f"bench: {run_command.summarize('penguin', result)}", flush=True)
    pushed = result.pushed_destination
    return {
        "pipeline_seconds": result.seconds,
        "blessed": result.blessed,
        "accuracy": result.eval_accuracy,
        "pushed_destination": pushed,
        "pushed_ok": bool(result.blessed) and _saved_model_under(pushed),
        "run_dir": result.run_dir,
    }


# ----------------------------------------------------------- TFX's own LocalDagRunner


class _LogTimes:
    """An absl-logger handler that reports when LocalDagRunner's log lines of interest were written.

    ``BENCH_TASK start|end <node> <epoch>`` for each component, and ``BENCH_LOG <epoch> <message>``
    for the overhead phases the parent times (TFX sdist builds, module wheel builds, pip installs).
    """

    RUNNING = "Component %s is running."
    FINISHED = "Component %s is finished."
    PHASES = ("Attempting to infer TFX Python dependency", "Added --extra_package", "Generating ephemeral wheel",
              "Successfully built user code wheel", "Installing ", "Successfully installed ")

    @classmethod
    def install(cls):
        import logging

        from absl import logging as absl_logging

        class Handler(logging.Handler):
            def emit(self, record):
                if record.msg in (cls.RUNNING, cls.FINISHED) and record.args:
                    kind = "start" if record.msg == cls.RUNNING else "end"
                    print(f"BENCH_TASK {kind} {record.args[0]} {record.created:.3f}", flush=True)
                elif isinstance(record.msg, str) and record.msg.startswith(cls.PHASES):
                    text = record.getMessage().replace("\n", " ")[:300]
                    print(f"BENCH_LOG {record.created:.3f} {text}", flush=True)

        absl_logging.set_verbosity(absl_logging.INFO)
        logging.getLogger("absl").addHandler(Handler(level=logging.INFO))


def _tfx_api(public: bool):
    """TFX's classes, from the public ``tfx.v1`` API (what TFX's examples use) or from their modules.

    ``from tfx import v1`` also imports ``tfx.v1.extensions`` (google-cloud-aiplatform and more);
    the module imports load what a LocalDagRunner pipeline of these stages needs.
    """
    from types import SimpleNamespace

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


def _local_dag_pipeline(tfx, spec: dict):
    """CsvExampleGen → … → Pusher with TFX's own components, set up like the tfx-kfp penguin preset."""
    from tensorflow_model_analysis.proto import config_pb2 as tfma

    module_file = spec["module_file"]
    example_gen = tfx.components.CsvExampleGen(input_base=spec["data_root"])  # default split: 2:1 hash buckets
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"], infer_feature_shape=True)
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"])
    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"], schema=schema_gen.outputs["schema"], module_file=module_file,
        disable_statistics=True)  # as tfx-kfp's transform (TFX's default adds pre/post-transform statistics)
    trainer = tfx.components.Trainer(
        module_file=module_file,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=spec["train_steps"]),
        eval_args=tfx.proto.EvalArgs(num_steps=spec["eval_steps"]),
    )
    accuracy = tfma.MetricConfig(
        class_name="SparseCategoricalAccuracy",
        threshold=tfma.MetricThreshold(
            value_threshold=tfma.GenericValueThreshold(lower_bound={"value": spec["accuracy_threshold"]})),
    )
    eval_config = tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(label_key=spec["label_key"], signature_name="serving_examples")],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[tfma.MetricsSpec(metrics=[tfma.MetricConfig(class_name="ExampleCount"), accuracy])],
    )
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"], model=trainer.outputs["model"], eval_config=eval_config)
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=spec["serving_base_dir"])),
    )
    return tfx.Pipeline(
        pipeline_name="penguin-local-dag",
        pipeline_root=spec["pipeline_root"],
        components=[example_gen, statistics_gen, schema_gen, example_validator, transform, trainer, evaluator,
                    pusher],
        metadata_connection_config=tfx.sqlite_config(spec["mlmd_path"]),
        beam_pipeline_args=list(spec["beam_pipeline_args"]),
        enable_cache=False,
    )


def _local_dag_outcome(spec: dict) -> dict:
    """Reads blessing, accuracy and push outcome back from MLMD and the evaluation folder."""
    import tensorflow_model_analysis as tfma
    from ml_metadata.metadata_store import metadata_store
    from tfx.orchestration import metadata

    store = metadata_store.MetadataStore(metadata.sqlite_metadata_connection_config(spec["mlmd_path"]))

    def only(type_name):
        artifacts = store.get_artifacts_by_type(type_name)
        if len(artifacts) != 1:
            raise AssertionError(f"expected one {type_name} artifact in MLMD, found {len(artifacts)}")
        return artifacts[0]

    blessing = only("ModelBlessing").custom_properties.get("blessed")
    pushed = only("PushedModel").custom_properties
    accuracy = None
    for slice_key, by_output in tfma.load_eval_result(only("ModelEvaluation").uri).slicing_metrics:
        if not slice_key:
            for by_class in by_output.values():
                value = by_class.get("", {}).get("sparse_categorical_accuracy", {}).get("doubleValue")
                accuracy = value if value is not None else accuracy
    destination = pushed["pushed_destination"].string_value if "pushed_destination" in pushed else None
    blessed = None if blessing is None else bool(blessing.int_value)
    return {
        "blessed": blessed,
        "accuracy": accuracy,
        "pushed_destination": destination,
        "pushed_ok": bool(blessed) and pushed.get("pushed") is not None and pushed["pushed"].int_value == 1
        and _saved_model_under(destination),
    }


def run_local_dag(spec: dict) -> dict:
    tfx = _tfx_api(public=not spec.get("module_imports"))
    _mark("imported")
    _LogTimes.install()
    pipeline = _local_dag_pipeline(tfx, spec)
    _mark("pipeline_start")
    started = time.time()
    tfx.LocalDagRunner().run(pipeline)
    seconds = time.time() - started
    _mark("pipeline_end")
    return {"pipeline_seconds": seconds, **_local_dag_outcome(spec)}


def main(argv) -> int:
    spec = json.loads(argv[1])
    _mark("start", STARTED)
    runners = {"tfx-kfp": run_tfx_kfp, "tfx-local-dag-runner": run_local_dag}
    try:
        outcome = runners[spec["system"]](spec)
    except BaseException as e:  # reported to the parent, which fails the benchmark
        import traceback

        traceback.print_exc()
        print("BENCH_RESULT " + json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}), flush=True)
        return 1
    outcome["ok"] = bool(outcome.get("pushed_ok"))
    _mark("done")
    print("BENCH_RESULT " + json.dumps(outcome), flush=True)
    return 0 if outcome["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
