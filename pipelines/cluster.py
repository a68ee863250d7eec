"""Names shared by the compiled pipeline and the cluster manifests.

The model store is one PersistentVolumeClaim that the pipeline's tasks mount
(via kfp-kubernetes) and TF Serving reads, so a pushed version is picked up
without a restart. deploy/ manifests and the kind scripts use these names.
"""

MODEL_STORE_PVC_NAME = "tfx-kfp-model-store"
MODEL_STORE_MOUNT_PATH = "/model-store"
# Inside the store: data sets the pipeline reads and the model base paths TF Serving watches.
CLUSTER_DATA_ROOT = f"{MODEL_STORE_MOUNT_PATH}/data/penguin"
CLUSTER_SERVING_BASE_DIR = f"{MODEL_STORE_MOUNT_PATH}/models/penguin"
SERVING_MODEL_NAME = "penguin"


def escape_for_kubernetes(value):
    """A parameter value that survives Kubernetes' ``$(VAR)`` expansion unchanged.

    The KFP driver puts the task's executor input, parameter values included, into
    the pod's command (backend/src/v2/driver/driver.go, ``--executor_input``), and
    Kubernetes expands ``$(VAR)`` and turns ``$$`` into ``$`` in a container's command
    and args. Doubling every ``$`` is the exact inverse, so a module source containing
    ``$$`` or ``$(HOME)`` reaches the component as written. Only values bound for a
    cluster are escaped; local runs do no expansion.
    """
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, list):
        return [escape_for_kubernetes(v) for v in value]
    if isinstance(value, dict):
        return {k: escape_for_kubernetes(v) for k, v in value.items()}
    return value
