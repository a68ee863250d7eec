"""The pipeline benchmark's pure parts: stage times from the runners' own records, run order, and the report.

The measuring itself (minutes of TFX) is not run here; the report is checked on a small synthetic result.
"""

import json
import os
import subprocess
import sys

import pytest

from bench import pipeline_measure as measure
from bench import pipeline_report
from bench.pipeline import run_one

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REPORT = os.path.join(REPO, "bench", "pipeline_report.py")
STAGES = ["ExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "Transform", "Trainer", "Evaluator",
          "Pusher"]
TASKS = ["example-gen", "statistics-gen", "schema-gen", "example-validator", "transform", "trainer", "evaluator",
         "pusher"]




def _run_record(**states):
    """A ``<run_dir>/run.json`` as tfx_kfp.local writes it: task i ran i + 1 seconds."""
    tasks = {task: {"state": states.get(task, "done"), "seconds": i + 1.0, "started": 1000.0 + 10 * i,
                    "ended": 1001.0 + 11 * i} for i, task in enumerate(TASKS)}
    tasks["condition-1"] = {"state": "done", "seconds": 9.0, "started": 1070.0, "ended": 1079.0}
    return {"pipeline": "penguin", "runner": "inprocess", "seconds": 50.0, "tasks": tasks}


def test_stage_times_come_from_the_run_record_in_pipeline_order():
    assert run_one.stage_times(_run_record()) == {stage: i + 1.0 for i, stage in enumerate(STAGES)}


def test_a_cached_or_missing_stage_is_not_a_measurement():
    with pytest.raises(RuntimeError, match="'Trainer': 'cached'"):
        run_one.stage_times(_run_record(trainer="cached"))
    record = _run_record()
    del record["tasks"]["pusher"]
    with pytest.raises(RuntimeError, match="'Pusher': 'missing'"):
        run_one.stage_times(record)


def test_local_dag_runner_components_map_onto_the_stages():
    nodes = {"CsvExampleGen": 2.0, "StatisticsGen": 3.0, "SchemaGen": 0.1, "ExampleValidator": 0.2,
             "Transform": 9.0, "Trainer": 8.0, "Evaluator": 6.0, "Pusher": 0.1}
    assert list(run_one.stages_of_nodes(nodes).items()) == list(zip(STAGES, nodes.values()))
    with pytest.raises(RuntimeError, match=r"\['Pusher'\]"):
        run_one.stages_of_nodes({k: v for k, v in nodes.items() if k != "Pusher"})


def test_run_order_rotates_configurations_every_repeat():
    assert measure.plan(["a", "b", "c"], ["preset"], 2, []) == [
        ("preset", 1, "a"), ("preset", 1, "b"), ("preset", 1, "c"),
        ("preset", 2, "b"), ("preset", 2, "c"), ("preset", 2, "a")]
    assert measure.plan(["a", "b"], ["multi_processing"], 1, ["b"]) == [("multi_processing", 1, "b")]


def _run(config, repeat, wall, stage_seconds, accuracy=0.97):
    return {"config": config, "repeat": repeat, "beam_mode": "preset", "wall_s": wall, "cpu_s": wall - 1,
            "peak_rss_mib": 900.0 + repeat, "others_cpu_s": 2.0, "load_before": 1.0, "load_after": 1.5,
            "python_start_s": 0.1, "import_s": 3.0 * repeat, "pipeline_s": wall - 5, "accuracy": accuracy,
            "blessed": True, "pushed": "/tmp/x", "stage_order": STAGES,
            "stages": {stage: stage_seconds * (i + 1) for i, stage in enumerate(STAGES)}}


@pytest.fixture
def results_file(tmp_path):
    results = {
        "command": "uv run python bench/pipeline_measure.py --repeats 2",
        "started": "2026-11-30T09:00:00+00:00", "finished": "2026-11-30T09:10:00+00:00",
        "machine": {"cores": 2, "cpu": "AMD EPYC", "ram_gib": 23.5, "kernel": "6.1", "python": "3.11.7"},
        "versions": {"tfx": "1.16.0", "kfp": "2.13.0", "keras": None},
        "workload": {"data_root": "pipelines/penguin/data", "module_file": "pipelines/penguin/penguin_module.py",
                     "label_key": "species", "train_steps": 200, "eval_steps": 5, "accuracy_threshold": 0.9,
                     "beam_args": {"preset": ["--direct_running_mode=in_memory"]}},
        "configs": {"inprocess": "tfx-kfp inprocess", "subprocess": "tfx-kfp subprocess",
                    "localdag": "TFX LocalDagRunner"},
        "anchor": "localdag",
        "runs": [_run("inprocess", 1, 40.0, 1.0), _run("localdag", 1, 60.0, 2.0),
                 _run("localdag", 2, 80.0, 4.0), _run("inprocess", 2, 50.0, 3.0)],
    }
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(results))
    return path


def _tables(markdown: str):
    """Each Markdown table as a list of rows (lists of cells), header first, separator left out."""
    tables, current = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            if not line.startswith("|---"):
                current.append([cell.strip() for cell in line.strip("|").split("|")])
        elif current:
            tables.append(current)
            current = []
    return tables


def _report(*args) -> str:
    return subprocess.run([sys.executable, REPORT, *map(str, args)], check=True, capture_output=True, text=True,
                          timeout=60).stdout


def test_report_tables_hold_medians_ratios_and_stage_sums(results_file):
    facts, summary, stages, runs = _tables(_report(results_file))
    assert facts[4] == ["versions", "tfx 1.16.0, kfp 2.13.0"]
    assert summary[0][:5] == ["configuration", "runs", "wall s (each run)", "median wall s",
                              "median wall / TFX LocalDagRunner"]
    assert [row[:6] for row in summary[1:]] == [
        ["tfx-kfp inprocess", "2", "40.0, 50.0", "**45.0**", "0.64", "40.0"],
        ["TFX LocalDagRunner", "2", "60.0, 80.0", "**70.0**", "1.00", "65.0"]]
    assert [row[6:] for row in summary[1:]] == [["4.5", "44", "902", "2", "1.25", "0.970"],
                                                ["4.5", "69", "902", "2", "1.25", "0.970"]]
    assert stages[0] == ["median seconds per stage", "tfx-kfp inprocess", "TFX LocalDagRunner"]
    assert stages[1] == ["ExampleGen", "2.0", "3.0"] and stages[8] == ["Pusher", "16.0", "24.0"]
    assert stages[9] == ["sum of stages", "72.0", "108.0"]
    assert [row[1] for row in runs[1:]] == ["tfx-kfp inprocess", "TFX LocalDagRunner", "TFX LocalDagRunner",
                                            "tfx-kfp inprocess"]


def test_report_fills_the_marked_section_and_keeps_the_prose(results_file, tmp_path):
    doc = tmp_path / "benchmarks.md"
    begin, end = pipeline_report.BEGIN, pipeline_report.END
    doc.write_text(f"# Benchmarks\n\nProse by hand.\n\n{begin}\nold tables\n{end}\n\nMore prose.\n")
    _report(results_file, "--into", doc)
    once = doc.read_text()
    assert once.startswith("# Benchmarks\n\nProse by hand.\n\n") and once.endswith(f"{end}\n\nMore prose.\n")
    assert "old tables" not in once and len(_tables(once)) == 4
    _report(results_file, "--into", doc)
    assert doc.read_text() == once


def test_report_names_the_file_without_markers(results_file, tmp_path):
    doc = tmp_path / "plain.md"
    doc.write_text("# No markers\n")
    out = subprocess.run([sys.executable, REPORT, str(results_file), "--into", str(doc)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode != 0 and f"{doc}: needs exactly one" in out.stderr
    assert doc.read_text() == "# No markers\n"
