"""One KFP v2 component per TFX stage.

``from tfx_kfp.components import example_gen`` gives the component. Component
modules load lazily: inside a running task (``_KFP_RUNTIME=true``) KFP's
``kfp.dsl`` has no ``component`` decorator, and the task imports only
``tfx_kfp.components.types`` and its executor, never the other components.
Executors, which import TensorFlow and TFX, are imported inside component
bodies at run time.
"""

import importlib

_COMPONENT_MODULES = {
    "example_gen": "example_gen",
    "statistics_gen": "statistics_gen",
    "schema_gen": "schema_gen",
    "import_schema": "schema_gen",
    "example_validator": "example_validator",
    "transform": "transform",
    "trainer": "trainer",
    "evaluator": "evaluator",
    "pusher": "pusher",
}

__all__ = list(_COMPONENT_MODULES)


def __getattr__(name):
    folder = _COMPONENT_MODULES.get(name)
    if folder is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    component = getattr(importlib.import_module(f"{__name__}.{folder}.component"), name)
    globals()[name] = component
    return component


def __dir__():
    return sorted(set(globals()) | set(__all__))
