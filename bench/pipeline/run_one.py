"""One penguin pipeline run in a fresh process, for ``bench/pipeline_measure.py``.

    PYTHONPATH=<repository> python -m bench.pipeline.run_one SPEC.json RESULT.json

SPEC names the system ("tfx-kfp" with a runner, or "tfx-local-dag-runner") and the workload. The
result (JSON) holds when imports finished, the pipeline's own seconds, per-stage seconds from the
runner's own records (tfx-kfp: ``<run_dir>/run.json``; LocalDagRunner: its ML Metadata executions)
and the outcome. Exits non-zero when the run failed or pushed no blessed SavedModel.

Nothing heavy is imported before ``STARTED``: the parent times the whole process, imports included.
"""

import json
import os
import sys
import time

STARTED = time.time()
# The TFX stages, in pipeline order; tfx-kfp task names and TFX node ids map onto them.
STAGES = ("ExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "Transform", "Trainer", "Evaluator",
          "Pusher")


def stage_name(task: str):
    """kfp task ``example-gen`` / TFX node ``CsvExampleGen`` → ``ExampleGen``; None for other tasks."""
    key = task.replace("-", "").replace("_", "").lower()
    key = key[len("csv"):] if key.startswith("csvexamplegen") else key
    return next((stage for stage in STAGES if key == stage.lower()), None)


def stage_times(run_record: dict, cached_ok: bool = False) -> dict:
    """Per-stage seconds from a tfx-kfp ``run.json`` (0 for a cache hit); every stage must have run, or,
    with ``cached_ok``, come from the cache."""
    tasks = {stage_name(name): task for name, task in run_record["tasks"].items() if stage_name(name)}
    accepted = ("done", "cached") if cached_ok else ("done",)
    not_done = {stage: tasks[stage]["state"] if stage in tasks else "missing"
                for stage in STAGES if tasks.get(stage, {}).get("state") not in accepted}
    if not_done:
        raise RuntimeError(f"stages that did not run to completion: {not_done}")
    return {stage: 0.0 if tasks[stage]["state"] == "cached" else float(tasks[stage]["seconds"]) for stage in STAGES}


def other_task_times(run_record: dict) -> dict:
    """Seconds of the tasks that are not one of the eight TFX stages (resolve-inputs, infra-validator …)."""
    return {name: float(task["seconds"]) for name, task in run_record["tasks"].items() if not stage_name(name)}


def stages_of_nodes(node_seconds: dict) -> dict:
    """Per-stage seconds from LocalDagRunner's per-component seconds (``CsvExampleGen`` …)."""
    stages = {stage_name(node): seconds for node, seconds in node_seconds.items() if stage_name(node)}
    missing = [stage for stage in STAGES if stage not in stages]
    if missing:
        raise RuntimeError(f"no completed ML Metadata execution for {missing}; found {sorted(node_seconds)}")
    return {stage: stages[stage] for stage in STAGES}


def saved_model_under(path) -> bool:
    return bool(path) and os.path.exists(os.path.join(path, "saved_model.pb"))


def run_tfx_kfp(spec: dict) -> dict:
    from tfx_kfp import local
    from tfx_kfp.pipelines.presets import build_pipeline

    imported = time.time()
    params = {"serving_base_dir": spec["serving_base_dir"], "beam_pipeline_args": list(spec["beam_pipeline_args"])}
    for key in ("transform_module", "trainer_module"):  # a module per component (cache benchmark)
        if spec.get(f"{key}_file"):
            with open(spec[f"{key}_file"]) as f:
                params[f"{key}_source"] = f.read()
    cache = bool(spec.get("cache", False))
    run = local.run_pipeline(build_pipeline("penguin", target="local", params=params), runner=spec["runner"],
                             pipeline_root=spec["pipeline_root"], cache=cache)
    with open(os.path.join(run.run_dir, local.RUN_RECORD)) as f:
        record = json.load(f)
    return {
        "imported": imported,
        "pipeline_seconds": record["seconds"],
        "stages": stage_times(record, cached_ok=cache),
        "other_tasks": other_task_times(record),
        "states": {name: task["state"] for name, task in record["tasks"].items()},
        "blessed": run.blessed,
        "accuracy": run.eval_accuracy,
        "pushed_destination": run.pushed_destination,
    }


def run_local_dag(spec: dict) -> dict:
    from bench.pipeline import localdag

    outcome = localdag.run(spec)
    outcome["stages"] = stages_of_nodes(outcome.pop("node_seconds"))
    return outcome


def main(spec_path: str, result_path: str) -> int:
    with open(spec_path) as f:
        spec = json.load(f)
    runners = {"tfx-kfp": run_tfx_kfp, "tfx-local-dag-runner": run_local_dag}
    outcome = runners[spec["system"]](spec)
    outcome.update(started=STARTED, stage_order=list(STAGES),
                   ok=bool(outcome["blessed"]) and saved_model_under(outcome["pushed_destination"]))
    partial = result_path + ".partial"
    with open(partial, "w") as f:
        json.dump(outcome, f, indent=1)
    os.replace(partial, result_path)
    return 0 if outcome["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
