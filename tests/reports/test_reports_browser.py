"""Reports rendered in headless Chromium (Selenium), offline: no external load, content from the DOM.

The penguin-run tests build a run from real TFDV statistics, schema and anomalies and a real (tiny)
Keras fit. Set ``TFX_KFP_UPDATE_SCREENSHOTS=1`` to write the screenshots into docs/images/reports.
"""

import urllib.parse
from pathlib import Path

import pytest
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from tests._support.browser import load_offline
from tests._support.report_samples import (
    PENGUIN_FEATURES,
    SPECIES,
    classification_metadata,
    evaluation_kwargs,
    push_kwargs,
    sample_history,
    write_local_run,
)
from tfx_kfp.reports import (
    render_anomalies_html,
    render_evaluation_html,
    render_push_markdown,
    render_schema_markdown,
    render_statistics_html,
    render_training_html,
    render_transform_markdown,
)
from tfx_kfp.reports._html import format_number
from tfx_kfp.reports.run_index import write_run_index

pytestmark = pytest.mark.browser


def _write(directory: Path, name: str, content: str) -> Path:
    path = directory / name
    path.write_text(content, encoding="utf-8")
    return path


def test_harness_records_and_blocks_an_external_load(chromium, tmp_path):
    page_path = _write(tmp_path, "external.html",
                       '<!DOCTYPE html><html lang="en"><title>x</title><img src="http://example.com/x.png">')
    page = chromium.open(page_path.as_uri())
    try:
        assert page.requested_urls() == [page_path.as_uri(), "http://example.com/x.png"]
        assert page.evaluate("document.images[0].complete && document.images[0].naturalWidth") == 0
    finally:
        page.close()


def test_harness_rejects_a_page_that_loads_anything_but_itself(chromium, tmp_path):
    (tmp_path / "pixel.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>')
    page_path = _write(tmp_path, "sibling.html",
                       '<!DOCTYPE html><html lang="en"><title>x</title><img src="pixel.svg" alt="">')
    with pytest.raises(AssertionError, match="requested more than itself"):
        load_offline(chromium, page_path)
    chromium.open("about:blank")


@pytest.mark.parametrize("blessed, words", [(True, "Blessed"), (False, "Not blessed")])
def test_evaluation_page_states_the_decision(chromium, tmp_path, blessed, words):
    path = _write(tmp_path, "evaluation.html", render_evaluation_html(**evaluation_kwargs(blessed=blessed)))
    page = load_offline(chromium, path)
    try:
        assert page.text(".status").endswith(words)
        assert page.evaluate("document.title") == f"Model evaluation: {words}"
        results = page.texts("table:nth-of-type(1) tbody td:last-child")
        assert results[0].endswith("Pass" if blessed else "Fail")
        assert page.texts("table.confusion thead th")[1:4] == list(SPECIES)
    finally:
        page.close()


def test_feature_names_with_markup_stay_text(chromium, tmp_path):
    stats = text_format.Parse(
        'datasets { num_examples: 3 features { path { step: "<script>alert(1)</script>" } type: FLOAT '
        'num_stats { common_stats { num_non_missing: 3 } mean: 1 } } }',
        statistics_pb2.DatasetFeatureStatisticsList(),
    )
    path = _write(tmp_path, "evil.html", render_statistics_html({"train": stats}))
    page = load_offline(chromium, path)
    try:
        assert page.texts("h3") == ["<script>alert(1)</script> FLOAT"]
    finally:
        page.close()


def test_training_page_draws_curves(chromium, tmp_path):
    path = _write(tmp_path, "training.html", render_training_html(sample_history(10)))
    page = load_offline(chromium, path)
    try:
        assert page.texts("figcaption") == ["loss", "sparse_categorical_accuracy"]
        assert page.evaluate("document.querySelectorAll('svg polyline').length") == 4
    finally:
        page.close()


# --- A penguin run from real TFDV outputs and a real Keras fit (slow). ---


def _transform_output_schema(schema: schema_pb2.Schema) -> schema_pb2.Schema:
    """The penguin transform: measurements z-scored (FLOAT), species kept (INT)."""
    output = schema_pb2.Schema()
    for feature in schema.feature:
        added = output.feature.add(name=feature.name, type=feature.type)
        added.shape.SetInParent()
    return output


@pytest.fixture(scope="module")
def penguin_run(penguin_tfdv, penguin_training, tmp_path_factory):
    """A kfp.local-style penguin run holding every report, as the components write them."""
    tfdv_out, trained = penguin_tfdv, penguin_training
    matrix = trained["confusion_matrix"]
    evaluation = evaluation_kwargs(blessed=trained["accuracy"] >= 0.6, accuracy=trained["accuracy"], matrix=matrix)
    history = trained["history"]
    tasks = [
        ("statistics-gen", {"report": render_statistics_html(
            {"train": tfdv_out["stats"]["train"], "eval": tfdv_out["stats"]["eval"]}), "statistics/": b"pb"}),
        ("schema-gen", {"report": render_schema_markdown(tfdv_out["schema"]), "schema/": b"pbtxt"}),
        ("example-validator", {"report": render_anomalies_html(tfdv_out["anomalies"]), "anomalies/": b"pb"}),
        ("transform", {"report": render_transform_markdown(_transform_output_schema(tfdv_out["schema"]),
                                                           tfdv_out["schema"]), "transform_graph/": b"pb"}),
        ("trainer", {"report": render_training_html(history), "model/": b"saved_model",
                     "metrics": {k: v[-1] for k, v in history.items()}}),
        ("evaluator", {"report": render_evaluation_html(**evaluation), "blessing/": b"",
                       "metrics": dict(evaluation["overall"]),
                       "confusion_matrix": classification_metadata(SPECIES, matrix)}),
        ("pusher", {"report": render_push_markdown(**push_kwargs()), "pushed_model/": b""}),
    ]
    run_dir = write_local_run(tmp_path_factory.mktemp("pipeline_root"), "penguin-pipeline", tasks)
    return {"run_dir": run_dir, "index": write_run_index(run_dir), "evaluation": evaluation, "history": history}


def _report(run, task: str) -> Path:
    """The ``.html`` copy of a task's HTML report that the index links to."""
    return run["index"].parent / "index_files" / task / "report.html"


@pytest.mark.browser
def test_statistics_report_of_penguin_run(chromium, penguin_run, penguin_tfdv, screenshot_dir):
    page = load_offline(chromium, _report(penguin_run, "statistics-gen"),
                        screenshot_dir / "statistics.png")
    try:
        assert [h.split()[0] for h in page.texts("h3")] == list(PENGUIN_FEATURES)
        examples = {s: penguin_tfdv["stats"][s].datasets[0].num_examples for s in ("train", "eval")}
        overview = page.evaluate(
            "[...document.querySelectorAll('table')[0].querySelectorAll('tbody tr')]"
            ".map(r => [...r.cells].map(c => c.textContent.trim()))"
        )
        assert overview == [["train", f"{examples['train']:,}", "5"], ["eval", f"{examples['eval']:,}", "5"]]
        first = page.evaluate(
            "[...document.querySelectorAll('section.feature')[1].querySelectorAll('tbody tr')]"
            ".map(r => [...r.cells].map(c => c.textContent.trim()))"
        )
        mean = penguin_tfdv["stats"]["train"].datasets[0].features[1].num_stats.mean
        assert first[0][:4] == ["train", f"{examples['train']:,}", "0 (0 %)", format_number(mean)]
        assert page.evaluate("document.querySelectorAll('svg[role=img]').length") == 2 * len(PENGUIN_FEATURES)
    finally:
        page.close()


@pytest.mark.browser
def test_anomalies_report_without_anomalies(chromium, penguin_run, screenshot_dir):
    page = load_offline(chromium, _report(penguin_run, "example-validator"),
                        screenshot_dir / "anomalies-none.png")
    try:
        assert page.text("[role=status]") == "✓ No anomalies found in train, eval."
    finally:
        page.close()


@pytest.mark.browser
def test_anomalies_report_of_a_broken_split(chromium, penguin_tfdv, tmp_path, screenshot_dir):
    broken = penguin_tfdv["broken_anomalies"]
    expected = sorted(broken["eval"].anomaly_info)
    assert {"body_mass_g", "island"} <= set(expected)
    path = _write(tmp_path, "anomalies.html", render_anomalies_html(broken))
    page = load_offline(chromium, path, screenshot_dir / "anomalies.png")
    try:
        rows = page.evaluate("[...document.querySelectorAll('tbody tr')]"
                             ".map(r => [...r.cells].map(c => c.textContent.trim()))")
        assert page.text("[role=status]") == f"⚠ {len(rows)} anomalies found in eval."
        assert page.texts("caption") == [f"Anomalies in eval ({len(rows)})"]
        assert sorted({row[0] for row in rows}) == expected
        reasons = {row[0]: " ".join(row[1:]) for row in rows}
        assert "Column dropped" in reasons["body_mass_g"] and "New column" in reasons["island"]
    finally:
        page.close()


@pytest.mark.browser
def test_training_report_of_penguin_run(chromium, penguin_run, screenshot_dir):
    page = load_offline(chromium, _report(penguin_run, "trainer"), screenshot_dir / "training.png")
    try:
        history = penguin_run["history"]
        assert page.texts("figcaption") == ["loss", "sparse_categorical_accuracy"]
        final = page.evaluate(
            "[...document.querySelectorAll('table')[0].querySelectorAll('tbody tr')]"
            ".map(r => [...r.cells].map(c => c.textContent.trim()))"
        )
        assert final[0] == ["loss", format_number(history["loss"][-1]), format_number(history["val_loss"][-1])]
    finally:
        page.close()


@pytest.mark.browser
def test_evaluation_report_of_penguin_run(chromium, penguin_run, screenshot_dir):
    page = load_offline(chromium, _report(penguin_run, "evaluator"), screenshot_dir / "evaluation.png")
    try:
        evaluation = penguin_run["evaluation"]
        assert page.text(".status").endswith("Blessed" if evaluation["blessed"] else "Not blessed")
        counts = page.evaluate(
            "[...document.querySelectorAll('table.confusion tbody tr')]"
            ".map(r => [...r.cells].slice(1, 4).map(c => parseInt(c.textContent)))"
        )
        assert counts == evaluation["confusion_matrix"]["matrix"]
    finally:
        page.close()


@pytest.mark.browser
def test_index_of_penguin_run_links_every_report(chromium, penguin_run, penguin_tfdv, screenshot_dir):
    index = penguin_run["index"]
    page = load_offline(chromium, index, screenshot_dir / "index.png")
    try:
        tasks = page.evaluate("[...document.querySelectorAll('h2')].map(h => h.textContent)")
        assert tasks == ["1. statistics-gen", "2. schema-gen", "3. example-validator", "4. transform",
                         "5. trainer", "6. evaluator", "7. pusher"]
        links = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)")
        assert len([link for link in links if link.endswith("/report")]) == 7  # every report's artifact file
        html_reports = page.evaluate("[...document.querySelectorAll('a.report-link')].map(a => a.href)")
        assert [link.split("/")[-2] for link in html_reports] == [
            "statistics-gen", "example-validator", "trainer", "evaluator"]
        schema_rows = page.evaluate(
            "[...document.querySelectorAll('#task-2 ~ .report-md tbody tr, .report-md tbody tr')]"
            ".map(r => r.cells[0].textContent)"
        )
        assert set(PENGUIN_FEATURES) <= set(schema_rows)
        tables = page.evaluate(
            "[...document.querySelectorAll('table')].map(t => [...t.rows].map(r => [...r.cells]"
            ".map(c => c.textContent.trim())))")
        rows = {table[0][0]: table[1:] for table in tables}
        assert rows["Field"] == [["Pushed path", "/serving/penguin/1735689600"], ["Version", "1735689600"]]
        overall = penguin_run["evaluation"]["overall"]
        evaluator_metrics = [t[1:] for t in tables if t[1:] and t[1][0] == "sparse_categorical_accuracy"]
        assert evaluator_metrics == [[[name, format_number(value)] for name, value in overall.items()]]
    finally:
        page.close()
    for link in html_reports:  # every linked HTML report opens offline as a page
        load_offline(chromium, Path(urllib.parse.unquote(urllib.parse.urlparse(link).path))).close()
