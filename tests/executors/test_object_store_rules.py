"""Which URI TFX gets for an artifact, and which Beam args a stage adds (runtime/object_store.py).

Beam tier (the rules read Beam's own option parser) but no TensorFlow: every case here is decided
before anything is read or written; the object-store round trip itself is the docker tier's
(tests/docker/test_remote_beam_object_store.py).
"""

import subprocess
import sys

import pytest
from kfp import dsl

from tfx_kfp.runtime import object_store

REMOTE = ["--runner=PortableRunner", "--job_endpoint=localhost:8099", "--environment_type=EXTERNAL",
          "--environment_config=localhost:50000"]


def _artifact(uri: str) -> dsl.Artifact:
    return dsl.Artifact(uri=uri)  # KFP's own: ``path`` is where the launcher mounts it (/minio/…, /gcs/…)


@pytest.mark.parametrize("uri, expected", [
    ("minio://mlpipeline/v2/x", "s3://mlpipeline/v2/x"), ("s3://b/x", "s3://b/x"), ("gs://b/x", "gs://b/x"),
    ("/tmp/x", None), ("file:///tmp/x", None), ("hdfs://n/x", None), ("", None), (None, None)])
def test_object_store_uris_are_spelled_as_beam_and_tensorflow_know_them(uri, expected):
    assert object_store.object_store_uri(uri) == expected


@pytest.mark.parametrize("args, remote", [
    (None, False), ([], False), (["--direct_running_mode=in_memory"], False),
    (["--runner=DirectRunner", "--direct_running_mode=multi_processing"], False),
    (["--runner=direct"], False), (["--runner=FnApiRunner"], False),
    (REMOTE, True), (["--runner=FlinkRunner", "--flink_master=localhost:8081"], True),
    (["--runner=DataflowRunner", "--project=p"], True),
    (["--runner=PortableRunner", "--job_endpoint=localhost:8099", "--environment_type=LOOPBACK"], False),
    (["--runner=PortableRunner", "--job_endpoint=localhost:8099", "--environment_type=loopback"], False),
])
def test_beam_runs_remotely_for_any_runner_but_the_in_process_ones(args, remote):
    assert object_store.runs_remotely(args) is remote


@pytest.mark.parametrize("uri, args, expected", [
    ("minio://mlpipeline/v2/run/examples", REMOTE, "s3://mlpipeline/v2/run/examples"),
    ("gs://bucket/run/examples", REMOTE, "gs://bucket/run/examples"),
    ("minio://mlpipeline/v2/run/examples", ["--direct_running_mode=in_memory"], "/minio/mlpipeline/v2/run/examples"),
    ("minio://mlpipeline/v2/run/examples", [], "/minio/mlpipeline/v2/run/examples"),
    ("/tmp/pipeline_root/examples", REMOTE, "/tmp/pipeline_root/examples"),
])
def test_an_input_gets_its_object_store_uri_only_when_beam_runs_remotely(uri, args, expected):
    artifact = _artifact(uri)
    assert object_store.tfx_uri(artifact, None, args) == expected
    assert object_store.location(artifact, args) == expected


def test_an_output_keeps_its_staging_folder_unless_beam_runs_remotely():
    local = _artifact("/tmp/pipeline_root/examples")
    assert object_store.tfx_uri(local, "/tmp/pipeline_root/.examples.partial", REMOTE) == \
        "/tmp/pipeline_root/.examples.partial"
    in_store = _artifact("minio://mlpipeline/v2/run/examples")
    assert object_store.tfx_uri(in_store, "/minio/.examples.partial", []) == "/minio/.examples.partial"


def test_readable_path_and_local_mirror_stay_local_without_object_storage():
    assert object_store.readable_path(_artifact("minio://b/x"), []) == "/minio/b/x"
    assert object_store.readable_path(_artifact("/tmp/x"), REMOTE) == "/tmp/x"
    assert object_store.local_mirror("/data/taxi", REMOTE) == "/data/taxi"


def test_s3_settings_from_the_args_before_the_environment(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://env:9000")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "env-key")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    settings = object_store.s3_settings(REMOTE + ["--s3_endpoint_url=http://args:9000"])
    assert settings == {"s3_endpoint_url": "http://args:9000", "s3_access_key_id": "env-key"}


def test_only_a_remote_runner_gets_filesystem_args():
    given = ["--direct_running_mode=in_memory"]
    assert object_store.filesystem_args(given) == given
    assert object_store.filesystem_args(None) == []


def test_none_of_these_rules_imports_tensorflow():
    code = ("import sys; from kfp import dsl; from tfx_kfp.runtime import object_store as o; "
            "a = dsl.Artifact(uri='minio://b/x'); o.tfx_uri(a, '/tmp/s', []); o.readable_path(a, []); "
            f"o.runs_remotely({REMOTE!r}); o.s3_settings({REMOTE!r}); assert 'tensorflow' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
