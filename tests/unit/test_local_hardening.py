"""Local runs end cleanly however a task ends (issue 24): early exits, signals, a full disk, a bad cache entry."""

import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest
from kfp import dsl

from tfx_kfp import local
from tfx_kfp.local import cache as local_cache
from tfx_kfp.local import events

IMAGE = "python:3.11-slim"


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def exits_hard(out: dsl.Output[dsl.Artifact]) -> int:
    import os

    os._exit(0)


@dsl.pipeline(name="exits-hard")
def exiting_hard_pipeline():
    exits_hard()


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def forgets_output(out: dsl.Output[dsl.Artifact]):
    pass


@dsl.pipeline(name="forgets")
def forgetting_pipeline():
    forgets_output()


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def write(path: str, out: dsl.Output[dsl.Artifact]):
    with open(path, "a") as f:
        f.write("ran\n")
    with open(out.path, "w") as f:
        f.write("data")


@dsl.pipeline(name="writing")
def writing_pipeline(log: str):
    write(path=log)


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def fill(megabytes: int, out: dsl.Output[dsl.Artifact]):
    import os

    from tfx_kfp.runtime.staging import staged_dir

    with staged_dir(out.path) as folder:
        with open(os.path.join(folder, "data"), "wb") as f:
            for _ in range(megabytes):
                f.write(os.urandom(1 << 20))


@dsl.pipeline(name="fill")
def filling_pipeline(megabytes: int):
    fill(megabytes=megabytes)


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def leaves_temp_files(marker: str):
    import os
    import tempfile

    folder = tempfile.mkdtemp(prefix="like-tfx-wheel-build-")  # what TFX's packaging does, never removed
    with open(os.path.join(folder, "big"), "wb") as f:
        f.write(b"x" * 1024)
    with open(marker, "w") as f:
        f.write(folder)


@dsl.pipeline(name="temp-files")
def temp_files_pipeline(marker: str):
    leaves_temp_files(marker=marker)


def test_os_exit_in_an_in_process_task_fails_the_task_and_the_run_goes_on_to_report_it(tmp_path):
    with pytest.raises(local.TaskFailed, match=r"os._exit\(0\)"):
        local.run_pipeline(exiting_hard_pipeline, pipeline_root=str(tmp_path))
    (record,) = glob.glob(str(tmp_path / "exits-hard-*" / local.RUN_RECORD))
    with open(record) as f:
        saved = json.load(f)
    assert saved["outcome"] == "failed" and saved["tasks"]["exits-hard"]["state"] == "failed"


def test_os_exit_0_in_a_subprocess_task_fails_it_because_its_outputs_were_never_written(tmp_path):
    with pytest.raises(local.TaskFailed, match=r"exit status 0 before its component function returned "
                                               r"\(executor_output.json, output out not written\)"):
        local.run_pipeline(exiting_hard_pipeline, pipeline_root=str(tmp_path), runner="subprocess")


def test_a_task_that_returns_without_writing_a_declared_output_fails(tmp_path):
    with pytest.raises(local.TaskFailed, match=r"declared output\(s\) out were not written"):
        local.run_pipeline(forgetting_pipeline, pipeline_root=str(tmp_path))


@pytest.mark.parametrize("entry", ["null", "[]", '{"seconds": 1}', '{"artifacts": null}', '"text"'])
def test_a_cache_entry_of_the_wrong_shape_is_a_miss_not_a_crash(tmp_path, entry):
    log = tmp_path / "log"
    local.run_pipeline(writing_pipeline, {"log": str(log)}, pipeline_root=str(tmp_path / "runs"))
    (path,) = glob.glob(str(tmp_path / "runs" / local_cache.CACHE_FOLDER / "*.json"))
    with open(path, "w") as f:
        f.write(entry)
    run = local.run_pipeline(writing_pipeline, {"log": str(log)}, pipeline_root=str(tmp_path / "runs"))
    assert run.state("write") == events.DONE and log.read_text() == "ran\nran\n"
    run = local.run_pipeline(writing_pipeline, {"log": str(log)}, pipeline_root=str(tmp_path / "runs"))
    assert run.state("write") == events.CACHED  # the entry was written again, whole


def test_a_full_disk_under_the_pipeline_root_fails_the_stage_and_run_json_stays_whole(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    root = tmp_path / "tiny"
    root.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(root)], check=True)
    try:
        with pytest.raises(local.TaskFailed) as failure:
            local.run_pipeline(filling_pipeline, {"megabytes": 8}, pipeline_root=str(root / "runs"))
        assert failure.value.task == "fill" and "No space left on device" in repr(failure.value.cause)
        (record,) = glob.glob(str(root / "runs" / "fill-*" / local.RUN_RECORD))
        with open(record) as f:
            saved = json.load(f)
        assert saved["outcome"] == "failed" and saved["tasks"]["fill"]["state"] == "failed"
        assert not glob.glob(str(root / "runs" / "fill-*" / "fill" / ".*partial*"))
    finally:
        subprocess.run(["umount", str(root)], check=True)


@pytest.mark.parametrize("runner", ["inprocess", "subprocess"])
def test_temporary_files_a_task_leaves_are_removed_when_it_ends(tmp_path, runner):
    marker = tmp_path / "marker"
    local.run_pipeline(temp_files_pipeline, {"marker": str(marker)}, pipeline_root=str(tmp_path / "runs"),
                       runner=runner)
    left = marker.read_text()
    assert left.startswith(tempfile.gettempdir()) and "tfx-kfp-task-tmp-" in left
    assert not os.path.exists(left)
    assert not os.environ.get("TMPDIR", "").startswith(os.path.join(tempfile.gettempdir(), "tfx-kfp-task-tmp-"))


SLOW_PIPELINE = textwrap.dedent('''
    import sys

    from kfp import dsl

    from tfx_kfp import local


    @dsl.component(base_image="python:3.11-slim", install_kfp_package=False)
    def first(log: str, out: dsl.Output[dsl.Artifact]):
        with open(log, "a") as f:
            f.write("first\\n")
        with open(out.path, "w") as f:
            f.write("x")


    @dsl.component(base_image="python:3.11-slim", install_kfp_package=False)
    def slow(log: str, gate: str, data: dsl.Input[dsl.Artifact], out: dsl.Output[dsl.Artifact]):
        import os
        import time

        from tfx_kfp.runtime.staging import staged_dir

        with open(log, "a") as f:
            f.write("slow\\n")
        with staged_dir(out.path) as folder:
            open(os.path.join(folder, "part"), "w").close()
            while os.path.exists(gate):
                time.sleep(0.1)


    @dsl.pipeline(name="slow")
    def slow_pipeline(log: str, gate: str):
        slow(log=log, gate=gate, data=first(log=log).outputs["out"])


    try:
        local.run_pipeline(slow_pipeline, {"log": sys.argv[1], "gate": sys.argv[2]}, pipeline_root=sys.argv[3],
                           runner=sys.argv[4])
    except local.RunInterrupted as e:
        print(f"interrupted by {e.signal_name}")
        sys.exit(e.exit_status)
''')


@pytest.mark.parametrize("runner,signal_number", [("inprocess", signal.SIGTERM), ("subprocess", signal.SIGTERM),
                                                  ("inprocess", signal.SIGINT)])
def test_a_signal_ends_the_run_cleanly_and_the_next_run_resumes_from_the_cache(tmp_path, runner, signal_number):
    script, log, gate, root = tmp_path / "slow.py", tmp_path / "log", tmp_path / "gate", tmp_path / "runs"
    script.write_text(SLOW_PIPELINE)
    gate.touch()
    command = [sys.executable, str(script), str(log), str(gate), str(root), runner]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while not (log.exists() and "slow" in log.read_text()) and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # inside its staging folder
    process.send_signal(signal_number)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 128 + signal_number, output
    assert f"interrupted by {signal.Signals(signal_number).name}" in output
    (run_dir,) = glob.glob(str(root / "slow-*"))
    with open(os.path.join(run_dir, local.RUN_RECORD)) as f:
        saved = json.load(f)
    assert saved["outcome"] == "interrupted"
    assert saved["tasks"]["first"]["state"] == "done" and saved["tasks"]["slow"]["state"] == "interrupted"
    assert not glob.glob(os.path.join(run_dir, "slow", ".*partial*")), os.listdir(os.path.join(run_dir, "slow"))
    gate.unlink()
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert log.read_text().splitlines() == ["first", "slow", "slow"]  # first came from the cache
