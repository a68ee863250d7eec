"""The penguin preset: the generic training pipeline on the Palmer penguins data.

Data: ``data/penguins_processed.csv`` (342 rows; species 0/1/2 and four
measurements scaled to [0, 1]; see tools/make_penguin_csv.py). Module:
``penguin_module.py``, a TFX module file for Keras 3.
"""

import os
from typing import Any, Dict, Optional

from tfx_kfp.pipelines import cluster
from tfx_kfp.pipelines.training import create_training_pipeline

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.join(HERE, "data")
MODULE_FILE = os.path.join(HERE, "penguin_module.py")
LABEL_KEY = "species"
MODEL_NAME = cluster.SERVING_MODEL_NAME
# 342 rows: starting Beam worker processes costs more than the work (measured: ExampleGen 36 s in
# multi_processing mode vs 3 s in_memory on 2 cores), so the preset runs Beam in memory.
BEAM_PIPELINE_ARGS = ["--direct_running_mode=in_memory"]
TARGETS = ("local", "kind")


def module_source() -> str:
    with open(MODULE_FILE) as f:
        return f.read()


def penguin_defaults(target: str = "local", serving_base_dir: Optional[str] = None) -> Dict[str, Any]:
    """The preset's parameter defaults for a target ("local" or "kind")."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    defaults = {
        "module_source": module_source(),
        "label_key": LABEL_KEY,
        "train_steps": 200,
        "eval_steps": 5,
        "accuracy_threshold": 0.9,
        "beam_pipeline_args": BEAM_PIPELINE_ARGS,
    }
    if target == "local":
        defaults["data_root"] = DATA_DIR
        defaults["serving_base_dir"] = os.path.abspath(serving_base_dir or os.path.join("serving_model", MODEL_NAME))
    else:
        defaults["data_root"] = cluster.CLUSTER_DATA_ROOT
        defaults["serving_base_dir"] = cluster.CLUSTER_SERVING_BASE_DIR
    return defaults


def penguin_pipeline(target: str = "local", *, gate_push: bool = True, import_schema: bool = False,
                     separate_modules: bool = False, overrides: Optional[Dict[str, Any]] = None):
    """The penguin pipeline for a target.

    Args:
        target: "local" (data from this package, model pushed under ./serving_model/penguin) or "kind"
            (data and model store on the ``tfx-kfp-model-store`` volume mounted into every task).
        gate_push: Put the Pusher under ``dsl.If`` (see ``create_training_pipeline``).
        import_schema: Take a curated ``schema_pbtxt`` parameter instead of inferring the schema.
        separate_modules: Take ``transform_module_source`` and ``trainer_module_source`` (each defaulting
            to the preset's module) instead of one ``module_source``.
        overrides: Parameter defaults that replace the preset's.

    Returns:
        The KFP pipeline.
    """
    defaults = {**penguin_defaults(target), **(overrides or {})}
    if target == "kind":
        defaults = cluster.cluster_parameter_values(defaults)
    if separate_modules:
        shared = defaults.pop("module_source")
        defaults.setdefault("transform_module_source", shared)
        defaults.setdefault("trainer_module_source", shared)
    store = {}
    if target == "kind":
        store = {"model_store_pvc": cluster.MODEL_STORE_PVC_NAME,
                 "model_store_mount_path": cluster.MODEL_STORE_MOUNT_PATH}
    return create_training_pipeline("penguin", defaults=defaults, gate_push=gate_push, import_schema=import_schema,
                                    separate_modules=separate_modules, **store)
