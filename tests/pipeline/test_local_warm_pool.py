"""A local in-process run on more than the 15k-row taxi CSV starts the warm Beam pool with the run, the
Evaluator runs on it (runtime/beam_defaults.py), the model is blessed and pushed, and the pool is gone
after the run. TFX's own taxi module and data (doubled: 30,003 rows), the pipeline's default Beam args.
"""

import os

import pytest

from tfx_kfp import local
from tfx_kfp.pipelines.presets import build_pipeline
from tfx_kfp.runtime import beam_defaults, beam_warm_pool


def _pool_processes() -> list:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"tfx_kfp.runtime.beam_warm_pool" in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


@pytest.mark.skipif(beam_defaults.available_cores() not in beam_warm_pool.PRESTART_CORES,
                    reason="a run prestarts the pool on 2-4 cores only")
def test_the_evaluator_runs_on_the_pool_the_run_started_and_the_model_is_pushed(tmp_path):
    import tfx

    taxi = os.path.join(os.path.dirname(tfx.__file__), "examples", "chicago_taxi_pipeline")
    with open(os.path.join(taxi, "data", "simple", "data.csv")) as f:
        header, *rows = f.readlines()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "data.csv").write_text(header + "".join(rows * 2))
    assert beam_defaults.size_of([str(tmp_path / "data")]) > beam_defaults.WARM_POOL_MIN_INPUT_BYTES
    with open(os.path.join(taxi, "taxi_utils_native_keras.py")) as f:
        source = f.read()
    pipeline = build_pipeline("training", target="local", params={
        "data_root": str(tmp_path / "data"), "module_source": source, "label_key": "tips",
        "serving_base_dir": str(tmp_path / "serving"), "train_steps": 20, "eval_steps": 5})
    before = _pool_processes()
    run = local.run_pipeline(pipeline, runner="inprocess", pipeline_root=str(tmp_path / "runs"))
    assert run.blessed and run.pushed_destination
    with open(os.path.join(run.run_dir, "logs", "evaluator.log")) as f:
        assert f"--runner={beam_warm_pool.RUNNER}" in f.read()
    with open(os.path.join(run.run_dir, "logs", "transform.log")) as f:
        assert "--direct_running_mode=in_memory" in f.read()  # below Transform's threshold for the pool
    assert beam_warm_pool.prestarted_args() is None and _pool_processes() == before
