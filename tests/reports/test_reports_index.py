"""Tests of the run index and the ``tfx-kfp report`` command (no browser)."""

import json
import os
import re
import urllib.parse
from pathlib import Path

import pytest

from tests._support.report_samples import (
    SPECIES,
    classification_metadata,
    evaluation_kwargs,
    external_references,
    html_tables,
    push_kwargs,
    sample_history,
    write_local_run,
)
from tfx_kfp import cli
from tfx_kfp.reports import (
    render_anomalies_html,
    render_evaluation_html,
    render_push_markdown,
    render_training_html,
)
from tfx_kfp.reports.run_index import write_run_index
from tfx_kfp.reports.run_scan import (ARTIFACT, CLASSIFICATION_METRICS, HTML, MARKDOWN, METRICS, RunNotFoundError,
                                      resolve_run_dir, scan_run)
from tensorflow_metadata.proto.v0 import anomalies_pb2

MATRIX = [[48, 2, 0], [3, 20, 0], [0, 0, 41]]


def _tasks():
    return [
        ("statistics-gen", {"report": "<!DOCTYPE html><title>s</title><p>stats</p>", "statistics/": b"\0pb"}),
        ("schema-gen", {"report": "# Schema\n\n| Feature | Type |\n|---|---|\n| species | INT |\n"}),
        ("example-validator", {"report": render_anomalies_html({"eval": anomalies_pb2.Anomalies()})}),
        ("trainer", {"report": render_training_html(sample_history()),
                     "metrics": {"loss": 0.2, "val_sparse_categorical_accuracy": 0.93}, "model/": b"saved"}),
        ("evaluator", {"report": render_evaluation_html(**evaluation_kwargs(blessed=True)),
                       "metrics": {"sparse_categorical_accuracy": 0.94},
                       "confusion_matrix": classification_metadata(SPECIES, MATRIX)}),
        ("pusher", {"report": render_push_markdown(**push_kwargs())}),
    ]


@pytest.fixture
def run_dir(tmp_path):
    return write_local_run(tmp_path / "root", "penguin-pipeline", _tasks())


def test_scan_lists_tasks_in_run_order_with_output_kinds(run_dir):
    tasks = scan_run(run_dir)
    assert [t.name for t in tasks] == [name for name, _ in _tasks()]
    kinds = {t.name: {o.name: o.kind for o in t.outputs} for t in tasks}
    assert kinds["statistics-gen"] == {"report": HTML, "statistics": ARTIFACT}
    assert kinds["schema-gen"] == {"report": MARKDOWN}
    assert kinds["trainer"] == {"report": HTML, "metrics": METRICS, "model": ARTIFACT}
    assert kinds["evaluator"] == {"report": HTML, "metrics": METRICS, "confusion_matrix": CLASSIFICATION_METRICS}
    assert kinds["pusher"] == {"report": MARKDOWN}
    assert all(t.finished for t in tasks)


def test_run_order_follows_finish_time_not_name(tmp_path):
    run = write_local_run(tmp_path, "p", [("zeta", {"report": "# z"}), ("alpha", {"report": "# a"})])
    assert [t.name for t in scan_run(run)] == ["zeta", "alpha"]


def test_index_links_every_report_and_shows_metrics(run_dir):
    index = write_run_index(run_dir)
    assert index == run_dir / "index.html"
    page = index.read_text()
    assert external_references(page) == []
    assert "Pipeline run: penguin-pipeline" in page and "started 2025-01-02-03-04-05-123456" in page
    hrefs = [urllib.parse.unquote(h) for h in re.findall(r'href="([^"#][^"]*)"', page)]
    for task in ("statistics-gen", "schema-gen", "example-validator", "trainer", "evaluator", "pusher"):
        assert f"{task}/report" in hrefs
    assert all((index.parent / h).exists() for h in hrefs)
    tables = html_tables(page)
    assert tables[0] == {"caption": "Tasks", "rows": [
        ["#", "Task", "State", "Visual outputs"], ["1", "statistics-gen", "done", "report"],
        ["2", "schema-gen", "done", "report"], ["3", "example-validator", "done", "report"],
        ["4", "trainer", "done", "report, metrics"], ["5", "evaluator", "done", "report, metrics, confusion_matrix"],
        ["6", "pusher", "done", "report"]]}
    rows = {table["rows"][0][0]: table["rows"][1:] for table in tables[1:]}
    assert rows["Feature"] == [["species", "INT"]]  # the Markdown schema, rendered inline
    assert [t["rows"][1:] for t in tables if t["caption"] == "Metrics: metrics"] == [
        [["loss", "0.2"], ["val_sparse_categorical_accuracy", "0.93"]], [["sparse_categorical_accuracy", "0.94"]]]
    # The confusion matrix, from the ClassificationMetrics metadata alone.
    assert rows["Actual \\ predicted"] == [
        ["Adelie", "48 (96 %)", "2 (4 %)", "0 (0 %)", "50", "0.96"],
        ["Chinstrap", "3 (13 %)", "20 (87 %)", "0 (0 %)", "23", "0.8696"],
        ["Gentoo", "0 (0 %)", "0 (0 %)", "41 (100 %)", "41", "1"]]
    assert rows["Field"] == [["Pushed path", "/serving/penguin/1735689600"], ["Version", "1735689600"]]


def test_index_written_elsewhere_keeps_links_working(run_dir, tmp_path):
    index = write_run_index(run_dir, tmp_path / "out" / "runs.html")
    page = index.read_text()
    hrefs = [urllib.parse.unquote(h) for h in re.findall(r'href="([^"#][^"]*)"', page)]
    assert hrefs and all((index.parent / h).resolve().exists() for h in hrefs)


def test_unfinished_task_is_shown(run_dir):
    (run_dir / "trainer" / "executor_output.json").unlink()
    tasks = scan_run(run_dir)
    assert tasks[-1].name == "trainer" and not tasks[-1].finished
    assert "failed or did not finish" in write_run_index(run_dir).read_text()


def test_pipeline_root_resolves_to_newest_run(tmp_path):
    old = write_local_run(tmp_path, "p", [("a", {"report": "# old"})], stamp="2025-01-01-00-00-00-000001")
    new = write_local_run(tmp_path, "p", [("a", {"report": "# new"})], stamp="2025-01-02-00-00-00-000001")
    os.utime(old, (1_600_000_000, 1_600_000_000))
    os.utime(new, (1_700_000_000, 1_700_000_000))
    assert resolve_run_dir(tmp_path) == new
    assert resolve_run_dir(old) == old


def test_no_run_is_an_error(tmp_path):
    with pytest.raises(RunNotFoundError):
        resolve_run_dir(tmp_path)


def test_report_command_prints_the_index_path(run_dir, capsys):
    assert cli.main(["report", str(run_dir)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [str(run_dir / "index.html")]
    assert (run_dir / "index.html").is_file()


def test_report_command_with_output_and_root(run_dir, tmp_path, capsys):
    target = tmp_path / "index.html"
    assert cli.main(["report", str(run_dir.parent), "-o", str(target)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(target) and "indexing the newest" in captured.err
    assert target.is_file()


def test_report_command_on_an_empty_dir_fails_clearly(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path)]) == 2
    assert "holds no kfp.local run" in capsys.readouterr().err


def test_executor_output_format_matches_kfp_local(run_dir):
    data = json.loads((run_dir / "evaluator" / "executor_output.json").read_text())
    artifact = data["artifacts"]["confusion_matrix"]["artifacts"][0]
    assert artifact["metadata"]["confusionMatrix"]["annotationSpecs"][0] == {"displayName": "Adelie"}
    assert Path(artifact["uri"]).parent == run_dir / "evaluator"
