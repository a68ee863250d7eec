"""Walks a compiled pipeline's DAGs the way the KFP backend's drivers do.

Tasks run in dependency order; a task whose ``triggerPolicy.condition`` (``dsl.If``)
is false is skipped with everything inside it, as are tasks that consume a skipped
task's outputs; the first failure stops the run. Between tasks, artifact metadata
and parameters go through ``tfx_kfp.local.backend``.
"""

import json
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from tfx_kfp.local import backend, events, executors, outputs
from tfx_kfp.local.cache import TaskCache
from tfx_kfp.local.errors import BackendRejection, TaskFailed, UnsupportedSpec
from tfx_kfp.local.spec import CompiledPipeline, topological_order
from tfx_kfp.runtime import task_env


@dataclass(frozen=True)
class ArtifactRef:
    """An artifact as the backend hands it to a consumer (ML Metadata id, URI, stored metadata)."""

    id: str
    uri: str
    schema_title: str
    metadata: Dict[str, Any]


@dataclass
class TaskRecord:
    name: str
    state: str
    seconds: float = 0.0
    started: float = 0.0
    artifacts: Dict[str, ArtifactRef] = field(default_factory=dict)
    written_metadata: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    parameters: Dict[str, Any] = field(default_factory=dict)
    skip_reason: Dict[str, Any] = field(default_factory=dict)  # the false condition, or the skipped producers


@dataclass(frozen=True)
class RunSettings:
    runner: str
    pipeline_root: str
    run_dir: str
    cache: TaskCache
    observer: events.Observer
    mounts: executors.Mounts
    user_module_paths: tuple = ()
    show_user_warning: Optional[Callable[[str], None]] = None
    verbose: bool = False


class Orchestrator:
    def __init__(self, compiled: CompiledPipeline, settings: RunSettings):
        self.compiled = compiled
        self.settings = settings
        self.records: Dict[str, TaskRecord] = {}
        self.running: Optional[TaskRecord] = None  # the task being executed now
        self.run_values = backend.run_values(os.path.basename(settings.run_dir))

    # --- the DAG walk -------------------------------------------------------------------------
    def run(self, parameters: Dict[str, Any]) -> Dict[str, TaskRecord]:
        root = self.compiled.spec.root
        for name in self._container_tasks(root):
            self._emit(name, events.WAITING)
        self._run_dag(root, parameters, {})
        return self.records

    def _container_tasks(self, component: pipeline_spec_pb2.ComponentSpec) -> List[str]:
        names: List[str] = []
        for name in topological_order(component.dag):
            child = self.compiled.component(component.dag.tasks[name].component_ref.name)
            names += self._container_tasks(child) if child.HasField("dag") else [name]
        return names

    def _run_dag(self, component, parameters: Dict[str, Any], artifacts: Dict[str, ArtifactRef]) -> None:
        finished: Dict[str, str] = {}  # task -> final state, for this DAG's tasks
        for name in topological_order(component.dag):
            task = component.dag.tasks[name]
            child = self.compiled.component(task.component_ref.name)
            producers = set(task.dependent_tasks) | {a.task_output_artifact.producer_task for a in task.inputs.artifacts.values()
                                                     if a.HasField("task_output_artifact")}
            if any(finished.get(p) == events.SKIPPED for p in producers):
                finished[name] = self._skip(name, child, {"skipped_producers": sorted(
                    p for p in producers if finished.get(p) == events.SKIPPED)})
                continue
            task_parameters = self._resolve_parameters(name, task, child, parameters)
            task_artifacts = self._resolve_artifacts(name, task, artifacts)
            condition = task.trigger_policy.condition
            if condition and not backend.condition_holds(condition, task_parameters):
                finished[name] = self._skip(name, child, {"condition": condition, "parameter_values": {
                    key: value for key, value in task_parameters.items() if f"['{key}']" in condition}})
                continue
            if child.HasField("dag"):
                self._run_dag(child, task_parameters, task_artifacts)
                finished[name] = events.DONE
            else:
                finished[name] = self._run_container(name, task, child, task_parameters, task_artifacts).state

    def _skip(self, name: str, component, reason: Dict[str, Any]) -> str:
        for task in (self._container_tasks(component) if component.HasField("dag") else [name]):
            self.records[task] = TaskRecord(task, events.SKIPPED, skip_reason=reason)
            self._emit(task, events.SKIPPED)
        return events.SKIPPED

    # --- inputs ---------------------------------------------------------------------------------
    def _resolve_parameters(self, name, task, component, scope: Dict[str, Any]) -> Dict[str, Any]:
        values: Dict[str, Any] = {}
        for key, spec in task.inputs.parameters.items():
            if spec.HasField("runtime_value"):
                values[key] = backend.driver_constant(
                    backend.protojson_numbers(json_format.MessageToDict(spec.runtime_value.constant)),
                    {**self.run_values, "{{$.pipeline_task_name}}": name})
            elif spec.component_input_parameter:
                values[key] = scope[spec.component_input_parameter]
            elif spec.HasField("task_output_parameter"):
                producer = self.records[spec.task_output_parameter.producer_task]
                values[key] = producer.parameters[spec.task_output_parameter.output_parameter_key]
            else:
                raise UnsupportedSpec(f"task {name!r} input {key!r}: {spec.WhichOneof('kind')} is not supported locally")
        for key, definition in component.input_definitions.parameters.items():
            if key not in values and definition.HasField("default_value"):
                values[key] = backend.protojson_numbers(json_format.MessageToDict(definition.default_value))
        return values

    def _resolve_artifacts(self, name, task, scope: Dict[str, ArtifactRef]) -> Dict[str, ArtifactRef]:
        refs: Dict[str, ArtifactRef] = {}
        for key, spec in task.inputs.artifacts.items():
            if spec.component_input_artifact:
                refs[key] = scope[spec.component_input_artifact]
            elif spec.HasField("task_output_artifact"):
                producer = self.records[spec.task_output_artifact.producer_task]
                refs[key] = producer.artifacts[spec.task_output_artifact.output_artifact_key]
            else:
                raise UnsupportedSpec(f"task {name!r} input artifact {key!r}: {spec.WhichOneof('kind')} is not supported locally")
        return refs

    # --- one container task ----------------------------------------------------------------------
    def _executor_input(self, task_root: str, component, parameters, artifacts) -> Dict[str, Any]:
        outputs = component.output_definitions
        return {
            "inputs": {
                "parameterValues": backend.protojson_numbers(parameters),
                # The driver builds input artifacts from ML Metadata: the id as name, the stored
                # metadata, and the type as an instance schema rather than a schema title.
                "artifacts": {key: {"artifacts": [{"name": ref.id, "uri": ref.uri,
                                                   "metadata": backend.protojson_numbers(ref.metadata),
                                                   "type": {"instanceSchema": f"title: {ref.schema_title}\n"}}]}
                              for key, ref in artifacts.items()},
            },
            "outputs": {
                "parameters": {key: {"outputFile": os.path.join(task_root, "parameters", key)}
                               for key in outputs.parameters},
                "artifacts": {key: {"artifacts": [{"name": key, "uri": os.path.join(task_root, key), "metadata": {},
                                                   "type": json_format.MessageToDict(spec.artifact_type)}]}
                              for key, spec in outputs.artifacts.items()},
                "outputFile": os.path.join(task_root, "executor_output.json"),
            },
        }

    def _fingerprint(self, component, container, parameters, artifacts) -> str:
        outputs = component.output_definitions
        return backend.cache_fingerprint(
            {key: [ref.id] for key, ref in artifacts.items()}, parameters,
            {key: json_format.MessageToDict(spec.artifact_type) for key, spec in outputs.artifacts.items()},
            {key: pipeline_spec_pb2.ParameterType.ParameterTypeEnum.Name(spec.parameter_type)
             for key, spec in outputs.parameters.items()},
            container["image"], container.get("command", []) + container.get("args", []),
            self.compiled.pvc_names(component.executor_label))

    def _run_container(self, name, task, component, parameters, artifacts) -> TaskRecord:
        container = self.compiled.container(component)
        env = task_env.effective(task_env.spec_env(container))
        fingerprint = self.settings.cache.key(self._fingerprint(component, container, parameters, artifacts), env)
        if task.caching_options.enable_cache:
            entry = self.settings.cache.lookup(fingerprint)
            if entry:
                return self._finish(TaskRecord(
                    name, events.CACHED, seconds=entry["seconds"],
                    artifacts={k: ArtifactRef(**a) for k, a in entry["artifacts"].items()},
                    written_metadata=entry["written_metadata"], parameters=entry["parameters"]))
        record = self.running = TaskRecord(name, events.RUNNING, started=time.time())
        try:
            return self._run_and_collect(record, task, component, container, parameters, artifacts, fingerprint,
                                         env)
        except OSError as e:  # a full disk, a read-only root …: this stage failed, the run stops cleanly
            record.seconds = time.time() - record.started
            return self._fail(record, f"{e.strerror or e}" + (f": {e.filename}" if e.filename else ""), e)
        except KeyboardInterrupt:  # SIGINT, or SIGTERM as local.RunInterrupted: run.json names this task
            self._mark_interrupted()
            raise
        finally:
            self.running = None

    def _run_and_collect(self, record: TaskRecord, task, component, container, parameters, artifacts,
                         fingerprint: str, env: Dict[str, str]) -> TaskRecord:
        name = record.name
        task_root = os.path.join(self.settings.run_dir, name)
        os.makedirs(os.path.join(task_root, "parameters"), exist_ok=True)
        executor_input = self._executor_input(task_root, component, parameters, artifacts)
        with open(os.path.join(task_root, "executor_input.json"), "w") as f:
            json.dump(executor_input, f, indent=1)
        command = backend.launcher_command(container.get("command", []), container.get("args", []), executor_input)
        log_path = self._log_path(name)
        self._emit(name, events.RUNNING)
        outcome = self._execute(command, container["image"], log_path, env)
        record.seconds = time.time() - record.started
        if outcome.exit_code != 0:
            return self._fail(record, outcome.message or "non-zero exit", outcome.error)
        unfinished = outputs.early_exit(executor_input, parameters, outcome.exit_code)
        if unfinished:
            return self._fail(record, unfinished, None)
        try:
            self._collect_outputs(record, component, executor_input)
        except BackendRejection as e:
            return self._fail(record, f"the KFP launcher would reject its outputs: {e}", e)
        record.state = events.DONE
        if task.caching_options.enable_cache:
            self._store(fingerprint, record)
        return self._finish(record)

    def _store(self, fingerprint: str, record: TaskRecord) -> None:
        try:
            self.settings.cache.store(fingerprint, {
                "task": record.name, "seconds": record.seconds, "parameters": record.parameters,
                "written_metadata": record.written_metadata,
                "artifacts": {k: vars(ref) for k, ref in record.artifacts.items()}})
        except OSError as e:  # the task succeeded; only its reuse by a later run is lost
            print(f"tfx-kfp: task {record.name!r}: could not write its cache entry: {e}", file=sys.__stderr__)

    def _execute(self, command: List[str], image: str, log_path: str, env: Dict[str, str]) -> executors.Outcome:
        runner = self.settings.runner
        verbose = self.settings.verbose
        if runner == "inprocess":
            return executors.run_in_process(command, log_path, self.settings.user_module_paths,
                                            show_user_warning=self.settings.show_user_warning, verbose=verbose, env=env)
        if runner == "subprocess":
            return executors.run_in_subprocess(command, log_path, verbose=verbose, env=env)
        return executors.run_in_docker(command, image, log_path, self.settings.pipeline_root, self.settings.mounts,
                                       verbose=verbose, env=env)

    def _collect_outputs(self, record: TaskRecord, component, executor_input) -> None:
        outputs = executor_input["outputs"]
        output_file = outputs["outputFile"]
        produced: Dict[str, Any] = {}
        if os.path.exists(output_file):
            with open(output_file) as f:
                produced = backend.parse_executor_output(f.read(), output_file)
        for key, definition in component.output_definitions.parameters.items():
            if key in produced.get("parameterValues", {}):
                record.parameters[key] = produced["parameterValues"][key]
                continue
            with open(outputs["parameters"][key]["outputFile"]) as f:
                record.parameters[key] = backend.parameter_from_text(
                    f.read(), pipeline_spec_pb2.ParameterType.ParameterTypeEnum.Name(definition.parameter_type))
        for key, artifact_list in outputs["artifacts"].items():
            declared = artifact_list["artifacts"][0]
            written = (produced.get("artifacts", {}).get(key, {}).get("artifacts") or [{}])[0]
            metadata = {**declared["metadata"], **written.get("metadata", {})}
            record.written_metadata[key] = metadata
            record.artifacts[key] = ArtifactRef(
                id=uuid.uuid4().hex, uri=written.get("uri") or declared["uri"],
                schema_title=declared["type"].get("schemaTitle", "system.Artifact"),
                metadata=backend.mlmd_round_trip(metadata, key))

    # --- bookkeeping -------------------------------------------------------------------------------
    def _log_path(self, name: str) -> str:
        folder = os.path.join(self.settings.run_dir, "logs")
        os.makedirs(folder, exist_ok=True)
        return os.path.join(folder, f"{name}.log")

    def _fail(self, record: TaskRecord, message: str, error: Optional[BaseException]) -> TaskRecord:
        record.state = events.FAILED
        self.records[record.name] = record
        failure = TaskFailed(record.name, message, self._log_path(record.name), error)
        self._emit(record.name, events.FAILED, seconds=record.seconds, error=failure)
        raise failure

    def _finish(self, record: TaskRecord) -> TaskRecord:
        self.records[record.name] = record
        self._emit(record.name, record.state, seconds=record.seconds, outputs=record.written_metadata,
                   parameters=record.parameters)
        return record

    def _mark_interrupted(self) -> None:
        """Records the task that was running when the run was interrupted (run.json says so)."""
        if self.running is not None:
            self.running.state = events.INTERRUPTED
            self.running.seconds = time.time() - self.running.started
            self.records[self.running.name] = self.running

    def _emit(self, name: str, state: str, **details) -> None:
        log_path = os.path.join(self.settings.run_dir, "logs", f"{name}.log")
        self.settings.observer(events.TaskEvent(task=name, state=state, log_path=log_path, **details))
