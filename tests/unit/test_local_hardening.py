"""Local runs end cleanly however a task ends (issue 24): early exits, signals, a full disk, a bad cache entry."""

import glob
import json
import os
import subprocess
import tempfile

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

    with open(out.path, "wb") as f:  # not staged, like a log: the disk stays full after the failure
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
        assert not glob.glob(str(root / "runs" / "fill-*" / ".run.json.partial*"))
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
