"""Pipelines by name, with parameter values as their defaults: what ``compile`` and ``run`` build."""

from typing import Any, Dict

from tfx_kfp.pipelines import beam_runner, cluster
from tfx_kfp.pipelines.argument_checks import MissingParameters, check_arguments
from tfx_kfp.pipelines.penguin import penguin_pipeline
from tfx_kfp.pipelines.training import (BEAM_RUNNER_PARAMETERS, PARAMETERS, SCHEMA_PARAMETER,
                                        SEPARATE_MODULE_PARAMETERS, create_training_pipeline)

PIPELINES = ("penguin", "training")
TARGETS = ("local", "kind")
__all__ = ["PIPELINES", "TARGETS", "PARAMETER_TYPES", "MissingParameters", "build_pipeline"]


# Every parameter a preset can take, with its Python type.
PARAMETER_TYPES: Dict[str, type] = {
    name: spec.type for name, spec in {**PARAMETERS, "schema_pbtxt": SCHEMA_PARAMETER, **SEPARATE_MODULE_PARAMETERS,
                                       **BEAM_RUNNER_PARAMETERS}.items()
}


def build_pipeline(name: str, *, target: str = "local", params: Dict[str, Any]):
    """The named pipeline for a target, ``params`` as its parameter defaults.

    ``schema_pbtxt`` in params selects ImportSchema; ``transform_module_source`` or
    ``trainer_module_source`` selects a module per component (the other one defaults to
    ``module_source``). ``beam_runner`` and its companions expand into ``beam_pipeline_args``
    (``beam_runner.expand``).

    Raises:
        MissingParameters: naming the required parameters that have no value.
        InputError: naming a parameter whose value is invalid on its face (``train_steps=0``).
    """
    if name not in PIPELINES:
        raise ValueError(f"pipeline must be one of {PIPELINES}, got {name!r}")
    params = beam_runner.expand(dict(params))
    check_arguments(params)  # as given: on a cluster, module sources become references below
    import_schema = "schema_pbtxt" in params
    separate_modules = any(key in params for key in SEPARATE_MODULE_PARAMETERS)
    if separate_modules and "module_source" in params:
        shared = params.pop("module_source")
        for key in SEPARATE_MODULE_PARAMETERS:
            params.setdefault(key, shared)
    if name == "penguin":
        pipeline = penguin_pipeline(target, import_schema=import_schema, separate_modules=separate_modules,
                                    overrides=params)
    else:
        store = {}
        if target == "kind":  # the same model store as the penguin preset: data, modules, models
            params = cluster.cluster_parameter_values(params)
            store = {"model_store_pvc": cluster.MODEL_STORE_PVC_NAME,
                     "model_store_mount_path": cluster.MODEL_STORE_MOUNT_PATH}
        pipeline = create_training_pipeline("tfx-kfp-training", defaults=params, import_schema=import_schema,
                                            separate_modules=separate_modules, **store)
    defaults = {key: spec.default for key, spec in pipeline.component_spec.inputs.items()}
    missing = [key for key, value in defaults.items()
               if value is None and not pipeline.component_spec.inputs[key].optional]
    if missing:
        raise MissingParameters(name, missing)
    check_arguments(defaults)  # invalid on their face: refused before the first stage, not at stage four
    if target == "kind":
        cluster.check_parameter_sizes(defaults)
    return pipeline
