"""RunView and the stage results on synthetic TaskEvents shaped like our executors' outputs."""

import io

from rich.console import Console

from tfx_kfp.cli.stage_results import key_result, run_result
from tfx_kfp.cli.view import RunView
from tfx_kfp.local.events import CACHED, DONE, FAILED, RUNNING, SKIPPED, TaskEvent
from tfx_kfp.runtime.errors import InputError

STAGES = ["example-gen", "statistics-gen", "schema-gen", "example-validator", "transform", "trainer",
          "evaluator", "pusher"]
SPLITS = '["train", "eval"]'
OUTPUTS = {
    "example-gen": {"examples": {"split_names": SPLITS, "span": 0}},
    "statistics-gen": {"statistics": {"split_names": SPLITS}, "report": {}},
    "schema-gen": {"schema": {}, "report": {}},
    "example-validator": {"anomalies": {"anomaly_count": 0}, "report": {}},
    "transform": {"transform_graph": {}, "transformed_examples": {"split_names": SPLITS}, "report": {}},
    "trainer": {"model": {"signatures": {}}, "model_run": {}, "report": {},
                "metrics": {"loss": 0.2134, "sparse_categorical_accuracy": 0.95, "val_loss": 0.3,
                            "val_sparse_categorical_accuracy": 0.93}},
    "evaluator": {"blessing": {"blessed": 1}, "evaluation": {}, "confusion_matrix": {}, "report": {},
                  "metrics": {"sparse_categorical_accuracy": 0.97, "example_count": 70.0,
                              "sparse_categorical_accuracy [species=0]": 1.0}},
    "pusher": {"pushed_model": {"pushed": 1, "pushed_version": 1764490000,
                                "pushed_destination": "/models/penguin/1764490000"}, "report": {}},
}
LOGS = "runs/penguin-1/logs"


class ManualClock:
    """A clock the test moves: each event below happens 0.5 s after the previous one."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def feed(view, events, step=0.5):
    for event in events:
        view.clock.now += step
        view(event)


def run_events(final=None, parameters=None):
    """running, then a final event per stage; ``final`` overrides a stage's final event."""
    for stage in STAGES:
        override = (final or {}).get(stage)
        if override is not None and override.state in (CACHED, SKIPPED):
            yield override
            continue
        yield TaskEvent(stage, RUNNING, log_path=f"{LOGS}/{stage}.log")
        yield override or TaskEvent(stage, DONE, seconds=2.0 + STAGES.index(stage), outputs=OUTPUTS[stage],
                                    parameters=(parameters or {}).get(stage, {}), log_path=f"{LOGS}/{stage}.log")
        if override is not None and override.state == FAILED:
            return


def plain_view(**kwargs):
    out = io.StringIO()
    return RunView(STAGES, title="penguin", log_dir=LOGS, console=Console(file=out, width=200), live=False,
                   clock=ManualClock(), **kwargs), out


def test_plain_mode_prints_exactly_one_line_per_state_change():
    view, out = plain_view()
    with view:
        for event in run_events(parameters={"evaluator": {"blessed": True}}):
            feed(view, [event])
            view(event)  # a repeated state is not a change
        view.print_line(view.result_line(index_path="runs/penguin-1/index.html"))
    lines = out.getvalue().splitlines()
    assert lines[:5] == [
        f"penguin · logs: {LOGS}",
        "[    0.5s] example-gen        running",
        "[    1.0s] example-gen        done       2.0s  splits train, eval",
        "[    1.5s] statistics-gen     running",
        "[    2.0s] statistics-gen     done       3.0s  statistics of train, eval",
    ]
    assert lines[6:16] == [
        "[    3.0s] schema-gen         done       4.0s  (2 outputs)",
        "[    3.5s] example-validator  running",
        "[    4.0s] example-validator  done       5.0s  no anomalies",
        "[    4.5s] transform          running",
        "[    5.0s] transform          done       6.0s  transformed train, eval",
        "[    5.5s] trainer            running",
        "[    6.0s] trainer            done       7.0s  loss 0.213, val accuracy 0.930",
        "[    6.5s] evaluator          running",
        "[    7.0s] evaluator          done       8.0s  accuracy 0.970, blessed",
        "[    7.5s] pusher             running",
    ]
    assert lines[16] == "[    8.0s] pusher             done       9.0s  pushed version 1764490000"
    assert lines[17].startswith("penguin: succeeded: accuracy 0.970, blessed; pushed version 1764490000 in ")
    assert lines[17].endswith("; report: runs/penguin-1/index.html")
    assert len(lines) == 18 <= 30


def test_every_stage_appears_with_a_duration_cached_and_skipped_included():
    view, out = plain_view()
    not_blessed = dict(OUTPUTS["evaluator"], blessing={"blessed": 0})
    with view:
        feed(view, run_events(final={
            "transform": TaskEvent("transform", CACHED, seconds=6.0, outputs=OUTPUTS["transform"]),
            "evaluator": TaskEvent("evaluator", DONE, seconds=8.0, outputs=not_blessed, parameters={"blessed": False}),
            "pusher": TaskEvent("pusher", SKIPPED)}))
        view.print_line(view.result_line())
    text = out.getvalue()
    for stage in STAGES[:-1]:
        assert any(line.split()[2:4] and line.split()[2] == stage and line.split()[3] in ("done", "cached")
                   and line.split()[4].endswith("s") for line in text.splitlines()), stage
    assert "transform          cached     6.0s  transformed train, eval" in text
    assert "pusher             skipped          not blessed" in text
    assert "evaluator          done       8.0s  accuracy 0.970, NOT blessed" in text
    assert "penguin: succeeded: accuracy 0.970, NOT blessed; pusher skipped (not blessed) in " in text


def test_live_table_fits_one_screen_and_shows_each_result():
    console = Console(record=True, force_terminal=True, width=100)
    view = RunView(STAGES, title="penguin", log_dir=LOGS, console=console, clock=ManualClock())
    assert view.live
    with view:
        feed(view, run_events(parameters={"evaluator": {"blessed": True}}))
    console.export_text()  # what the Live refreshes drew; the final frame is checked below
    console.print(view.render())
    frame = console.export_text().rstrip("\n").splitlines()
    assert len(frame) <= 24
    for stage in STAGES:
        assert any(line.split()[:1] == [stage] for line in frame), stage
    assert any("pushed version 1764490000" in line for line in frame)
    assert frame[-1].strip() == f"logs: {LOGS}"


def test_live_table_shows_a_running_stage_with_a_spinner_and_its_elapsed_time():
    console = Console(record=True, force_terminal=True, width=100)
    view = RunView(STAGES, console=console, clock=ManualClock())
    view(TaskEvent("example-gen", RUNNING))
    view.clock.now += 1.0
    console.print(view.render())
    text = console.export_text()
    row = next(line for line in text.splitlines() if "example-gen" in line)
    assert row.split()[2] == "running" and row.split()[1] in "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
    assert row.split()[3] == "1.0s"
    waiting = next(line for line in text.splitlines() if "pusher" in line)
    assert waiting.split() == ["pusher", "waiting"]


def test_a_failed_stage_prints_its_summary_and_nothing_else():
    view, out = plain_view()
    error = InputError("/data/penguins.csv", "must be a number", field="body_mass_g", received="'heavy'")
    with view:
        feed(view, run_events(final={"example-gen": TaskEvent("example-gen", FAILED, seconds=1.0, error=error,
                                                              log_path=f"{LOGS}/example-gen.log")}))
    assert out.getvalue().splitlines() == [
        f"penguin · logs: {LOGS}",
        "[    0.5s] example-gen        running",
        "[    1.0s] example-gen        failed     1.0s  see below",
        "example-gen failed: /data/penguins.csv: field 'body_mass_g': must be a number (received: 'heavy')",
        f"  full log: {LOGS}/example-gen.log",
    ]
    assert view.result_line().startswith("penguin: FAILED in example-gen in ")


def test_user_warnings_are_printed_to_the_error_stream_in_plain_mode():
    out, err = io.StringIO(), io.StringIO()
    view = RunView(STAGES, live=False, console=Console(file=out))
    view.err_console = Console(file=err)
    view.print_warning("/home/me/module.py:3: UserWarning: careful\n")
    assert err.getvalue() == "/home/me/module.py:3: UserWarning: careful\n" and out.getvalue() == ""


def test_key_results_from_metadata_in_both_shapes():
    rows = TaskEvent("example-gen", DONE, outputs={"examples": {"split_names": SPLITS,
                                                                "row_counts": {"train": 230, "eval": 114}}})
    assert key_result(rows) == "344 rows · splits train, eval"
    anomalies = TaskEvent("example-validator", DONE, outputs={"anomalies": {"anomaly_count": 3.0}})
    assert key_result(anomalies) == "3 anomalies found"
    after_mlmd = TaskEvent("pusher", DONE, outputs={"pushed_model": {"pushed": 1.0, "pushed_version": 1796028461.0}})
    assert key_result(after_mlmd) == "pushed version 1796028461"
    not_pushed = TaskEvent("pusher", DONE, outputs={"pushed_model": {"pushed": 0}})
    assert key_result(not_pushed) == "not pushed: not blessed"
    # the backend stores bools as numbers; the output parameter may be a real bool
    assert key_result(TaskEvent("evaluator", DONE, outputs={"blessing": {"blessed": 0}},
                                parameters={"blessed": True})) == "blessed"
    assert key_result(TaskEvent("custom", DONE, outputs={"thing": {}})) == "(1 output)"
    assert key_result(TaskEvent("custom", RUNNING)) == ""
    assert run_result({"a": TaskEvent("a", DONE)}) == "succeeded"


def test_a_user_module_failure_in_the_live_view_ends_with_a_summary_under_15_lines(tmp_path):
    from tests.unit.test_failures import library_call, load_user_module, raised

    module, path = load_user_module(tmp_path)
    error = raised(library_call, module.preprocessing_fn, {})
    console = Console(record=True, force_terminal=True, width=100)
    view = RunView(STAGES, title="penguin", console=console, clock=ManualClock(), user_module_paths=[path])
    with view:
        feed(view, run_events(final={"transform": TaskEvent("transform", FAILED, seconds=3.0, error=error,
                                                            log_path=f"{LOGS}/transform.log")}))
        console.export_text()  # the live frames
    after = console.export_text().splitlines()
    after = after[after.index(next(line for line in after if line.startswith("transform failed:"))):]
    assert len(after) < 15
    assert after[0] == "transform failed: KeyError: 'body_mass'"
    assert after[-1] == f"  full log: {LOGS}/transform.log"
    assert all("site-packages" not in line and "test_failures.py" not in line for line in after)


def test_the_log_folder_is_named_once_with_the_title_when_the_first_event_names_it():
    out = io.StringIO()
    view = RunView(STAGES, title="penguin", console=Console(file=out, width=200), live=False, clock=ManualClock())
    with view:
        feed(view, list(run_events())[:3])
    lines = out.getvalue().splitlines()
    assert lines[0] == f"penguin · logs: {LOGS}" and sum("logs:" in line for line in lines) == 1
    assert lines[1] == "[    0.5s] example-gen        running"


def test_a_model_the_infra_validator_refused_skips_the_pusher_as_not_infra_blessed_with_the_cause():
    from tfx_kfp.components.infra_validator.causes import KERAS3_CAUSE

    evaluator = TaskEvent("evaluator", DONE, outputs=OUTPUTS["evaluator"], parameters={"blessed": True})
    infra = TaskEvent("infra-validator", DONE, outputs={"infra_blessing": {"blessed": 0, "cause": KERAS3_CAUSE}})
    pusher = TaskEvent("pusher", SKIPPED)
    events = {"evaluator": evaluator, "infra-validator": infra, "pusher": pusher}
    assert key_result(pusher, events) == "not infra-blessed"
    assert key_result(infra) == f"NOT infra-blessed: {KERAS3_CAUSE}"
    line = run_result(events)
    assert "NOT infra-blessed (a Keras 3 model exported with tf.saved_model.save" in line
    assert "TF_USE_LEGACY_KERAS=1" in line and "keras.export.ExportArchive" in line
    assert line.endswith("pusher skipped (not infra-blessed)")
    # not blessed by the Evaluator: the InfraValidator never ran, both gated tasks skipped as not blessed
    skipped = {"evaluator": evaluator, "infra-validator": TaskEvent("infra-validator", SKIPPED), "pusher": pusher}
    assert key_result(pusher, skipped) == "not blessed"


def test_the_evaluator_line_shows_the_metric_its_eval_config_blessed_on():
    outputs = {"blessing": {"blessed": 1, "blessing_metric": "binary_accuracy", "baseline_version": 7,
                            "baseline_metrics": {"binary_accuracy": 0.81}},
               "metrics": {"binary_accuracy": 0.834, "example_count": 5000.0, "sparse_categorical_accuracy": 0.1}}
    assert key_result(TaskEvent("evaluator", DONE, outputs=outputs)) == "accuracy 0.834 vs 0.810 of served v7, blessed"
    outputs["blessing"]["blessing_metric"] = "auc"
    outputs["metrics"]["auc"] = 0.9
    assert key_result(TaskEvent("evaluator", DONE, outputs=outputs)) == "auc 0.900 vs served v7, blessed"
