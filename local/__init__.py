"""Local runs of a compiled pipeline, with the KFP backend's semantics.

A local run executes the PipelineSpec that ``tfx-kfp compile`` writes (the YAML a
user uploads), task by task: the ``dsl.If`` gate, caching, and the way artifact
metadata and executor output pass through the backend's launcher and ML Metadata
(see ``tfx_kfp.local.backend``). Runners: ``inprocess`` (every task in this
process; TensorFlow is imported once), ``subprocess`` (a process per task) and
``docker`` (every task in the runtime image).
"""

import contextlib
import datetime
import os
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Sequence

from tfx_kfp.local import events, executors, interrupts, prestart, run_record
from tfx_kfp.local.cache import TaskCache
from tfx_kfp.local.errors import BackendRejection, TaskFailed, UnsupportedSpec
from tfx_kfp.local.events import TaskEvent
from tfx_kfp.local.executors import RUNNERS, Mounts
from tfx_kfp.local.interrupts import RunInterrupted
from tfx_kfp.local.spec import CompiledPipeline, load, parse

__all__ = ["RUN_RECORD", "SPEC_FILE", "RUNNERS", "LocalRun", "Mounts", "TaskEvent", "TaskFailed", "BackendRejection", "UnsupportedSpec",
           "RunInterrupted",
           "CompiledPipeline", "compile_for_local", "declared_parameters", "load", "parse", "run_compiled", "run_file",
           "run_pipeline"]

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


def declared_parameters(compiled: CompiledPipeline) -> Dict[str, Dict[str, Any]]:
    """Root input parameters as the YAML declares them: name -> {parameterType, defaultValue?, isOptional?}."""
    from google.protobuf import json_format

    return json_format.MessageToDict(compiled.spec.root.input_definitions).get("parameters", {})


def _typed_arguments(compiled: CompiledPipeline, arguments: Dict[str, Any]) -> Dict[str, Any]:
    """The root DAG's parameter values: defaults, then ``arguments`` checked as ``submit`` checks them."""
    from tfx_kfp.pipelines.argument_checks import check_run_arguments

    checked = check_run_arguments(compiled.name, declared_parameters(compiled), arguments)
    return {**compiled.parameter_defaults(), **checked}


def _write_run_record(run: LocalRun, compiled: CompiledPipeline, runner: str,
                      outcome: str = run_record.RUNNING) -> None:
    record = {"pipeline": compiled.name, "runner": runner, "seconds": run.seconds, "outcome": outcome,
              "tasks": run_record.tasks(run.tasks)}
    run_record.write(os.path.join(run.run_dir, RUN_RECORD), record)


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
        The LocalRun. Raises TaskFailed when a task fails; the run stops there; before any task,
        UnknownParameter, InputError or MissingParameters (tfx_kfp.pipelines.argument_checks) for
        arguments the declarations or the rules refuse. SIGTERM or SIGINT stop it too (RunInterrupted,
        after run.json says ``interrupted`` and staging is removed).
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
    started = time.time()

    def observe(event: TaskEvent) -> None:
        (observer or (lambda event: None))(event)
        if event.state in events.FINAL_STATES:  # a run killed outright still leaves what it finished
            _write_run_record(LocalRun(run_dir, time.time() - started, orchestrator.records), compiled, runner)

    settings = RunSettings(runner=runner, pipeline_root=pipeline_root, run_dir=run_dir,
                           cache=TaskCache(pipeline_root, enabled=cache), observer=observe,
                           mounts=mounts, user_module_paths=tuple(user_module_paths),
                           show_user_warning=show_user_warning, verbose=verbose)
    orchestrator = Orchestrator(compiled, settings)
    _write_run_record(LocalRun(run_dir, 0.0, {}), compiled, runner)
    run_record.reserve(os.path.join(run_dir, RUN_RECORD))
    outcome = run_record.FAILED
    try:
        with interrupts.signals_interrupt(), \
                (prestart.prestarted(compiled, parameters) if runner == "inprocess" else contextlib.nullcontext()):
            orchestrator.run(parameters)
        outcome = run_record.SUCCEEDED
    except KeyboardInterrupt as e:
        outcome = run_record.INTERRUPTED
        interrupts.remove_staging(run_dir)
        interrupted = e if isinstance(e, RunInterrupted) else RunInterrupted("SIGINT")
        interrupted.run_dir = run_dir
        raise interrupted from (None if interrupted is e else e)
    finally:
        executors.wait_for_removals()
        run = LocalRun(run_dir=run_dir, seconds=time.time() - started, tasks=orchestrator.records)
        _write_run_record(run, compiled, runner, outcome)
        run_record.release(os.path.join(run_dir, RUN_RECORD))
    return run


def compile_for_local(pipeline) -> CompiledPipeline:
    """Compiles a KFP pipeline exactly as ``tfx_kfp.pipelines.compile_pipeline`` writes it for upload."""
    from tfx_kfp.pipelines import compile_pipeline

    with tempfile.TemporaryDirectory(prefix="tfx-kfp-compile-") as folder:
        path = os.path.join(folder, SPEC_FILE)
        compile_pipeline(pipeline, path)
        return load(path)


def run_file(path: str, arguments: Optional[Dict[str, Any]] = None, **options) -> LocalRun:
    """Runs the compiled pipeline YAML at ``path`` as it is (``tfx-kfp run --local --pipeline-file``).

    ``arguments`` are typed Python values checked against the YAML's declared parameters as
    ``tfx_kfp.cluster.submit`` checks them; see ``run_compiled`` for the options.
    """
    return run_compiled(load(path), arguments, **options)


def run_pipeline(pipeline, arguments: Optional[Dict[str, Any]] = None, **options) -> LocalRun:
    """Compiles ``pipeline`` and runs the compiled spec (see ``run_compiled`` for the options)."""
    return run_compiled(compile_for_local(pipeline), arguments, **options)
