"""Runs a pipeline locally with kfp.local and summarises what it produced."""

import contextlib
import glob
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

RUNNERS = ("inprocess", "subprocess", "docker")


@dataclass
class LocalRun:
    """The outcome of a local run, read back from kfp.local's task folders."""

    run_dir: str
    seconds: float
    outputs: Dict[str, Dict[str, Any]] = field(default_factory=dict)  # task -> output name -> metadata

    def metadata(self, task: str, output: str) -> Dict[str, Any]:
        return self.outputs.get(task, {}).get(output, {})

    @property
    def blessed(self) -> Optional[bool]:
        value = self.metadata("evaluator", "blessing").get("blessed")
        return None if value is None else bool(value)

    @property
    def eval_accuracy(self) -> Optional[float]:
        return self.metadata("evaluator", "metrics").get("sparse_categorical_accuracy")

    @property
    def pushed_destination(self) -> Optional[str]:
        pushed = self.metadata("pusher", "pushed_model")
        return pushed.get("pushed_destination") if pushed.get("pushed") else None


def _read_outputs(run_dir: str) -> Dict[str, Dict[str, Any]]:
    outputs: Dict[str, Dict[str, Any]] = {}
    for path in glob.glob(os.path.join(run_dir, "*", "executor_output.json")):
        task = os.path.basename(os.path.dirname(path))
        with open(path) as f:
            executor_output = json.load(f)
        for name, artifact_list in executor_output.get("artifacts", {}).items():
            artifacts = artifact_list.get("artifacts", [])
            if artifacts:
                outputs.setdefault(task, {})[name] = artifacts[0].get("metadata", {})
    return outputs


def _latest_run_dir(pipeline_root: str, pipeline_name: str, started: float) -> str:
    candidates = [d for d in glob.glob(os.path.join(pipeline_root, f"{pipeline_name}-*"))
                  if os.path.isdir(d) and os.path.getmtime(d) >= started - 1]
    if not candidates:
        raise RuntimeError(f"no run folder for {pipeline_name!r} appeared under {pipeline_root}")
    return max(candidates, key=os.path.getmtime)


def run_pipeline(pipeline, arguments: Dict[str, Any], *, runner: str = "inprocess",
                 pipeline_root: str = "tfx-kfp-runs", docker_read_only=(), docker_read_write=()) -> LocalRun:
    """Runs ``pipeline(**arguments)`` under kfp.local.

    Args:
        pipeline: A KFP pipeline built with ``gate_push=False`` (kfp.local cannot run ``dsl.If``).
        arguments: Pipeline arguments; omitted ones take the pipeline's defaults.
        runner: "inprocess" (one process for every task: TensorFlow is imported once),
            "subprocess" (``kfp.local.SubprocessRunner``, one process per task) or
            "docker" (``kfp.local.DockerRunner``, every task in the runtime image).
        pipeline_root: Where kfp.local writes task outputs.
        docker_read_only: Host folders the docker tasks read (mounted at the same path).
        docker_read_write: Host folders the docker tasks write (mounted at the same path).

    Returns:
        A LocalRun. Raises RuntimeError (kfp.local's) when a task fails.
    """
    from kfp import local

    from tfx_kfp.local.docker import docker_mounts
    from tfx_kfp.local.inprocess import in_process_tasks

    if runner not in RUNNERS:
        raise ValueError(f"runner must be one of {RUNNERS}, got {runner!r}")
    pipeline_root = os.path.abspath(pipeline_root)
    os.makedirs(pipeline_root, exist_ok=True)
    if runner == "docker":
        local.init(runner=local.DockerRunner(), pipeline_root=pipeline_root)
        context = docker_mounts(list(docker_read_only), list(docker_read_write))
    else:
        local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=pipeline_root)
        context = in_process_tasks() if runner == "inprocess" else contextlib.nullcontext()
    started = time.time()
    with context:
        pipeline(**arguments)
    run_dir = _latest_run_dir(pipeline_root, pipeline.name, started)
    return LocalRun(run_dir=run_dir, seconds=time.time() - started, outputs=_read_outputs(run_dir))
