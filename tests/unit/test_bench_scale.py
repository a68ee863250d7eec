"""The scaling benchmark's pure parts (bench/scale/): stages from tfx-kfp's run record, the report.

The measuring itself (minutes of TFX per run) is not run here; the report is checked on a small
synthetic result.
"""

import json

import pytest

from bench.scale import measure, report, taxi_one

STAGES = ["ExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "Transform", "Trainer", "Evaluator",
          "Pusher"]


def _record(**states):
    tasks = {"resolve-inputs": {"state": "done", "seconds": 12.0}}
    for i, task in enumerate(["example-gen", "statistics-gen", "schema-gen", "example-validator", "transform",
                              "trainer", "evaluator", "pusher"]):
        tasks[task] = {"state": states.get(task, "done"), "seconds": i + 1.0}
    return {"seconds": 60.0, "tasks": tasks}


def test_stages_in_pipeline_order_with_their_states():
    stages = taxi_one.tfx_kfp_stages(_record(pusher="skipped"))
    assert list(stages) == STAGES
    assert stages["Transform"] == {"state": "done", "seconds": 5.0}
    assert stages["Pusher"]["state"] == "skipped"
    taxi_one.check_ran(stages)  # a skipped Pusher (the InfraValidator refused the model) is allowed


def test_a_stage_that_did_not_run_stops_the_measuring():
    with pytest.raises(RuntimeError, match="'Transform': 'cached'"):
        taxi_one.check_ran(taxi_one.tfx_kfp_stages(_record(transform="cached")))
    with pytest.raises(RuntimeError, match="'Pusher': 'skipped'"):
        taxi_one.check_ran(taxi_one.tfx_kfp_stages(_record(pusher="skipped")), may_skip=())


def test_sizes_repeat_the_taxi_csv_with_one_header(tmp_path, monkeypatch):
    csv = tmp_path / "data.csv"
    csv.write_text("a,tips\n1,0\n2,1\n")
    monkeypatch.setattr(measure, "taxi_files", lambda: (str(csv), "module.py"))
    folder, rows, size = measure.make_data(str(tmp_path / "work"), "150k")
    with open(f"{folder}/data.csv") as f:
        lines = f.read().splitlines()
    assert lines[0] == "a,tips" and lines.count("a,tips") == 1 and len(lines) == 1 + 2 * 10 and rows == 20


def _run(system, size, mode, wall):
    stages = {s: {"state": "done", "seconds": 1.0} for s in STAGES}
    return {"system": system, "size": size, "mode": mode, "rows": 15002 if size == "15k" else 150020,
            "wall_s": wall, "cpu_s": wall / 2, "cores_used": 0.5, "peak_rss_mib": 1000, "peak_tree_rss_mib": 1200,
            "import_s": 2.0, "stages": stages, "other_tasks": {}, "others_cpu_s": 3.0, "load_before": 1.0,
            "load_after": 1.5}


def test_the_report_gives_the_ratio_per_size_and_mode_and_the_pending_size(tmp_path):
    doc = {"command": "measure", "machine": {"cores": 2, "cpu": "x", "ram_gib": 8}, "versions": {},
           "workload": {"train_steps": 100}, "labels": {},
           "runs": [_run("localdag", "15k", "in_memory", 80.0), _run("tfx-kfp", "15k", "in_memory", 40.0),
                    _run("tfx-kfp", "150k", "in_memory", 90.0)]}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc))
    target = tmp_path / "doc.md"
    target.write_text(f"before\n{report.BEGIN}\nold\n{report.END}\nafter\n")
    assert report.main([str(path), "--into", str(target), "--pending", "1.5M,15k"]) == 0
    text = target.read_text()
    assert "| 15,002 | in_memory | 40.0 | 80.0 | **0.50** |" in text
    assert "| 150,020 | in_memory | 90.0 | — | — |" in text
    assert "| 1.5M | in_memory, multi_processing | pending |" in text and "| 15k |" not in text
    assert text.startswith("before\n") and text.endswith("after\n") and "old" not in text
