"""The data stages on a remote Beam engine through object storage (issue 10, items 1 and 2).

The test bed (scripts/scale/up.sh): SDK workers in a container of the runtime
image that mounts nothing of this machine, a Beam portable job service, and
SeaweedFS's S3 API, all in one loopback-only network namespace. The task runs
ExampleGen → StatisticsGen → Transform with ``minio://`` artifacts, as on a KFP
cluster; the outputs are read back from the object store and must equal the
in-process DirectRunner's on local files.

The engine is Beam's portable job service, not Flink: this machine's Maven
registry does not serve Beam's Flink (or Spark) job server — see docs/scale.md.
The task side is the same for any portable runner: only ``--job_endpoint`` changes.
"""

import glob
import json
import os
import subprocess

import pytest

from tests._support import chain
from tests._support.object_store import DATA_ARTIFACTS, run_local

REPO = chain.REPO
SCRIPTS = os.path.join(REPO, "scripts", "scale")
PYTHON = os.path.join(REPO, ".venv", "bin", "python")

pytestmark = [pytest.mark.docker, pytest.mark.timeout(3600)]


@pytest.fixture(scope="module")
def test_bed(runtime_image, tmp_path_factory):
    state = str(tmp_path_factory.mktemp("scale-state"))
    env = {**os.environ, "TFX_KFP_SCALE_STATE": state}
    # SeaweedFS is built once per machine (about 10-15 min on 2 cores), then reused from its cache.
    install = subprocess.run(["bash", os.path.join(SCRIPTS, "install.sh")], env=env, capture_output=True, text=True,
                             timeout=2400)
    assert install.returncode == 0, f"install.sh failed:\n{install.stdout[-3000:]}\n{install.stderr[-3000:]}"
    up = subprocess.run(["bash", os.path.join(SCRIPTS, "up.sh"), runtime_image], env=env, capture_output=True,
                        text=True, timeout=300)
    assert up.returncode == 0, f"up.sh failed:\n{up.stdout[-3000:]}\n{up.stderr[-3000:]}"
    with open(os.path.join(state, "env")) as f:
        settings = dict(line.strip().split("=", 1) for line in f if "=" in line)
    yield {"env": env, "state": state, **settings}
    subprocess.run(["bash", os.path.join(SCRIPTS, "down.sh")], env=env, capture_output=True, timeout=120)


def _records(folder: str) -> dict:
    """Serialized tf.Examples by split, read from the gzipped TFRecord shards under ``folder``."""
    import tensorflow as tf

    found = {}
    for split in sorted(glob.glob(os.path.join(folder, "Split-*"))):
        files = sorted(glob.glob(os.path.join(split, "*.gz")))
        records = [bytes(r.numpy()) for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]
        found[os.path.basename(split)] = records
    return found


def _examples(folder: str) -> dict:
    import tensorflow as tf

    parsed = {}
    for split, records in _records(folder).items():
        rows = []
        for record in records:
            features = tf.train.Example.FromString(record).features.feature
            rows.append({k: list(v.float_list.value or v.int64_list.value or v.bytes_list.value)
                         for k, v in features.items()})
        parsed[split] = sorted(rows, key=lambda row: json.dumps(row, sort_keys=True, default=str))
    return parsed


def _statistics(folder: str) -> dict:
    from tfx_kfp.runtime import reports

    return reports.read_statistics(folder)


@pytest.fixture(scope="module")
def remote_run(test_bed, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("remote-out"))
    task_tmp = str(tmp_path_factory.mktemp("task-tmp"))
    env = {**test_bed["env"], "TMPDIR": task_tmp, "PYTHONPATH": REPO}
    run = subprocess.run(["bash", os.path.join(SCRIPTS, "in-netns.sh"), PYTHON, "-m", "tests._support.object_store",
                          out], env=env, cwd=REPO, capture_output=True, text=True, timeout=800)
    assert run.returncode == 0, f"remote run failed:\n{run.stdout[-4000:]}\n{run.stderr[-6000:]}"
    with open(os.path.join(out, "summary.json")) as f:
        return {"out": out, "task_tmp": task_tmp, **json.load(f)}


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    return run_local(str(tmp_path_factory.mktemp("local-out")))


def test_outputs_are_read_back_from_the_object_store_and_nothing_is_written_locally(remote_run):
    for name in DATA_ARTIFACTS:
        assert remote_run["read_back_files"][name] > 0, f"{name}: no object under s3://{remote_run['bucket']}/run"
        assert remote_run["task_local_files"][name] == [], f"{name}: the task wrote local files"


def test_workers_cannot_see_the_task_filesystem(test_bed, remote_run):
    container = test_bed["SCALE_CONTAINER"]
    task_file = remote_run["task_file"]
    assert os.path.dirname(task_file) == remote_run["task_tmp"] and os.path.isfile(task_file)
    for path in (task_file, remote_run["task_tmp"], REPO, remote_run["out"]):
        seen = subprocess.run(["docker", "exec", container, "test", "-e", path], capture_output=True)
        assert seen.returncode == 1, f"the worker container sees {path}"
    mounts = subprocess.run(["docker", "inspect", "-f", "{{json .Mounts}}", container], capture_output=True, text=True)
    assert json.loads(mounts.stdout) == []
    with open(os.path.join(test_bed["state"], "job_service.log")) as f:
        log = f.read()
    assert f"Requesting worker at {test_bed['SCALE_WORKER_POOL']}" in log, "the engine never used the worker pool"


def test_statistics_equal_the_direct_runners(remote_run, local_run):
    remote = _statistics(os.path.join(remote_run["out"], "statistics"))
    local = _statistics(os.path.join(local_run, "statistics"))
    assert sorted(remote) == sorted(local) == ["eval", "train"]
    for split in local:
        assert remote[split] == local[split], f"statistics of split {split} differ"


def test_transformed_examples_equal_the_direct_runners(remote_run, local_run):
    remote = _examples(os.path.join(remote_run["out"], "transformed_examples"))
    local = _examples(os.path.join(local_run, "transformed_examples"))
    assert sorted(remote) == sorted(local) == ["Split-eval", "Split-train"]
    for split in local:
        assert len(remote[split]) == len(local[split]) > 0
        assert remote[split] == local[split], f"transformed examples of {split} differ"
    assert _examples(os.path.join(remote_run["out"], "examples")) == _examples(os.path.join(local_run, "examples"))
