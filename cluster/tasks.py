"""A Kubeflow Pipelines run per pipeline task (not per pod), as TaskEvents for a run view.

The KFP API server (read at kubeflow/pipelines 2.17.0, commit 4a3592cb, the
version scripts/kind installs) lists a run's ``task_details`` from the Argo
workflow's nodes (``backend/src/apiserver/server/api_converter.go``,
``toModelTasks``/``toModelTask``), one entry per node with its ``DisplayName``,
its phase as the state (``Error`` becomes FAILED: ``model/run.go``, ``ToV2``),
start and end in whole seconds (``common/util/workflow.go``, ``NodeStatuses``)
and its children's node IDs as ``child_tasks[].pod_name``; ``toApiPipelineTaskDetail``
sets neither the entry's own ``pod_name`` nor an ``error``. The Argo compiler
(``backend/src/v2/compiler/argocompiler``) runs the entrypoint DAG as
``root-driver`` (template ``system-dag-driver``) then ``root``; every container
task as a ``<task>-driver`` pod, a DAG node named after the task key and under
it a pod named ``executor`` (``container.go``, the same name for every task),
whose ``when`` skips it when the driver found the task in KFP's cache; a
``dsl.If`` becomes a DAG task (``condition-1``, with its own ``-driver``) whose
node is SKIPPED when its condition is false, and the tasks inside never appear.
So a pipeline task's state is the state of the node named after its spec key.
"""

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

from tfx_kfp.local.events import CACHED, DONE, FAILED, RUNNING, SKIPPED, WAITING, TaskEvent
from tfx_kfp.runtime.errors import TfxKfpError

# v2beta1 RuntimeState -> the run view's states.
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
EXECUTOR = "executor"  # the pod of every container task (container.go, addContainerExecutorTemplate)
DRIVER_SUFFIX = "-driver"
ROOT_DRIVER = "root-driver"
ROOT_DRIVER_TEMPLATE = "system-dag-driver"  # dag.go, dagDriverTask
NAMESPACE = "kubeflow"  # where KFP standalone (and scripts/kind) runs the workflows


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


@dataclass(frozen=True)
class SystemFailure:
    """A KFP system step (a driver, not one of the pipeline's tasks) that failed.

    Attributes:
        name: The step's node name, e.g. ``root-driver``.
        pod: Its pod's name where the API's answer determines it, else None.
        where: Where its log is: ``kubectl`` command naming the pod, or listing the run's pods.
    """

    name: str
    pod: Optional[str]
    where: str

    def __str__(self) -> str:
        return f"{self.name} failed (a Kubeflow Pipelines system step, not a pipeline task); its log: {self.where}"


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


def _seconds(detail: Any) -> Optional[float]:
    start, end = getattr(detail, "start_time", None), getattr(detail, "end_time", None)
    try:
        return max(0.0, (end - start).total_seconds())
    except TypeError:  # not both set yet
        return None


def _cached(nodes: Mapping[str, Any], details: List[Any]) -> set:
    """Task keys whose outputs came from KFP's cache.

    The driver's cache decision skips the task's ``executor`` pod, so its DAG node succeeds in
    the second it started (the API's times are whole seconds) while an ``executor`` node is
    SKIPPED; a task that ran had a pod to schedule and start. The API does not say whose child
    an ``executor`` entry is, so the skipped executors must account for every such task.
    """
    instant = {key for key, d in nodes.items()
               if STATES.get(d.state or "") == DONE and (_seconds(d) is not None and _seconds(d) <= 1.0)}
    skipped = sum(1 for d in details if d.display_name == EXECUTOR and STATES.get(d.state or "") == SKIPPED)
    return instant if instant and len(instant) <= skipped else set()


def task_events(tasks: List[SpecTask], task_details: Optional[List[Any]], *, run_link: str,
                run_error: Optional[str] = None) -> List[TaskEvent]:
    """The current event of each pipeline task from a run's ``task_details``.

    Args:
        tasks: From :func:`spec_tasks`.
        task_details: ``run.run_details.task_details`` (kfp_server_api models).
        run_link: The run in the KFP UI, where a failed task's logs are.
        run_error: The run's error message, for a failed task that reports none.
    """
    details = [d for d in task_details or [] if getattr(d, "display_name", None)]
    nodes = {d.display_name: d for d in details}  # one node per task key; "executor" pods are never looked up
    cached = _cached({t.key: nodes[t.key] for t in tasks if t.key in nodes}, details)
    events = []
    for task in tasks:
        detail = nodes.get(task.key)
        driver = nodes.get(task.key + DRIVER_SUFFIX)
        if detail is None and driver is not None and STATES.get(driver.state or "") == FAILED:
            error = ClusterTaskError(f"its driver {task.key}{DRIVER_SUFFIX} (a Kubeflow Pipelines system step) "
                                     f"failed{': ' + run_error if run_error else ''}")
            events.append(TaskEvent(task.key, FAILED, log_path=run_link, error=error))
            continue
        if detail is None:
            gated_off = any(STATES.get(getattr(nodes.get(g), "state", None) or "") == SKIPPED for g in task.gates)
            events.append(TaskEvent(task.key, SKIPPED if gated_off else WAITING))
            continue
        state = CACHED if task.key in cached else STATES.get(detail.state or "", WAITING)
        error = None
        if state == FAILED:
            message = getattr(getattr(detail, "error", None), "message", None) or run_error
            error = ClusterTaskError(message or f"{detail.state} on the cluster")
        events.append(TaskEvent(task.key, state, seconds=_seconds(detail) or 0.0,
                                log_path=run_link if state == FAILED else None, error=error))
    return events


def system_failures(tasks: List[SpecTask], task_details: Optional[List[Any]]) -> List[SystemFailure]:
    """The failed KFP system steps that are no pipeline task's own driver (``root-driver``, ``condition-1-driver``).

    The workflow's own node is the one entry that is none of the compiler's names (``root``,
    ``executor``, ``*-driver``, task keys, condition keys); its display name is the workflow's name,
    which labels every pod of the run (``workflows.argoproj.io/workflow``). The entrypoint DAG's
    first and only task without dependencies is ``root-driver``, so the workflow node's one child is
    ``root-driver``'s node ID; its pod is named as KFP derives it (``RetrievePodName``,
    backend/src/common/util/workflow.go at 2.17.0: ``<workflow>-<template>-<the node ID's hash>``).
    """
    details = [d for d in task_details or [] if getattr(d, "display_name", None)]
    known = {t.key for t in tasks} | {g for t in tasks for g in t.gates} | {"root", EXECUTOR}
    own_drivers = {t.key + DRIVER_SUFFIX for t in tasks}
    workflows = [d for d in details if d.display_name not in known and not d.display_name.endswith(DRIVER_SUFFIX)]
    workflow = workflows[0] if len(workflows) == 1 else None
    failures = []
    for detail in details:
        name = detail.display_name
        if not name.endswith(DRIVER_SUFFIX) or name in own_drivers or STATES.get(detail.state or "") != FAILED:
            continue
        pod = None
        if workflow is not None and name == ROOT_DRIVER:
            children = [getattr(c, "pod_name", None) for c in getattr(workflow, "child_tasks", None) or []]
            if len(children) == 1 and children[0] and "-" in children[0]:
                pod = f"{workflow.display_name}-{ROOT_DRIVER_TEMPLATE}-{children[0].rsplit('-', 1)[1]}"
        if pod:
            where = f"kubectl -n {NAMESPACE} logs {pod}"
        elif workflow is not None:
            where = (f"kubectl -n {NAMESPACE} get pods -l workflows.argoproj.io/workflow={workflow.display_name} "
                     "(its failed pod)")
        else:
            where = "the run's page in the KFP UI"
        failures.append(SystemFailure(name, pod, where))
    return failures
