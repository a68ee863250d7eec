"""One KFP v2 component per TFX stage.

Importing this package defines the component interfaces (kfp.dsl only; the
``tfx.*`` artifact types need ``kfp_workarounds.defining_components()``, which
is undone right after). Each component's executor, which imports TensorFlow and
TFX, is imported inside the component body at run time. Inside a running task
(``_KFP_RUNTIME=true``, set by KFP) ``kfp.dsl`` has no ``component`` decorator,
and the task needs only ``tfx_kfp.components.types`` and its executor, so the
interfaces are not defined there (the same guard KFP uses for its own package).
"""

import os

from tfx_kfp import kfp_workarounds

if os.environ.get("_KFP_RUNTIME", "false") != "true":
    with kfp_workarounds.defining_components():
        from tfx_kfp.components.evaluator.component import evaluator
        from tfx_kfp.components.example_gen.component import example_gen
        from tfx_kfp.components.example_validator.component import example_validator
        from tfx_kfp.components.infra_validator.component import infra_validator
        from tfx_kfp.components.latest_pushed_model.component import latest_pushed_model
        from tfx_kfp.components.pusher.component import pusher
        from tfx_kfp.components.resolve_inputs.component import resolve_inputs
        from tfx_kfp.components.schema_gen.component import import_schema, schema_gen
        from tfx_kfp.components.statistics_gen.component import statistics_gen
        from tfx_kfp.components.trainer.component import trainer
        from tfx_kfp.components.transform.component import transform

__all__ = [
    "resolve_inputs",
    "example_gen",
    "statistics_gen",
    "schema_gen",
    "import_schema",
    "example_validator",
    "transform",
    "trainer",
    "latest_pushed_model",
    "evaluator",
    "infra_validator",
    "pusher",
]
