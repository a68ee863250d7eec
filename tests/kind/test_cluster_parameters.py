"""Parameter values reach a KFP 2.17 backend's pods unchanged, and fit ML Metadata on PostgreSQL.

Issue 19 items 2 and 8. The backend's behaviour is reproduced from its source at the pinned tags:

* Two ``$(VAR)`` expansions (tests/kind/k8s_expansion.py follows Kubernetes' expand.go): the root DAG
  driver receives the runtime config in ``--runtime_config`` (kubeflow/pipelines 2.17.0
  ``backend/src/v2/compiler/argocompiler/dag.go`` line 583), filled with every default by the API
  server (``argocompiler/argo.go`` lines 99-104), and records those values in ML Metadata
  (``driver/root_dag.go`` line 132); a task's launcher then receives them in ``--executor_input``
  (``driver/driver.go`` line 326), with ``$(KFP_POD_NAME)`` defined in its pod.
* ML Metadata stores the root execution's ``inputs`` (``metadata/client.go`` line 688) as
  ``mlmd-struct::`` + base64(Struct) (google/ml-metadata v1.14.0 ``ml_metadata/util/struct_utils.cc``),
  indexed whole by its PostgreSQL schema (``metadata_source_query_config.cc`` lines 5626-5628).
"""

import json

import pytest
import yaml

from tests.kind.k8s_expansion import expand
from tfx_kfp.pipelines import cluster, compile_pipeline, penguin
from tfx_kfp.pipelines.presets import build_pipeline
from tfx_kfp.runtime import user_module
from tfx_kfp.runtime.errors import InputError, UserModuleError

POD_ENV = {"KFP_POD_NAME": "penguin-x7k2p-system-container-impl-123", "KFP_POD_UID": "5d0c", "X": "expanded"}
DOLLARS = ["$", "$$", "$$$", "$(X)", "$$(X)", "$(KFP_POD_NAME)", "$(", "a$b", "cost: $5", "tail$", "$(UNSET)"]
MODULE = ('"""Prices in $, shell $$ and $(X) in a docstring."""\nPRICE = "$5 $$6 $(KFP_POD_NAME) $("\n\n'
          'def preprocessing_fn(inputs):\n    return inputs  # $(HOME)\n\n'
          'def run_fn(fn_args):\n    print(f"${fn_args}")\n')


def delivered(value: str) -> str:
    """What a task's code receives for a root parameter compiled as ``value``."""
    runtime_config = json.dumps({"parameters": {"p": value}})  # API server: defaults into the runtime config
    stored = json.loads(expand(runtime_config, POD_ENV))["parameters"]["p"]  # root driver's arg, kept in MLMD
    executor_input = json.dumps({"inputs": {"parameterValues": {"p": stored}}})
    return json.loads(expand(executor_input, POD_ENV))["inputs"]["parameterValues"]["p"]


@pytest.mark.parametrize("text", DOLLARS + [MODULE])
def test_escaped_values_survive_both_expansions(text):
    assert delivered(cluster.escape_for_kubernetes(text)) == text


def test_escaping_for_one_expansion_is_not_enough():
    """What pipelines/cluster.py did before: ``$`` → ``$$``. The pod name leaks into the value."""
    assert delivered(MODULE.replace("$", "$$")) != MODULE
    assert POD_ENV["KFP_POD_NAME"] in delivered("$$(KFP_POD_NAME)")


def compiled_defaults(tmp_path, pipeline):
    path = tmp_path / "pipeline.yaml"
    compile_pipeline(pipeline, str(path))
    spec = next(yaml.safe_load_all(path.read_text()))
    return {name: p.get("defaultValue") for name, p in spec["root"]["inputDefinitions"]["parameters"].items()}


def test_the_compiled_kind_yaml_delivers_every_parameter_as_written(tmp_path):
    custom_config = json.dumps({"note": "$(KFP_POD_NAME) costs $$5"})
    written = {"data_root": "/model-store/data/$(X)", "module_source": MODULE, "label_key": "species",
               "serving_base_dir": "/model-store/models/penguin", "custom_config": custom_config}
    defaults = compiled_defaults(tmp_path, build_pipeline("training", target="kind", params=written))
    assert delivered(defaults["data_root"]) == written["data_root"]
    assert delivered(defaults["custom_config"]) == custom_config
    reference = delivered(defaults["module_source"])
    assert reference == user_module.reference(MODULE, cluster.CLUSTER_MODULE_DIR)
    installed = tmp_path / "store" / f"{user_module.sha256_of(MODULE)}.py"  # as install-module.sh copies it
    installed.parent.mkdir()
    installed.write_text(MODULE)
    assert user_module.resolve(reference.replace(cluster.CLUSTER_MODULE_DIR, str(installed.parent))) == MODULE


def test_mlmd_value_is_what_ml_metadata_stores():
    """Our size model against ML Metadata itself: its SQLite store keeps struct values the same way."""
    from google.protobuf import struct_pb2
    from ml_metadata import metadata_store
    from ml_metadata.proto import metadata_store_pb2
    import sqlite3
    import tempfile

    values = {"module_source": MODULE, "train_steps": 200, "beam_pipeline_args": ["--a=$"], "ok": True}
    with tempfile.TemporaryDirectory() as folder:
        config = metadata_store_pb2.ConnectionConfig()
        config.sqlite.filename_uri = f"{folder}/mlmd.db"
        config.sqlite.connection_mode = 3
        store = metadata_store.MetadataStore(config)
        type_id = store.put_execution_type(metadata_store_pb2.ExecutionType(name="system.DAGExecution"))
        execution = metadata_store_pb2.Execution(type_id=type_id)
        inputs = struct_pb2.Struct()
        inputs.update(values)
        execution.custom_properties["inputs"].struct_value.CopyFrom(inputs)
        store.put_executions([execution])
        del store
        (stored,) = sqlite3.connect(f"{folder}/mlmd.db").execute(
            "SELECT string_value FROM ExecutionProperty WHERE name = 'inputs'").fetchone()
    assert len(stored) == len(cluster.mlmd_inputs_value(values))
    assert stored.startswith(cluster.MLMD_STRUCT_PREFIX)


def test_the_penguin_module_as_text_cannot_be_stored_but_its_reference_can(tmp_path):
    """What the real run on PostgreSQL hit: every run failed at the root driver (issue 19 item 8)."""
    as_text = {**penguin.penguin_defaults("kind"), "input_format": "csv", "input_pattern": "", "span_range": [],
               "min_improvement": 0.0, "fail_on_anomalies": True, "custom_config": "{}", "eval_config_json": ""}
    assert len(cluster.mlmd_inputs_value(as_text)) > cluster.POSTGRES_INDEX_ROW_LIMIT
    defaults = compiled_defaults(tmp_path, build_pipeline("penguin", target="kind", params={}))
    assert user_module.is_reference(defaults["module_source"])
    assert len(cluster.mlmd_inputs_value(defaults)) <= cluster.MLMD_STRING_BUDGET < cluster.POSTGRES_INDEX_ROW_LIMIT


def test_compile_refuses_parameters_ml_metadata_on_postgresql_cannot_store():
    huge = json.dumps({"vocabulary": ["w%d" % i for i in range(600)]})
    with pytest.raises(InputError) as error:
        build_pipeline("penguin", target="kind", params={"custom_config": huge})
    message = str(error.value)
    assert "field 'custom_config'" in message and "PostgreSQL index row" in message and "root driver" in message
    build_pipeline("penguin", target="local", params={"custom_config": huge})  # no such store locally


def test_a_module_over_the_pod_argument_cap_still_starts_its_pods(tmp_path):
    """Linux caps one argument at 128 KiB (MAX_ARG_STRLEN); a reference is short whatever the module's size."""
    big = MODULE + "".join(f"# line {i} of a long module, with $ signs\n" for i in range(4000))
    assert len(big.encode()) > cluster.POD_ARGUMENT_LIMIT
    defaults = compiled_defaults(tmp_path, build_pipeline("training", target="kind", params={
        "data_root": "/model-store/data/mine", "module_source": big, "label_key": "species",
        "serving_base_dir": "/model-store/models/penguin"}))
    longest = max(len(json.dumps(v)) for v in defaults.values())
    assert longest < 300 and len(cluster.mlmd_inputs_value(defaults)) <= cluster.MLMD_STRING_BUDGET


def test_a_reference_is_resolved_only_to_the_file_it_names(tmp_path):
    module = tmp_path / f"{user_module.sha256_of(MODULE)}.py"
    reference = user_module.reference(MODULE, str(tmp_path))
    with pytest.raises(UserModuleError, match="cannot be read .*install-module.sh"):
        user_module.resolve(reference)
    module.write_text(MODULE + "# changed\n")
    with pytest.raises(UserModuleError, match="refusing to load it"):
        user_module.resolve(reference)
    module.write_text(MODULE)
    with user_module.materialized(reference, "run_fn") as path:
        assert open(path).read() == MODULE
    with pytest.raises(UserModuleError, match="is not a module reference"):
        user_module.check_source(user_module.MODULE_FILE_PREFIX + "relative.py", "run_fn")
