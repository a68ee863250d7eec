"""Which URI TFX gets for an artifact, and which Beam args a stage adds (runtime/object_store.py).

Beam tier (the rules read Beam's own option parser) but no TensorFlow: every case here is decided
before anything is read or written; the object-store round trip itself is the docker tier's
(tests/docker/test_remote_beam_object_store.py).
"""

import os
import subprocess
import sys

import pytest
from kfp import dsl

from tfx_kfp.runtime import object_store
from tfx_kfp.runtime.errors import InputError

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
    import importlib.util

    artifact = _artifact(uri)
    assert object_store.location(artifact, args) == expected
    if expected.startswith("s3://") and importlib.util.find_spec("tensorflow_io") is None:
        # the current stack: TensorFlow cannot open s3:// there, so the error says to mount the bucket
        with pytest.raises(RuntimeError, match=object_store.MOUNT_ENV):
            object_store.tfx_uri(artifact, None, args)
        return
    assert object_store.tfx_uri(artifact, None, args) == expected


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


# Buckets mounted as folders (TFX_KFP_OBJECT_STORE_MOUNT): TFX gets plain paths, no tensorflow-io, no S3 args.

@pytest.fixture
def mounted(monkeypatch, tmp_path):
    monkeypatch.setenv(object_store.MOUNT_ENV, str(tmp_path))
    return str(tmp_path)


@pytest.mark.parametrize("uri, under_mount", [
    ("minio://mlpipeline/v2/run/examples", "mlpipeline/v2/run/examples"), ("s3://b/x/", "b/x"),
    ("gs://b//x/y", "b/x/y"), ("s3://b", "b")])
def test_a_mounted_bucket_is_a_folder_under_the_mount(mounted, uri, under_mount):
    assert object_store.object_store_uri(uri) == os.path.join(mounted, under_mount)
    assert object_store.object_store_uri("/tmp/x") is None


def test_the_mount_setting_must_be_an_absolute_path(monkeypatch):
    monkeypatch.setenv(object_store.MOUNT_ENV, "mnt/object-store")
    with pytest.raises(InputError, match=r"\$TFX_KFP_OBJECT_STORE_MOUNT: must be an absolute path.*mnt/object-store"):
        object_store.mount_root()
    monkeypatch.setenv(object_store.MOUNT_ENV, "  ")
    assert object_store.mount_root() is None


def test_a_mounted_uri_must_name_a_bucket(mounted):
    for uri in ("s3://", "minio:///key", "s3://../etc"):
        with pytest.raises(InputError, match="must name a bucket"):
            object_store.object_store_uri(uri)


def test_with_a_mount_a_remote_runner_gets_the_mounted_folder_and_no_s3_args(mounted, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://env:9000")
    artifact = _artifact("minio://mlpipeline/v2/run/examples")
    folder = os.path.join(mounted, "mlpipeline", "v2", "run", "examples")
    assert object_store.location(artifact, REMOTE) == folder
    assert object_store.readable_path(artifact, REMOTE) == folder
    assert object_store.location(artifact, ["--direct_running_mode=in_memory"]) == "/minio/mlpipeline/v2/run/examples"
    assert object_store.filesystem_args(REMOTE) == REMOTE
    assert object_store.local_mirror("minio://mlpipeline/data", REMOTE) == os.path.join(mounted, "mlpipeline", "data")


def test_with_a_mount_an_output_folder_left_by_an_earlier_try_is_emptied(mounted):
    folder = os.path.join(mounted, "b", "run", "examples")
    os.makedirs(os.path.join(folder, "Split-train"))
    open(os.path.join(folder, "Split-train", "data_tfrecord-00000-of-00001.gz"), "wb").close()
    artifact = _artifact("minio://b/run/examples")
    assert object_store.tfx_uri(artifact, "/minio/b/run/.examples.partial", REMOTE) == folder
    assert not os.path.exists(folder)
    os.makedirs(folder)
    assert object_store.tfx_uri(artifact, None, REMOTE) == folder and os.path.isdir(folder)  # an input: kept


def test_with_a_mount_nothing_imports_tensorflow(tmp_path):
    code = ("import sys; from kfp import dsl; from tfx_kfp.runtime import object_store as o; "
            "a = dsl.Artifact(uri='minio://b/x'); o.tfx_uri(a, '/tmp/s', " + repr(REMOTE) + "); "
            f"o.readable_path(a, {REMOTE!r}); o.filesystem_args({REMOTE!r}); assert 'tensorflow' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120,
                   env={**os.environ, object_store.MOUNT_ENV: str(tmp_path)})
