"""Local runs of a compiled pipeline, with the KFP backend's semantics.

A local run executes the PipelineSpec that ``tfx-kfp compile`` writes (the YAML a
user uploads), task by task: the ``dsl.If`` gate, caching, and the way artifact
metadata and executor output pass through the backend's launcher and ML Metadata
(see ``tfx_kfp.local.backend``). Runners: ``inprocess`` (every task in this
process; TensorFlow is imported once), ``subprocess`` (a process per task) and
``docker`` (every task in the runtime image).
"""

import datetime
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Sequence

from tfx_kfp.local import events
from tfx_kfp.local.cache import TaskCache
from tfx_kfp.local.errors import BackendRejection, TaskFailed, UnsupportedSpec
from tfx_kfp.local.events import TaskEvent
from tfx_kfp.local.executors import RUNNERS, Mounts
from tfx_kfp.local.spec import CompiledPipeline, load, parse

__all__ = ["RUN_RECORD", "SPEC_FILE", "RUNNERS", "LocalRun", "Mounts", "TaskEvent", "TaskFailed", "BackendRejection", "UnsupportedSpec",
           "CompiledPipeline", "compile_for_local", "load", "parse", "run_compiled", "run_pipeline"]

RUN_RECORD = "run.json"
SPEC_FILE = "pipeline.yaml"


@dataclass
class LocalRun:
    """What a local run did: per task, its state, time, outputs' metadata and output parameters."""

    run_dir: str
    seconds: float
    tasks: Dict[str, Any] = field(default_factory=dict)  # name -> orchestrator.TaskRecord

    def state(self, task: str) -> Optional[str]:
        record = self.tasks.get(task)
        return record.state if record else None

    def metadata(self, task: str, output: str) -> Dict[str, Any]:
        """The metadata ``task`` wrote on ``output`` (as its executor output has it)."""
        record = self.tasks.get(task)
        return dict(record.written_metadata.get(output, {})) if record else {}

    @property
    def blessed(self) -> Optional[bool]:
        record = self.tasks.get("evaluator")
        return bool(record.parameters["blessed"]) if record and "blessed" in record.parameters else None

    @property
    def eval_accuracy(self) -> Optional[float]:
        """The overall value of the metric the Evaluator blessed on (its EvalConfig's first threshold)."""
        name = self.metadata("evaluator", "blessing").get("blessing_metric")
        return self.metadata("evaluator", "metrics").get(name) if name else None

    @property
    def pushed_destination(self) -> Optional[str]:
        pushed = self.metadata("pusher", "pushed_model")
        return pushed.get("pushed_destination") if pushed.get("pushed") else None


def _typed_arguments(compiled: CompiledPipeline, arguments: Dict[str, Any]) -> Dict[str, Any]:
    """The root DAG's parameter values: defaults, then ``arguments`` (names checked)."""
    declared = compiled.spec.root.input_definitions.parameters
    unknown = sorted(set(arguments) - set(declared))
    if unknown:
        raise ValueError(f"{compiled.name}: unknown pipeline parameters {unknown}; expected some of {sorted(declared)}")
    values = {**compiled.parameter_defaults(), **arguments}
    missing = sorted(name for name, p in declared.items() if name not in values and not p.is_optional)
    if missing:
        raise ValueError(f"{compiled.name}: missing required pipeline parameters {missing}")
    return values


def _write_run_record(run: LocalRun, compiled: CompiledPipeline, runner: str) -> None:
    record = {"pipeline": compiled.name, "runner": runner, "seconds": run.seconds, "tasks": {
        name: {"state": r.state, "seconds": r.seconds, "started": r.started,
               "ended": r.started + r.seconds if r.started else 0.0}
        for name, r in run.tasks.items()}}
    with open(os.path.join(run.run_dir, RUN_RECORD), "w") as f:
        json.dump(record, f, indent=1)


def run_compiled(compiled: CompiledPipeline, arguments: Optional[Dict[str, Any]] = None, *,
                 runner: str = "inprocess", pipeline_root: str = "tfx-kfp-runs", cache: bool = True,
                 observer: Optional[events.Observer] = None, mounts: Mounts = Mounts(),
                 user_module_paths: Sequence[str] = (), show_user_warning: Optional[Callable[[str], None]] = None,
                 verbose: bool = False) -> LocalRun:
    """Runs a compiled pipeline here.

    Args:
        compiled: The pipeline as compiled (``load(path)`` or ``parse(text)``).
        arguments: Runtime values of pipeline parameters; the others keep their compiled defaults.
        runner: One of RUNNERS.
        pipeline_root: Folder of runs; each run gets ``<pipeline>-<timestamp>/`` with ``pipeline.yaml`` (the
            spec it ran), one folder per task, ``logs/<task>.log`` and ``run.json``.
        cache: Reuse the outputs of an earlier task with the same fingerprint (the backend's default).
        observer: Called with a TaskEvent on every task state change.
        mounts: Host folders Docker tasks read or write (besides the pipeline root).
        user_module_paths: The user's module files (their warnings reach the terminal).
        show_user_warning: Shows a warning raised from the user's code (default: stderr).
        verbose: Stream what tasks print to the terminal instead of their log files.

    Returns:
        The LocalRun. Raises TaskFailed when a task fails; the run stops there.
    """
    from tfx_kfp.local.orchestrator import Orchestrator, RunSettings

    if runner not in RUNNERS:
        raise ValueError(f"runner must be one of {RUNNERS}, got {runner!r}")
    parameters = _typed_arguments(compiled, dict(arguments or {}))
    pipeline_root = os.path.abspath(pipeline_root)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    run_dir = os.path.join(pipeline_root, f"{compiled.name}-{stamp}")
    os.makedirs(run_dir)
    with open(os.path.join(run_dir, SPEC_FILE), "w") as f:
        f.write(compiled.text)
    settings = RunSettings(runner=runner, pipeline_root=pipeline_root, run_dir=run_dir,
                           cache=TaskCache(pipeline_root, enabled=cache), observer=observer or (lambda event: None),
                           mounts=mounts, user_module_paths=tuple(user_module_paths),
                           show_user_warning=show_user_warning, verbose=verbose)
    orchestrator = Orchestrator(compiled, settings)
    started = time.time()
    try:
        orchestrator.run(parameters)
    finally:
        run = LocalRun(run_dir=run_dir, seconds=time.time() - started, tasks=orchestrator.records)
        _write_run_record(run, compiled, runner)
    return run


def compile_for_local(pipeline) -> CompiledPipeline:
    """Compiles a KFP pipeline exactly as ``tfx_kfp.pipelines.compile_pipeline`` writes it for upload."""
    from tfx_kfp.pipelines import compile_pipeline

    with tempfile.TemporaryDirectory(prefix="tfx-kfp-compile-") as folder:
        path = os.path.join(folder, SPEC_FILE)
        compile_pipeline(pipeline, path)
        return load(path)


def run_pipeline(pipeline, arguments: Optional[Dict[str, Any]] = None, **options) -> LocalRun:
    """Compiles ``pipeline`` and runs the compiled spec (see ``run_compiled`` for the options)."""
    return run_compiled(compile_for_local(pipeline), arguments, **options)
