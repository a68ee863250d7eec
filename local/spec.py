"""The compiled pipeline a local run executes: the YAML that ``compile`` writes, parsed strictly."""

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from tfx_kfp.local.errors import UnsupportedSpec

PipelineSpec = pipeline_spec_pb2.PipelineSpec


@dataclass(frozen=True)
class CompiledPipeline:
    """A compiled pipeline: the exact YAML text, its PipelineSpec and its platform spec."""

    text: str
    spec: pipeline_spec_pb2.PipelineSpec
    deployment: Dict[str, Any]
    platform: Dict[str, Any]

    @property
    def name(self) -> str:
        return self.spec.pipeline_info.name

    def component(self, name: str) -> pipeline_spec_pb2.ComponentSpec:
        return self.spec.components[name]

    def container(self, component: pipeline_spec_pb2.ComponentSpec) -> Dict[str, Any]:
        executor = self.deployment["executors"][component.executor_label]
        if "container" not in executor:
            raise UnsupportedSpec(f"executor {component.executor_label!r}: only container executors run locally "
                                  f"(got {sorted(executor)})")
        return executor["container"]

    def pvc_names(self, executor_label: str) -> List[str]:
        """PVCs that kfp-kubernetes mounts into the task (its part of the backend's cache key)."""
        executors = self.platform.get("platforms", {}).get("kubernetes", {}).get("deploymentSpec", {}).get("executors", {})
        mounts = executors.get(executor_label, {}).get("pvcMount", [])
        return [m.get("constant") or m.get("taskOutputParameter", {}).get("producerTask", "") for m in mounts]

    def parameter_defaults(self) -> Dict[str, Any]:
        parameters = self.spec.root.input_definitions.parameters
        from tfx_kfp.local.backend import protojson_numbers

        return {name: protojson_numbers(json_format.MessageToDict(p.default_value)) for name, p in parameters.items()
                if p.HasField("default_value")}


def parse(text: str, source: str = "<compiled pipeline>") -> CompiledPipeline:
    """Parses compiled YAML (PipelineSpec, then an optional platform spec) rejecting unknown fields."""
    documents = [d for d in yaml.safe_load_all(text) if d is not None]
    if not documents:
        raise UnsupportedSpec(f"{source}: no PipelineSpec")
    spec = json_format.ParseDict(documents[0], pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=False)
    platform = documents[1] if len(documents) > 1 else {}
    deployment = json_format.MessageToDict(spec.deployment_spec)
    return CompiledPipeline(text=text, spec=spec, deployment=deployment, platform=platform)


def load(path: str) -> CompiledPipeline:
    with open(path) as f:
        return parse(f.read(), path)


def topological_order(dag: pipeline_spec_pb2.DagSpec) -> List[str]:
    """Task names so that every task comes after the tasks it depends on or takes inputs from."""
    def upstream(task: pipeline_spec_pb2.PipelineTaskSpec) -> List[str]:
        names = list(task.dependent_tasks)
        names += [a.task_output_artifact.producer_task for a in task.inputs.artifacts.values()
                  if a.HasField("task_output_artifact")]
        names += [p.task_output_parameter.producer_task for p in task.inputs.parameters.values()
                  if p.HasField("task_output_parameter")]
        return names

    order: List[str] = []
    state: Dict[str, str] = {}

    def visit(name: str, chain: Optional[List[str]] = None) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise UnsupportedSpec(f"cycle between tasks: {' -> '.join((chain or []) + [name])}")
        state[name] = "visiting"
        for dependency in sorted(set(upstream(dag.tasks[name]))):
            visit(dependency, (chain or []) + [name])
        state[name] = "done"
        order.append(name)

    for name in sorted(dag.tasks):
        visit(name)
    return order
