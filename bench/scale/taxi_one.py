"""One chicago-taxi pipeline run in a fresh process, for ``bench/scale/measure.py``.

    PYTHONPATH=<repository> python -m bench.scale.taxi_one SPEC.json RESULT.json

SPEC names the system ("tfx-kfp", the in-process runner of ``tfx_kfp.local``, or
"tfx-local-dag-runner") and the workload: the CSV folder, TFX's ``taxi_utils_native_keras.py``, steps,
Beam args. Both run TFX's taxi pipeline (``taxi_pipeline_native_keras.py``): ExampleGen → StatisticsGen →
SchemaGen → ExampleValidator → Transform → Trainer → Evaluator → Pusher, the Evaluator with TFX's
EvalConfig (BinaryAccuracy ≥ 0.6 on ``tips_xf`` through ``transform_features``), no baseline.

Per-stage seconds come from the runners' own records: tfx-kfp's ``<run_dir>/run.json`` (written by its
orchestrator), LocalDagRunner's ML Metadata executions. A stage that did not run is recorded with its
state (tfx-kfp's InfraValidator refuses TFX's Keras 3 taxi export, so its Pusher is skipped; see
docs/benchmarks.md), not as a time. Nothing heavy is imported before ``STARTED``.
"""

import json
import os
import sys
import time

STARTED = time.time()

from bench.pipeline.run_one import STAGES, other_task_times, stage_name  # noqa: E402  (no heavy imports)

LABEL = "tips"
# TFX's taxi_pipeline_native_keras.py EvalConfig, without the change threshold (no baseline on a first run).
EVAL_CONFIG = {
    "model_specs": [{"signature_name": "serving_default", "label_key": "tips_xf",
                     "preprocessing_function_names": ["transform_features"]}],
    "slicing_specs": [{}],
    "metrics_specs": [{"metrics": [
        {"class_name": "ExampleCount"},
        {"class_name": "BinaryAccuracy", "threshold": {"value_threshold": {"lower_bound": 0.6}}}]}],
}


def tfx_kfp_stages(record: dict) -> dict:
    """{stage: {"state", "seconds"}} from a tfx-kfp run.json, in pipeline order (``missing`` if absent)."""
    tasks = {stage_name(name): task for name, task in record["tasks"].items() if stage_name(name)}
    return {stage: {"state": tasks[stage]["state"], "seconds": float(tasks[stage]["seconds"])} if stage in tasks
            else {"state": "missing", "seconds": None} for stage in STAGES}


def check_ran(stages: dict, may_skip=("Pusher",)) -> None:
    """Every stage ran (``done``), except those in ``may_skip``, which may also be ``skipped``."""
    bad = {stage: s["state"] for stage, s in stages.items()
           if s["state"] != "done" and not (stage in may_skip and s["state"] == "skipped")}
    if bad:
        raise RuntimeError(f"stages that did not run to completion: {bad}")


def warm_pool(spec: dict):
    """With ``beam_pipeline_args`` "warm_pool": a pool started now (its start is part of the run's time)
    whose Beam args replace it; else None."""
    if spec["beam_pipeline_args"] != "warm_pool":
        return None
    from tfx_kfp.runtime import beam_warm_pool

    pool = beam_warm_pool.start()
    spec["beam_pipeline_args"] = pool.args
    return pool


def run_tfx_kfp(spec: dict) -> dict:
    from tfx_kfp import local
    from tfx_kfp.pipelines.presets import build_pipeline

    imported = time.time()
    with open(spec["module_file"]) as f:
        module_source = f.read()
    params = {"data_root": spec["data_root"], "module_source": module_source, "label_key": LABEL,
              "serving_base_dir": spec["serving_base_dir"], "train_steps": spec["train_steps"],
              "eval_steps": spec["eval_steps"], "eval_config_json": json.dumps(EVAL_CONFIG)}
    if spec["beam_pipeline_args"] is not None:  # None: the pipeline's own default
        params["beam_pipeline_args"] = list(spec["beam_pipeline_args"])
    run = local.run_pipeline(build_pipeline("training", target="local", params=params), runner="inprocess",
                             pipeline_root=spec["pipeline_root"], cache=False)
    with open(os.path.join(run.run_dir, local.RUN_RECORD)) as f:
        record = json.load(f)
    stages = tfx_kfp_stages(record)
    check_ran(stages)
    return {"imported": imported, "pipeline_seconds": record["seconds"], "stages": stages,
            "other_tasks": other_task_times(record), "blessed": run.blessed,
            "metrics": run.metadata("evaluator", "metrics"), "pushed_destination": run.pushed_destination}


def run_local_dag(spec: dict) -> dict:
    from tfx import v1 as tfx
    from ml_metadata.metadata_store import metadata_store

    from bench.pipeline import localdag

    from google.protobuf import json_format
    from tensorflow_model_analysis.proto import config_pb2

    imported = time.time()
    pipeline = localdag.tfx_pipeline(localdag.tfx_api(public=True), spec,
                                     json_format.ParseDict(EVAL_CONFIG, config_pb2.EvalConfig()), "taxi-local-dag")
    started = time.time()
    tfx.orchestration.LocalDagRunner().run(pipeline)
    seconds = time.time() - started
    store = metadata_store.MetadataStore(tfx.orchestration.metadata.sqlite_metadata_connection_config(
        spec["mlmd_path"]))
    nodes = {stage_name(node): s for node, s in localdag.node_seconds(store).items() if stage_name(node)}
    stages = {stage: {"state": "done", "seconds": nodes[stage]} if stage in nodes
              else {"state": "missing", "seconds": None} for stage in STAGES}
    check_ran(stages, may_skip=())
    blessing = localdag.only_artifact(store, "ModelBlessing").custom_properties.get("blessed")
    pushed = localdag.only_artifact(store, "PushedModel").custom_properties
    return {"imported": imported, "pipeline_seconds": seconds, "stages": stages, "other_tasks": {},
            "blessed": None if blessing is None else bool(blessing.int_value), "metrics": {},
            "pushed_destination": pushed["pushed_destination"].string_value
            if "pushed" in pushed and pushed["pushed"].int_value == 1 else None}


def main(spec_path: str, result_path: str) -> int:
    with open(spec_path) as f:
        spec = json.load(f)
    pool = warm_pool(spec)
    try:
        outcome = {"tfx-kfp": run_tfx_kfp, "tfx-local-dag-runner": run_local_dag}[spec["system"]](spec)
    finally:
        if pool:
            pool.stop()
    outcome.update(started=STARTED, stage_order=list(STAGES))
    with open(result_path + ".partial", "w") as f:
        json.dump(outcome, f, indent=1)
    os.replace(result_path + ".partial", result_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
