"""The production loop on the penguin preset: each candidate is judged against the model being served."""

import json
import os

from tfx_kfp import local
from tfx_kfp.components.pusher.executor import PUSH_RECORD
from tfx_kfp.pipelines.presets import build_pipeline


def _run(tmp_path, serving, **params):
    pipeline = build_pipeline("penguin", target="local",
                              params={"serving_base_dir": str(serving), "accuracy_threshold": 0.3, **params})
    return local.run_pipeline(pipeline, pipeline_root=str(tmp_path / "runs"))


def test_a_worse_candidate_is_not_pushed_and_a_better_one_replaces_the_baseline(tmp_path):
    serving = tmp_path / "serving"
    first = _run(tmp_path, serving, train_steps=40)
    assert first.state("latest-pushed-model") == "done" and first.blessed
    assert first.metadata("latest-pushed-model", "baseline_model")["baseline"] == 0
    first_version = int(first.metadata("pusher", "pushed_model")["pushed_version"])
    assert first.metadata("pusher", "pushed_model")["replaced_version"] == 0

    worse = _run(tmp_path, serving, train_steps=1)
    assert worse.eval_accuracy >= 0.3  # passes the absolute threshold ...
    assert worse.eval_accuracy < first.eval_accuracy
    assert worse.blessed is False and worse.state("pusher") == "skipped"  # ... but not the baseline
    assert worse.metadata("evaluator", "blessing")["baseline_version"] == first_version
    with open(os.path.join(worse.run_dir, "evaluator", "report")) as f:
        report = f.read()
    assert f"Compared with the served model, version {first_version}" in report
    assert "Why not blessed" in report and "Candidate vs. baseline" in report
    assert "sparse_categorical_accuracy changed by -" in report  # a sentence per failed threshold
    assert sorted(v for v in os.listdir(serving) if v.isdigit()) == [str(first_version)]

    better = _run(tmp_path, serving, train_steps=300)
    assert better.blessed and better.eval_accuracy >= first.eval_accuracy
    pushed = better.metadata("pusher", "pushed_model")
    assert pushed["replaced_version"] == first_version and pushed["pushed_version"] > first_version
    with open(os.path.join(pushed["pushed_destination"], PUSH_RECORD)) as f:
        record = json.load(f)
    assert record["replaced_version"] == first_version
    assert record["metrics"]["sparse_categorical_accuracy"] == better.eval_accuracy
    assert record["run"] == os.path.basename(better.run_dir)
