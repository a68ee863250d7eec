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
