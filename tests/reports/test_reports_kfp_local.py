"""The index of a real ``kfp.local`` run whose components write the reports."""

import pytest
from kfp import dsl, local
from kfp.dsl import HTML, ClassificationMetrics, Markdown, Metrics, Output

from tests._support.report_samples import html_tables
from tfx_kfp.reports.run_scan import HTML as HTML_KIND
from tfx_kfp.reports.run_index import write_run_index
from tfx_kfp.reports.run_scan import CLASSIFICATION_METRICS, MARKDOWN, METRICS, resolve_run_dir, scan_run


@dsl.component(base_image="python:3.11")
def schema_gen(report: Output[Markdown]):
    from tensorflow_metadata.proto.v0 import schema_pb2

    from tfx_kfp.reports import render_schema_markdown

    schema = schema_pb2.Schema()
    schema.feature.add(name="culmen_length_mm", type=schema_pb2.FLOAT)
    with open(report.path, "w") as out:
        out.write(render_schema_markdown(schema))


@dsl.component(base_image="python:3.11")
def evaluator(report: Output[HTML], metrics: Output[Metrics], confusion_matrix: Output[ClassificationMetrics]):
    from tfx_kfp.reports import render_evaluation_html

    with open(report.path, "w") as out:
        out.write(render_evaluation_html(blessed=True, overall={"accuracy": 0.97}, per_slice=[], thresholds=[],
                                         confusion_matrix=None))
    metrics.log_metric("accuracy", 0.97)
    confusion_matrix.log_confusion_matrix(["Adelie", "Gentoo"], [[30, 1], [0, 20]])


@dsl.pipeline(name="report-smoke")
def report_smoke():
    evaluator().after(schema_gen())


@pytest.mark.beam
def test_index_of_a_real_kfp_local_run(tmp_path):
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"))
    report_smoke()
    run_dir = resolve_run_dir(tmp_path / "root")
    assert run_dir.name.startswith("report-smoke-")
    tasks = scan_run(run_dir)
    assert [t.name for t in tasks] == ["schema-gen", "evaluator"]
    kinds = [[(o.name, o.kind) for o in t.outputs] for t in tasks]
    assert kinds == [
        [("report", MARKDOWN)],
        [("report", HTML_KIND), ("metrics", METRICS), ("confusion_matrix", CLASSIFICATION_METRICS)],
    ]
    tables = html_tables(write_run_index(tmp_path / "root").read_text())
    rows = {table["rows"][0][0]: table["rows"][1:] for table in tables}
    assert [row[1:3] for row in rows["#"]] == [["schema-gen", "done"], ["evaluator", "done"]]
    assert [row[:2] for row in rows["Feature"]] == [["culmen_length_mm", "FLOAT"]]  # Markdown rendered inline
    # Metrics and ClassificationMetrics, from what kfp.local wrote in executor_output.json.
    assert rows["Metric"] == [["accuracy", "0.97"]]
    assert [row[:3] for row in rows["Actual \\ predicted"]] == [["Adelie", "30 (97 %)", "1 (3 %)"],
                                                              ["Gentoo", "0 (0 %)", "20 (100 %)"]]
