"""Work an in-process run starts before a task's turn, so that it runs on another core.

The in-process runner runs one task at a time in this process: on a 2-core machine the second
core idles through every stage. The InfraValidator loads the model in a fresh child process
(``components/infra_validator/load_check.py``) whose TensorFlow import takes about 10 s; started
with the run, that import overlaps the stages before it. (In a container of its own, on KFP or
with the other local runners, the component starts the same process before importing TensorFlow
itself, which overlaps the two imports.)

The Beam stages' warm worker pool (``runtime/beam_warm_pool.py``) starts with the run the same way
where a stage may take it (``_beam_pool_may_be_used``): its processes import TensorFlow and TFX on the
other core, at the lowest priority, while the first stages run.
"""

import contextlib
import importlib
import os
from typing import Any, Callable, Dict, Iterator, List, Mapping, Tuple

from tfx_kfp.local.spec import CompiledPipeline
from tfx_kfp.runtime import beam_defaults, task_env


def _beam_pool_may_be_used(parameters: Mapping[str, Any]) -> bool:
    """No Beam args given, and input files large enough for a stage to take the pool (beam_defaults.py)."""
    return not parameters.get("beam_pipeline_args") and \
        beam_defaults.size_of([parameters.get("data_root") or ""]) > beam_defaults.WARM_POOL_MIN_INPUT_BYTES


# A lightweight component's function -> the module offering ``prestart(env)`` and ``discard_prestarted()``,
# and whether a run with these pipeline parameters would use what it starts.
PRESTARTS: Dict[str, Tuple[str, Callable[[Mapping[str, Any]], bool]]] = {
    "infra_validator": ("tfx_kfp.components.infra_validator.load_check", lambda parameters: True),
    "evaluator": ("tfx_kfp.runtime.beam_warm_pool", _beam_pool_may_be_used),
}
FUNCTION_FLAG = "--function_to_execute"


def _prestartable(compiled: CompiledPipeline, parameters: Mapping[str, Any]) -> List[tuple]:
    """(module name, the task's env) for each executor whose function has a prestart the run would use."""
    found = []
    for executor in compiled.deployment.get("executors", {}).values():
        container = executor.get("container", {})
        arguments = container.get("args", [])
        for flag, value in zip(arguments, arguments[1:]):
            if flag == FUNCTION_FLAG and value in PRESTARTS and PRESTARTS[value][1](parameters):
                found.append((PRESTARTS[value][0], task_env.effective(task_env.spec_env(container))))
    return found


@contextlib.contextmanager
def prestarted(compiled: CompiledPipeline, parameters: Mapping[str, Any]) -> Iterator[None]:
    """Starts the prestarts of the pipeline's tasks; stops what no task used when the run ends.

    Only with more than one core to run on: on one, the prestart would slow the stages it overlaps.
    """
    modules = []
    for module_name, env in _prestartable(compiled, parameters) if len(os.sched_getaffinity(0)) > 1 else ():
        module = importlib.import_module(module_name)
        module.prestart(env)
        modules.append(module)
    try:
        yield
    finally:
        for module in modules:
            module.discard_prestarted()
