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

Each case is a stack and the way TensorFlow reaches the store (docs/scale.md):
``tensorflow-io`` (``s3://``, the 1.16 stack only) with the task on this host, and
``s3fs`` (the bucket mounted as a folder by s3fs-fuse in the workers and the task,
``TFX_KFP_OBJECT_STORE_MOUNT``) with the task in a container of the stack's image,
since this host (Debian 12) cannot load the current stack. The reference run is the
same stack's in-process DirectRunner.
"""

import glob
import json
import os
import subprocess
import sys
import time

import pytest

from tests._support import chain
from tests._support.object_store import DATA_ARTIFACTS, run_local

REPO = chain.REPO
SCRIPTS = os.path.join(REPO, "scripts", "scale")
PYTHON = os.path.join(REPO, ".venv", "bin", "python")

MOUNT = "/mnt/object-store"  # where the s3fs cases mount the bed's bucket, in the workers and in the task

pytestmark = [pytest.mark.docker, pytest.mark.timeout(3600)]

CASES = [("1.16", "tensorflow-io"), ("current", "s3fs"), ("1.16", "s3fs")]


@pytest.fixture(scope="module", params=CASES, ids=[f"{stack}-{way}" for stack, way in CASES])
def case(request):
    return request.param


@pytest.fixture(scope="module")
def stack_image(case, docker_engine) -> str:
    """The runtime image of the case's stack, built from this tree (layer cache: seconds when unchanged)."""
    stack = case[0]
    build = subprocess.run([sys.executable, "-m", "tfx_kfp.cli", "image", "build", "--stack", stack],
                           capture_output=True, text=True)
    assert build.returncode == 0, f"tfx-kfp image build --stack {stack} failed:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}"
    last = build.stdout.strip().splitlines()[-1]
    assert last.startswith("built "), last
    return last.split()[1]


@pytest.fixture(scope="module")
def test_bed(case, stack_image, tmp_path_factory):
    state = str(tmp_path_factory.mktemp("scale-state"))
    env = {**os.environ, "TFX_KFP_SCALE_STATE": state, "TFX_KFP_OBJECT_STORE_MOUNT": MOUNT if case[1] == "s3fs" else ""}
    # SeaweedFS is built once per machine (about 10-15 min on 2 cores), then reused from its cache.
    install = subprocess.run(["bash", os.path.join(SCRIPTS, "install.sh")], env=env, capture_output=True, text=True,
                             timeout=2400)
    assert install.returncode == 0, f"install.sh failed:\n{install.stdout[-3000:]}\n{install.stderr[-3000:]}"
    up = subprocess.run(["bash", os.path.join(SCRIPTS, "up.sh"), stack_image], env=env, capture_output=True,
                        text=True, timeout=300)
    if up.returncode != 0:
        subprocess.run(["bash", os.path.join(SCRIPTS, "down.sh")], env=env, capture_output=True, timeout=120)
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


def _in_stack_container(image: str, out: str, *args: str) -> None:
    """``python -m tests._support.object_store ARGS`` in a container of ``image`` with no network."""
    run = subprocess.run(["docker", "run", "--rm", "--network", "none", "-u", "0", "-v", f"{REPO}:{REPO}:ro",
                          "-v", f"{out}:{out}", "-e", f"PYTHONPATH={REPO}", "-e", "PYTHONDONTWRITEBYTECODE=1",
                          "-w", REPO, image, "python", "-m", "tests._support.object_store", *args],
                         capture_output=True, text=True, timeout=800)
    assert run.returncode == 0, f"{args} in {image} failed:\n{run.stdout[-4000:]}\n{run.stderr[-6000:]}"


@pytest.fixture(scope="module")
def remote_run(case, test_bed, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("remote-out"))
    task_tmp = str(tmp_path_factory.mktemp("task-tmp"))
    env = {**test_bed["env"], "TMPDIR": task_tmp, "PYTHONPATH": REPO, "TASK_VOLUMES": f"{out}:{task_tmp}"}
    # The tensorflow-io way runs the task on this host (the 1.16 stack's venv); s3fs mounts need a container.
    task = ["in-netns.sh", PYTHON] if case[1] == "tensorflow-io" else ["in-task-container.sh", "python"]
    started = time.monotonic()
    run = subprocess.run(["bash", os.path.join(SCRIPTS, task[0]), task[1], "-m", "tests._support.object_store", out],
                         env=env, cwd=REPO, capture_output=True, text=True, timeout=800)
    assert run.returncode == 0, f"remote run failed:\n{run.stdout[-4000:]}\n{run.stderr[-6000:]}"
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    print(f"\nremote run {case}: task {time.monotonic() - started:.1f} s, stages {summary['stages_seconds']} s")
    return {"out": out, "task_tmp": task_tmp, **summary}


@pytest.fixture(scope="module")
def local_run(case, stack_image, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("local-out"))
    if case[0] == "1.16":
        return run_local(out)
    _in_stack_container(stack_image, out, "--local", out)
    return out


def test_outputs_are_read_back_from_the_object_store_and_nothing_is_written_locally(remote_run):
    for name in DATA_ARTIFACTS:
        assert remote_run["read_back_files"][name] > 0, \
            f"{name}: no object under s3://{remote_run['bucket']}/{remote_run['prefix']}/run"
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
    log = subprocess.run(["docker", "logs", test_bed["SCALE_JOB_CONTAINER"]], capture_output=True, text=True)
    log = log.stdout + log.stderr
    assert f"Requesting worker at {test_bed['SCALE_WORKER_POOL']}" in log, "the engine never used the worker pool"


def test_the_way_to_the_store_is_the_cases(case, test_bed, remote_run):
    """s3fs: the task and the workers saw the bucket as a folder; tensorflow-io: no mount anywhere."""
    assert remote_run["object_store_mount"] == (MOUNT if case[1] == "s3fs" else "")
    mounts = subprocess.run(["docker", "exec", test_bed["SCALE_CONTAINER"], "cat", "/proc/mounts"],
                            capture_output=True, text=True, check=True).stdout
    mounted = f"{MOUNT}/{test_bed['SCALE_BUCKET']} fuse.s3fs" in mounts
    assert mounted is (case[1] == "s3fs"), mounts
    if case[1] == "s3fs":
        written = subprocess.run(["docker", "exec", test_bed["SCALE_CONTAINER"], "find",
                                  f"{MOUNT}/{test_bed['SCALE_BUCKET']}/{remote_run['prefix']}/run/examples",
                                  "-name", "*.gz"], capture_output=True, text=True, check=True).stdout.split()
        assert written, "the workers' mount does not show the examples"


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
