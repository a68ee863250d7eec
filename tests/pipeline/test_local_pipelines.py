"""Whole pipelines run locally, for real: the compiled penguin preset, a TFX-style user module, bad inputs.

In-process runs share this test process (TensorFlow imported once); the
subprocess runner starts a process per task, as a user's would.
"""

import csv
import os
import random
import re

import pytest

from tfx_kfp import local
from tfx_kfp.cli import main
from tfx_kfp.pipelines.presets import build_pipeline

HERE = os.path.dirname(os.path.abspath(__file__))
FRUIT_MODULE = os.path.join(os.path.dirname(HERE), "data", "fruit_module.py")
STAGES = ["example-gen", "statistics-gen", "schema-gen", "example-validator", "transform", "trainer", "evaluator",
          "pusher"]


def execute(name, params, runner, pipeline_root, **options):
    pipeline = build_pipeline(name, target="local", params=params)
    return local.run_pipeline(pipeline, runner=runner, pipeline_root=pipeline_root, **options)


def _load_and_score(path):
    import tensorflow as tf

    serving = tf.saved_model.load(path).signatures["serving_default"]
    inputs = {"culmen_length_mm": [0.25, 0.9], "culmen_depth_mm": [0.66, 0.2],
              "flipper_length_mm": [0.15, 0.9], "body_mass_g": [0.29, 0.8]}
    return serving(**{k: tf.constant(v, tf.float32) for k, v in inputs.items()})["scores"].numpy()


@pytest.fixture(scope="module")
def penguin_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("penguin")
    result = execute("penguin", {"serving_base_dir": str(root / "serving")}, "inprocess", str(root / "runs"))
    return result, root


def test_penguin_in_process_pushes_a_servable_accurate_model(penguin_run):
    result, root = penguin_run
    assert result.blessed is True
    assert result.eval_accuracy >= 0.9
    destination = result.pushed_destination
    assert os.path.dirname(destination) == str(root / "serving")
    assert os.path.basename(destination).isdigit()
    scores = _load_and_score(destination)
    assert scores.shape == (2, 3)
    assert scores[0].argmax() == 0 and scores[1].argmax() == 2


def test_penguin_run_writes_every_stage_and_report(penguin_run):
    result, _ = penguin_run
    for stage in STAGES:
        assert os.path.isfile(os.path.join(result.run_dir, stage, "executor_output.json")), stage
    for stage in STAGES[1:]:
        report = os.path.join(result.run_dir, stage, "report")
        assert os.path.getsize(report) > 100, stage
    with open(os.path.join(result.run_dir, "pusher", "report")) as f:
        push_report = f.read()
    # the model's real signatures (Markdown-escaped), not one named "struct": metadata read in both shapes
    assert "### serving\\_default" in push_report and "### serving\\_examples" in push_report
    assert "struct" not in push_report
    confusion = result.metadata("evaluator", "confusion_matrix")["confusionMatrix"]
    assert sum(sum(r["row"]) for r in confusion["rows"]) == result.metadata("evaluator", "metrics")["example_count"]


def test_report_command_indexes_the_run(penguin_run, capsys):
    result, _ = penguin_run
    assert main(["report", result.run_dir]) == 0
    index = capsys.readouterr().out.strip().splitlines()[-1]
    with open(index) as f:
        page = f.read()
    for stage in STAGES:
        assert stage in page


def test_rerunning_does_not_push_the_same_model_twice(penguin_run):
    """A retried pusher (same model) reuses its version: one version folder, not two."""
    from kfp.dsl import Markdown

    from tfx_kfp.components.pusher import executor as push
    from tfx_kfp.components.types import Model, ModelBlessing, PushedModel

    result, root = penguin_run
    trainer_model = os.path.join(result.run_dir, "trainer", "model")
    blessing = os.path.join(result.run_dir, "evaluator", "blessing")
    pushed = PushedModel(uri=str(root / "retry"))
    push.run(model=Model(uri=trainer_model), blessing=ModelBlessing(uri=blessing, metadata={"blessed": 1}),
             serving_base_dir=str(root / "serving"), pushed_model=pushed, report=Markdown(uri=str(root / "r.md")),
             evaluation_metrics=None, source_run="", infra_blessing=None)
    assert pushed.metadata["pushed_destination"] == result.pushed_destination
    assert len([v for v in os.listdir(root / "serving") if v.isdigit()]) == 1


def test_the_run_executed_exactly_the_spec_compile_writes(penguin_run, tmp_path):
    result, root = penguin_run
    compiled = tmp_path / "pipeline.yaml"
    assert main(["compile", "--target", "local", "--param", f"serving_base_dir={root / 'serving'}",
                 "-o", str(compiled)]) == 0
    with open(os.path.join(result.run_dir, local.SPEC_FILE)) as f:
        assert f.read() == compiled.read_text()


def test_editing_only_the_trainer_module_reruns_only_trainer_onwards(penguin_run, tmp_path):
    from tfx_kfp.pipelines import penguin

    result, root = penguin_run
    edited = penguin.module_source() + "\n# tuned: a comment is enough to change the Trainer's input\n"
    rerun = execute("penguin", {"serving_base_dir": str(tmp_path / "serving"), "trainer_module_source": edited},
                    "inprocess", str(root / "runs"))
    assert [rerun.state(s) for s in STAGES[:5]] == ["cached"] * 5
    assert [rerun.state(s) for s in STAGES[5:]] == ["done"] * 3
    assert rerun.tasks["transform"].artifacts == result.tasks["transform"].artifacts
    assert rerun.pushed_destination.startswith(str(tmp_path / "serving"))


def test_penguin_under_the_subprocess_runner(tmp_path):
    result = execute("penguin", {"serving_base_dir": str(tmp_path / "serving")}, "subprocess", str(tmp_path / "runs"))
    assert result.blessed and result.eval_accuracy >= 0.9
    assert _load_and_score(result.pushed_destination).shape == (2, 3)


def test_schema_anomaly_stops_at_the_validator_and_pushes_nothing(tmp_path):
    from tfx_kfp.pipelines import penguin

    curated = "\n".join([
        'feature { name: "species" type: INT presence { min_fraction: 1.0 min_count: 1 } }',
        *[f'feature {{ name: "{k}" type: FLOAT presence {{ min_fraction: 1.0 min_count: 1 }} }}'
          for k in ("culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g")],
        'feature { name: "island" type: BYTES presence { min_fraction: 1.0 min_count: 1 } }',
    ])
    serving = tmp_path / "serving"
    with pytest.raises(local.TaskFailed, match="example-validator"):
        execute("penguin", {"serving_base_dir": str(serving), "schema_pbtxt": curated,
                            "data_root": penguin.DATA_DIR}, "inprocess", str(tmp_path / "runs"))
    (run_dir,) = [d for d in (tmp_path / "runs").iterdir() if not d.name.startswith(".")]
    assert (run_dir / "import-schema" / "schema").is_dir()
    assert not (run_dir / "transform").exists() and not (run_dir / "trainer").exists()
    assert not serving.exists() or not os.listdir(serving)


def test_unblessed_model_skips_the_pusher_and_the_run_succeeds(tmp_path):
    impossible = ('{"model_specs": [{"label_key": "species"}], "metrics_specs": [{"metrics": [{"class_name": '
                  '"SparseCategoricalAccuracy", "threshold": {"value_threshold": {"lower_bound": 2.0}}}]}]}')
    serving = tmp_path / "serving"
    result = execute("penguin", {"serving_base_dir": str(serving), "eval_config_json": impossible,
                                 "train_steps": 20}, "inprocess", str(tmp_path / "runs"))
    assert result.blessed is False
    assert result.state("pusher") == "skipped"  # the dsl.If gate, as on a cluster: the Pusher never ran
    assert result.pushed_destination is None and not os.path.exists(os.path.join(result.run_dir, "pusher"))
    assert not serving.exists() or not os.listdir(serving)


def _fruit_csv(folder, rows=300, seed=7):
    rng = random.Random(seed)
    folder.mkdir()
    with open(folder / "fruit.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["weight_g", "color", "fruit"])
        for _ in range(rows):
            fruit = rng.randint(0, 1)  # 0 = apple (red/green, heavier), 1 = banana (yellow, lighter)
            color = rng.choice(["red", "green"]) if fruit == 0 else "yellow"
            weight = rng.gauss(180, 20) if fruit == 0 else rng.gauss(120, 15)
            writer.writerow([round(weight, 1), color, fruit])


def test_tfx_style_user_module_runs_unchanged_on_keras_2_and_is_pushed(tmp_path):
    """A TFX module (tfx.v1, a vocabulary, a two-class softmax model exported with a tf.function on a
    tf.Module) runs through every stage unchanged; on Keras 2, as every task runs (runtime/task_env.py),
    its export restores under TF Serving's TF1 loader, so it is infra-blessed and pushed. (Its Keras 3
    export is refused with the cause and both fixes: tests/executors/test_infra_validator.py.)"""
    _fruit_csv(tmp_path / "data")
    with open(FRUIT_MODULE) as f:
        source = f.read()
    serving = tmp_path / "serving"
    result = execute("training", {
        "data_root": str(tmp_path / "data"), "module_source": source, "label_key": "fruit",
        "serving_base_dir": str(serving), "train_steps": 30, "eval_steps": 5, "accuracy_threshold": 0.8,
        "beam_pipeline_args": ["--direct_running_mode=in_memory"],
    }, "inprocess", str(tmp_path / "runs"))
    assert result.blessed and result.eval_accuracy >= 0.8
    assert result.metadata("evaluator", "blessing")["blessing_metric"] == "sparse_categorical_accuracy"
    import tensorflow as tf  # after the run: its first import happens in a task, with the task's environment

    model = tf.saved_model.load(result.pushed_destination)
    example = tf.train.Example(features=tf.train.Features(feature={
        "weight_g": tf.train.Feature(float_list=tf.train.FloatList(value=[110.0])),
        "color": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"yellow"])),
    }))
    outputs = model.signatures["serving_default"](examples=tf.constant([example.SerializeToString()]))["outputs"]
    assert outputs.numpy()[0].argmax() == 1
    assert result.metadata("infra-validator", "infra_blessing")["blessed"] == 1
    assert result.state("pusher") == "done" and os.path.dirname(result.pushed_destination) == str(serving)


def test_missing_data_dir_fails_with_the_rule_that_failed(tmp_path, capfd):
    code = main(["run", "--local", "--pipeline-root", str(tmp_path / "runs"),
                 "--param", f"data_root={tmp_path / 'nowhere'}",
                 "--param", f"serving_base_dir={tmp_path / 'serving'}"])
    captured = capfd.readouterr()
    assert code == 1
    assert f"{tmp_path / 'nowhere'}: field 'data_root': data directory does not exist" in captured.err
    assert re.search(r"resolve-inputs\s+failed", captured.out)


def test_every_html_report_of_the_run_renders_offline_in_chromium(penguin_run):
    """The real run's HTML reports in headless Chromium: nothing external loads, content from the DOM."""
    from pathlib import Path

    from tests._support.browser import Chromium, find_chromium, load_offline
    from tfx_kfp.reports.run_index import write_run_index

    binary = find_chromium()
    if binary is None:
        pytest.skip("no chromium or chromedriver on PATH (Debian: apt-get install -y chromium chromium-driver)")
    result, _ = penguin_run
    index = write_run_index(result.run_dir)
    pages = {task: Path(index).parent / "index_files" / task / "report.html"
             for task in ("statistics-gen", "example-validator", "trainer", "evaluator")}
    examples = result.metadata("evaluator", "metrics")["example_count"]
    with Chromium(binary) as browser:
        expectations = {
            "statistics-gen": ["culmen_length_mm", "body_mass_g", "train", "eval"],
            "example-validator": ["No anomalies"],
            "trainer": ["loss", "sparse_categorical_accuracy"],
            "evaluator": ["Blessed", "at least 0.9", f"{int(examples)}"],
        }
        for task, path in pages.items():
            page = load_offline(browser, path)
            try:
                text = page.text()
                for expected in expectations[task]:
                    assert expected in text, f"{task}: {expected!r} not on the page"
            finally:
                page.close()
        page = load_offline(browser, Path(index))
        try:
            for stage in STAGES[1:]:
                assert stage in page.text()
        finally:
            page.close()
