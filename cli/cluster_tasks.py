"""A Kubeflow Pipelines run per pipeline task (not per pod), as TaskEvents for the RunView.

The KFP API server (read at kubeflow/pipelines 2.17.0, commit 4a3592cb, the
version scripts/kind installs; the same at 2.5.0) lists a run's ``task_details``
from the Argo workflow's nodes (``backend/src/apiserver/server/api_converter.go``,
``toModelTasks``), each with the node's ``DisplayName``. The Argo compiler
(``backend/src/v2/compiler/argocompiler``) turns every container task of the
spec into a ``<task>-driver`` pod, a DAG node named after the task key, and
under it a pod named ``executor`` (``container.go``, the same name for every
task); a ``dsl.If`` becomes a DAG task (``condition-1``) whose node is
SKIPPED when its condition is false, and the tasks inside it never appear.
So a pipeline task's state is the state of the node named after its spec key.

What the API cannot tell apart: a task whose outputs came from KFP's cache is
SUCCEEDED like one that ran (its ``executor`` child is the node that is
skipped, and the API does not say whose child it is).
"""

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

from tfx_kfp.local.events import DONE, FAILED, RUNNING, SKIPPED, WAITING, TaskEvent
from tfx_kfp.runtime.errors import TfxKfpError

# v2beta1 RuntimeState -> the RunView's states.
STATES = {
    "RUNTIME_STATE_UNSPECIFIED": WAITING,
    "PENDING": WAITING,
    "PAUSED": WAITING,
    "RUNNING": RUNNING,
    "SUCCEEDED": DONE,
    "SKIPPED": SKIPPED,
    "FAILED": FAILED,
    "CANCELING": FAILED,
    "CANCELED": FAILED,
}


class ClusterTaskError(TfxKfpError):
    """A task failed on the cluster; the message is what the API reported (shown as is)."""


@dataclass(frozen=True)
class SpecTask:
    """A container task of a compiled pipeline.

    Attributes:
        key: The task's key in its DAG (the Argo node's display name).
        display_name: ``taskInfo.name`` (what ``set_display_name`` sets).
        gates: The DAG tasks (``dsl.If`` conditions) it runs inside, outermost first.
    """

    key: str
    display_name: str
    gates: tuple = ()


def spec_tasks(spec: Mapping[str, Any]) -> List[SpecTask]:
    """The container tasks of a PipelineSpec, upstream tasks first."""
    components = spec.get("components", {})
    found: List[SpecTask] = []
    depth: Dict[str, int] = {}

    def walk(dag: Mapping[str, Any], gates: tuple, base: int) -> None:
        tasks = dag.get("tasks", {})
        levels: Dict[str, int] = {}

        def level(key: str) -> int:
            if key not in levels:
                levels[key] = 0  # stops a cycle, which KFP rejects anyway
                deps = [d for d in tasks[key].get("dependentTasks", []) if d in tasks]
                levels[key] = 1 + max(map(level, deps)) if deps else 0
            return levels[key]

        for key in sorted(tasks, key=lambda k: (level(k), k)):
            task = tasks[key]
            component = components.get(task.get("componentRef", {}).get("name"), {})
            if "dag" in component:
                walk(component["dag"], gates + (key,), base + level(key))
            else:
                depth[key] = base + level(key)
                found.append(SpecTask(key, task.get("taskInfo", {}).get("name", key), gates))

    walk(spec.get("root", {}).get("dag", {}), (), 0)
    return sorted(found, key=lambda t: (depth[t.key], len(t.gates)))


def _seconds(detail: Any) -> float:
    start, end = getattr(detail, "start_time", None), getattr(detail, "end_time", None)
    try:
        return max(0.0, (end - start).total_seconds())
    except TypeError:  # not both set yet
        return 0.0


def task_events(tasks: List[SpecTask], task_details: Optional[List[Any]], *, run_link: str,
                run_error: Optional[str] = None) -> List[TaskEvent]:
    """The current event of each pipeline task from a run's ``task_details``.

    Args:
        tasks: From :func:`spec_tasks`.
        task_details: ``run.run_details.task_details`` (kfp_server_api models).
        run_link: The run in the KFP UI, where a failed task's logs are.
        run_error: The run's error message, for a failed task that reports none.
    """
    nodes: Dict[str, Any] = {}
    for detail in task_details or []:
        name = getattr(detail, "display_name", None)
        if name:
            nodes[name] = detail  # one node per task key; pods ("executor", "*-driver") are never looked up
    events = []
    for task in tasks:
        detail = nodes.get(task.key)
        if detail is None:
            gated_off = any(STATES.get(getattr(nodes.get(g), "state", None) or "") == SKIPPED for g in task.gates)
            events.append(TaskEvent(task.key, SKIPPED if gated_off else WAITING))
            continue
        state = STATES.get(detail.state or "", WAITING)
        error = None
        if state == FAILED:
            message = getattr(getattr(detail, "error", None), "message", None) or run_error
            error = ClusterTaskError(message or f"{detail.state} on the cluster")
        events.append(TaskEvent(task.key, state, seconds=_seconds(detail),
                                log_path=run_link if state == FAILED else None, error=error))
    return events
