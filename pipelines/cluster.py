"""What a pipeline bound for a KFP 2.17 cluster needs: the model store's names, and parameter
values the backend delivers unchanged.

The model store is one PersistentVolumeClaim that the pipeline's tasks mount
(via kfp-kubernetes) and TF Serving reads, so a pushed version is picked up
without a restart. deploy/ manifests and the kind scripts use these names.

Parameter values meet two rules of the backend (docs/kind.md, "How parameters reach the pods"):

* They pass through Kubernetes' ``$(VAR)`` expansion twice: the root DAG driver gets them in
  ``--runtime_config`` (kubeflow/pipelines 2.17.0 ``backend/src/v2/compiler/argocompiler/dag.go``
  line 583), records the expanded values in ML Metadata, and each task's launcher gets them again
  in ``--executor_input`` (``backend/src/v2/driver/driver.go`` line 326). ``escape_for_kubernetes``
  writes every ``$`` as ``$$$$``, which two expansions turn back into ``$``.
* The root DAG execution stores all of them in ML Metadata as one property (``inputs``,
  ``backend/src/v2/metadata/client.go`` line 688, from ``driver/root_dag.go`` line 132, every
  parameter filled with its default by ``argocompiler/argo.go`` lines 99-104), which MLMD writes as
  ``mlmd-struct::`` + base64 of the serialized ``Struct`` (google/ml-metadata v1.14.0
  ``ml_metadata/util/struct_utils.cc``) into a column that its PostgreSQL schema indexes whole
  (``ml_metadata/util/metadata_source_query_config.cc`` lines 5626-5628: ``idx_execution_property_string
  ON ExecutionProperty (name, is_custom_property, string_value)``). A PostgreSQL B-tree refuses
  index rows over 2,704 bytes, so the whole set must stay under ``MLMD_STRING_BUDGET``; a module
  file is far too large, so it travels as a reference to a file in the model store
  (``runtime/user_module.py``).
"""

import base64
from typing import Any, Dict, Mapping

from tfx_kfp.runtime import user_module
from tfx_kfp.runtime.errors import InputError

MODEL_STORE_PVC_NAME = "tfx-kfp-model-store"
MODEL_STORE_MOUNT_PATH = "/model-store"
# Inside the store: data sets the pipeline reads and the model base paths TF Serving watches.
CLUSTER_DATA_ROOT = f"{MODEL_STORE_MOUNT_PATH}/data/penguin"
CLUSTER_SERVING_BASE_DIR = f"{MODEL_STORE_MOUNT_PATH}/models/penguin"
# Module files, each named by its SHA-256 (scripts/kind/install-module.sh puts them there).
CLUSTER_MODULE_DIR = f"{MODEL_STORE_MOUNT_PATH}/modules"
SERVING_MODEL_NAME = "penguin"
MODULE_PARAMETERS = ("module_source", "transform_module_source", "trainer_module_source")

# PostgreSQL's largest B-tree index row with 8 KiB pages ("btree version 4 maximum 2704"), less the
# row's own header, the ``name`` and ``is_custom_property`` columns and alignment (about 24 bytes),
# with a margin: the longest ``mlmd-struct::<base64>`` value the root execution may store.
POSTGRES_INDEX_ROW_LIMIT = 2704
MLMD_STRING_BUDGET = 2600
MLMD_STRUCT_PREFIX = "mlmd-struct::"
# Linux's MAX_ARG_STRLEN (32 pages): the longest single argument a container can start with.
POD_ARGUMENT_LIMIT = 128 * 1024
WHERE = "pipeline parameters (cluster)"


def escape_for_kubernetes(value):
    """A parameter value that survives the backend's two ``$(VAR)`` expansions unchanged.

    Kubernetes turns ``$$`` into ``$`` and replaces ``$(VAR)`` with the variable's value in a
    container's command and args (k8s.io/kubernetes ``third_party/forked/golang/expansion/expand.go``);
    a value meets that twice (module docstring), so every ``$`` is written as ``$$$$``. Only values
    bound for a cluster are escaped; local runs do no expansion.
    """
    if isinstance(value, str):
        return value.replace("$", "$$$$")
    if isinstance(value, list):
        return [escape_for_kubernetes(v) for v in value]
    if isinstance(value, dict):
        return {k: escape_for_kubernetes(v) for k, v in value.items()}
    return value


def cluster_parameter_values(values: Mapping[str, Any]) -> Dict[str, Any]:
    """``values`` as they must be compiled (or submitted) for the cluster.

    Each module source becomes a reference to ``<CLUSTER_MODULE_DIR>/<sha256>.py`` (the file must be
    installed there: scripts/kind/install-module.sh), then every value is escaped for both expansions.
    """
    converted = {}
    for name, value in values.items():
        if name in MODULE_PARAMETERS and isinstance(value, str) and not user_module.is_reference(value):
            value = user_module.reference(value, CLUSTER_MODULE_DIR)
        converted[name] = escape_for_kubernetes(value)
    return converted


def mlmd_inputs_value(values: Mapping[str, Any]) -> str:
    """The string ML Metadata stores for the root execution's ``inputs``: prefix + base64(Struct)."""
    from google.protobuf import struct_pb2

    inputs = struct_pb2.Struct()
    inputs.update(dict(values))
    return MLMD_STRUCT_PREFIX + base64.b64encode(inputs.SerializeToString()).decode("ascii")


def check_parameter_sizes(values: Mapping[str, Any]) -> None:
    """Raises ``InputError`` if the backend cannot store or deliver these root parameter values.

    Args:
        values: Every root parameter with the value the run gets (compiled defaults included).
    """
    stored = len(mlmd_inputs_value(values))
    if stored <= MLMD_STRING_BUDGET:
        return  # then every pod argument is far below POD_ARGUMENT_LIMIT as well
    largest = sorted(values, key=lambda name: len(mlmd_inputs_value({name: values[name]})), reverse=True)[:3]
    raise InputError(
        WHERE, f"together they take {stored} bytes in ML Metadata (the root execution's 'inputs' property), "
        f"over the {MLMD_STRING_BUDGET} bytes that fit a PostgreSQL index row (at most "
        f"{POSTGRES_INDEX_ROW_LIMIT}); the run would fail at its root driver. Largest: {', '.join(largest)}. "
        f"Shorten it, or keep large values in files on the model store and pass their paths (module sources "
        f"already travel that way)", field=largest[0])
