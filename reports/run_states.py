"""What each task of a local run's compiled spec did: done, cached (and by which run), skipped (and why).

A local run folder (``tfx_kfp.local``) holds the spec it ran (``pipeline.yaml``) and ``run.json``: per
task its state; for done and cached tasks, its output parameters and artifact URIs; for skipped ones, the
false condition and its values, or the skipped tasks it consumes. A cached task's
URIs are in the run that produced them; a skipped task sits under a ``dsl.If`` gate that was false, or
consumes a task that was skipped.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

RUN_RECORD = "run.json"  # tfx_kfp.local.RUN_RECORD, restated: importing tfx_kfp.local imports kfp
SPEC_FILE = "pipeline.yaml"  # tfx_kfp.local.SPEC_FILE
DONE, CACHED, SKIPPED, FAILED = "done", "cached", "skipped", "failed"
_CHANNEL = re.compile(r"inputs\.parameter_values\['(?P<key>[^']+)'\]")


@dataclass
class Gate:
    """A ``dsl.If`` condition a task runs under, its inputs resolved to the producing tasks' outputs."""

    condition: str
    inputs: Dict[str, Tuple[str, str]]  # condition key -> (producer task, output parameter)

    def readable(self) -> str:
        return _CHANNEL.sub(lambda m: ".".join(self.inputs.get(m["key"], ("?", m["key"]))), self.condition)


@dataclass
class SpecTask:
    """A container task of the spec, in run order, with the gates around it and the tasks it consumes."""

    name: str
    gates: List[Gate] = field(default_factory=list)
    producers: List[str] = field(default_factory=list)


@dataclass
class TaskState:
    """A spec task's state in a run, with why (skipped) or where its outputs come from (cached)."""

    name: str
    state: str  # done, cached, skipped, failed, running, waiting, or "not run"
    seconds: float = 0.0
    reason: str = ""
    producing_run: Optional[Path] = None
    parameters: Dict[str, Any] = field(default_factory=dict)
    outputs: Dict[str, str] = field(default_factory=dict)


def read_spec(run_dir: Path) -> Optional[Dict[str, Any]]:
    """The PipelineSpec the run executed (the first YAML document; a platform spec may follow)."""
    import yaml

    try:
        documents = list(yaml.safe_load_all((run_dir / SPEC_FILE).read_text()))
    except (OSError, yaml.YAMLError):
        return None
    return next((d for d in documents if isinstance(d, dict) and "root" in d), None)


def read_record(run_dir: Path) -> Dict[str, Any]:
    try:
        record = json.loads((run_dir / RUN_RECORD).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _resolve(key: str, task: Dict[str, Any], scopes: List[Dict[str, Any]]) -> Tuple[str, str]:
    """(producer task, output key) behind a task's input parameter, through enclosing DAGs' inputs."""
    spec = (task.get("inputs") or {}).get("parameters", {}).get(key, {})
    if "taskOutputParameter" in spec:
        output = spec["taskOutputParameter"]
        return output.get("producerTask", "?"), output.get("outputParameterKey", key)
    if "componentInputParameter" in spec and scopes:
        return _resolve(spec["componentInputParameter"], scopes[-1], scopes[:-1])
    return "?", key


def spec_tasks(spec: Dict[str, Any]) -> List[SpecTask]:
    """The spec's container tasks, DAG by DAG in run order, each with the gates enclosing it."""
    components = spec.get("components") or {}
    found: List[SpecTask] = []

    def walk(dag: Dict[str, Any], gates: List[Gate], scopes: List[Dict[str, Any]]) -> None:
        tasks = dag.get("tasks") or {}
        for name in _topological(tasks):
            task = tasks[name]
            child = components.get((task.get("componentRef") or {}).get("name", ""), {})
            condition = (task.get("triggerPolicy") or {}).get("condition")
            inner = gates + ([Gate(condition, {m["key"]: _resolve(m["key"], task, scopes)
                                               for m in _CHANNEL.finditer(condition)})] if condition else [])
            if "dag" in child:
                walk(child["dag"], inner, scopes + [task])
            else:
                artifacts = (task.get("inputs") or {}).get("artifacts") or {}
                producers = sorted(set(task.get("dependentTasks") or []) | {
                    a["taskOutputArtifact"].get("producerTask") for a in artifacts.values()
                    if "taskOutputArtifact" in a})
                found.append(SpecTask(name, inner, producers))

    walk((spec.get("root") or {}).get("dag") or {}, [], [])
    return found


def _topological(tasks: Dict[str, Any]) -> List[str]:
    ordered: List[str] = []

    def visit(name: str, path: Tuple[str, ...] = ()) -> None:
        if name in ordered or name in path or name not in tasks:
            return
        for upstream in sorted(tasks[name].get("dependentTasks") or []):
            visit(upstream, path + (name,))
        ordered.append(name)

    for name in sorted(tasks):
        visit(name)
    return ordered


def _skip_reason(task: SpecTask, record: Dict[str, Any]) -> str:
    """Why the run skipped ``task``, from what the orchestrator recorded, said with task and output names."""
    reason = record.get("skipped_because") or {}
    if "condition" in reason:
        gate = next((g for g in task.gates if g.condition == reason["condition"]), Gate(reason["condition"], {}))
        shown = ", ".join(f"{'.'.join(gate.inputs.get(k, ('?', k)))} = {json.dumps(v)}"
                          for k, v in (reason.get("parameter_values") or {}).items())
        return f"the dsl.If condition {gate.readable()} was false" + (f" ({shown})" if shown else "")
    skipped = reason.get("skipped_producers") or []
    if skipped:
        return f"it consumes the output of skipped task{'s' if len(skipped) > 1 else ''} {', '.join(skipped)}"
    return "the run recorded no reason"


def _producing_run(outputs: Dict[str, str], run_dir: Path) -> Optional[Path]:
    for uri in outputs.values():
        path = Path(uri[len("file://"):] if uri.startswith("file://") else uri)
        if len(path.parts) >= 3 and path.parent.parent != run_dir:
            return path.parent.parent  # <pipeline root>/<run>/<task>/<output>
    return None


def task_states(run_dir: Path) -> Optional[List[TaskState]]:
    """Every task of the spec the run executed, in run order, with its state; None without a spec."""
    spec = read_spec(run_dir)
    if spec is None:
        return None
    records = read_record(run_dir).get("tasks") or {}
    states = []
    for task in spec_tasks(spec):
        record = records.get(task.name) or {}
        state = TaskState(task.name, record.get("state") or "not run", float(record.get("seconds") or 0.0),
                          parameters=dict(record.get("parameters") or {}), outputs=dict(record.get("outputs") or {}))
        if state.state == SKIPPED:
            state.reason = _skip_reason(task, record)
        elif state.state == CACHED:
            state.producing_run = _producing_run(state.outputs, run_dir)
        states.append(state)
    return states


def outcome(states: List[TaskState], has_record: bool) -> Tuple[str, str]:
    """(status class, one sentence) for the top of the index: how the run ended."""
    failed = [s.name for s in states if s.state == FAILED]
    if failed:
        return "bad", f"Failed at {', '.join(failed)}."
    unfinished = [s.name for s in states if s.state not in (DONE, CACHED, SKIPPED)]
    if not has_record or unfinished:
        return "warn", ("Did not finish (no run record: stopped or still running)." if not has_record else
                        f"Did not finish: {', '.join(unfinished)} never completed.")
    counts = {state: sum(1 for s in states if s.state == state) for state in (DONE, CACHED, SKIPPED)}
    text = f"Succeeded: {counts[DONE]} done, {counts[CACHED]} cached, {counts[SKIPPED]} skipped."
    skipped = [s for s in states if s.state == SKIPPED]
    if skipped:
        text += f" {skipped[0].name} skipped because {skipped[0].reason}."
    return "good", text
