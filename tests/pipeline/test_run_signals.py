"""SIGTERM or SIGINT to a local run ends it cleanly and the next run resumes from the cache (issue 24).

Toy pipelines, no TensorFlow, but each case starts two Python processes that import kfp (tens of seconds
on a loaded machine), hence this tier.
"""

import glob
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tfx_kfp import local

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


@pytest.mark.parametrize("runner,signal_number", [("inprocess", signal.SIGTERM), ("subprocess", signal.SIGINT)])
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
