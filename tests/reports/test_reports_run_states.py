"""The run index of a tfx_kfp.local run: one row per task of the compiled spec, with its state (done, cached
with the producing run, skipped with why, failed with its log) and the run's outcome at the top
(issue 18 item 5). Real local runs of toy pipelines (no TensorFlow)."""

import html
import re
import urllib.parse

import pytest
from kfp import dsl

from tests._support.report_samples import html_tables
from tfx_kfp import local
from tfx_kfp.reports.run_index import write_run_index
from tfx_kfp.reports.run_scan import scan_run

IMAGE = "python:3.11-slim"


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def decide(value: bool) -> bool:
    return value


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def report(page: dsl.Output[dsl.HTML]):
    with open(page.path, "w") as f:
        f.write("<!DOCTYPE html><title>r</title><p>made</p>")


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def fail(value: bool):
    raise RuntimeError("the task broke")


@dsl.pipeline(name="gated")
def gated_pipeline(value: bool):
    decision = decide(value=value)
    report()
    with dsl.If(decision.output == True, name="only-if-true"):  # noqa: E712
        inner = decide(value=value).set_caching_options(False)
        with dsl.If(inner.output == True, name="inner"):  # noqa: E712
            report().set_caching_options(False)


@dsl.pipeline(name="failing")
def failing_pipeline():
    report()
    fail(value=True)


def _index(run_dir):
    page = write_run_index(run_dir).read_text()
    overview = html_tables(page)[0]
    assert all(re.fullmatch(r"done \(\d+ s\)", row[2]) for row in overview["rows"] if row[2].startswith("done"))
    overview["rows"] = [[re.sub(r" \(\d+ s\)", "", cell) for cell in row] for row in overview["rows"]]
    outcome = html.unescape(re.search(r'role="status"><strong>Outcome: </strong>(.*?)</p>', page)[1])
    return page, overview["rows"], outcome


def test_a_false_gate_names_the_condition_and_the_value(tmp_path):
    run = local.run_pipeline(gated_pipeline, {"value": False}, pipeline_root=str(tmp_path))
    page, rows, outcome = _index(run.run_dir)
    gate = "the dsl.If condition decide.Output == true was false (decide.Output = false)"
    assert rows == [["#", "Task", "State", "Visual outputs"], ["1", "decide", "done", "—"],
                    ["2", "decide-2", f"skipped: {gate}", "—"], ["3", "report-2", f"skipped: {gate}", "—"],
                    ["4", "report", "done", "page"]]  # the order the run took
    assert outcome == f"Succeeded: 2 done, 0 cached, 2 skipped. decide-2 skipped because {gate}."
    assert "logs" not in [t.name for t in scan_run(run.run_dir)]


def test_a_cached_task_links_the_run_that_produced_its_outputs(tmp_path):
    first = local.run_pipeline(gated_pipeline, {"value": True}, pipeline_root=str(tmp_path))
    write_run_index(first.run_dir)
    second = local.run_pipeline(gated_pipeline, {"value": True}, pipeline_root=str(tmp_path))
    page, rows, outcome = _index(second.run_dir)
    first_name = first.run_dir.rstrip("/").rsplit("/", 1)[1]
    assert rows[1:] == [["1", "decide", "cached (output parameters only: no artifact to trace the producing run by)",
                         "—"],
                        ["2", "decide-2", "done", "—"], ["3", "report-2", "done", "page"],
                        ["4", "report", f"cached: outputs of run {first_name}", "page"]]
    assert outcome == "Succeeded: 2 done, 2 cached, 0 skipped."
    hrefs = [urllib.parse.unquote(h) for h in re.findall(r'href="([^"#][^"]*)"', page)]
    assert f"../{first_name}/index.html" in hrefs  # the producing run's own index
    assert "report/page" in "".join(hrefs) and first_name + "/report/page" in "".join(hrefs)  # its report


def test_an_inner_gate_is_the_reason_when_the_outer_one_held(tmp_path):
    @dsl.pipeline(name="nested")
    def nested(value: bool):
        outer = decide(value=True)
        with dsl.If(outer.output == True, name="outer"):  # noqa: E712
            inner = decide(value=value)
            with dsl.If(inner.output == True, name="inner"):  # noqa: E712
                report()

    run = local.run_pipeline(nested, {"value": False}, pipeline_root=str(tmp_path))
    _, rows, _ = _index(run.run_dir)
    assert rows[1:] == [["1", "decide", "done", "—"], ["2", "decide-2", "done", "—"],
                        ["3", "report", "skipped: the dsl.If condition decide-2.Output == true was false "
                                        "(decide-2.Output = false)", "—"]]


def test_a_failed_run_says_where_it_failed_and_links_the_log(tmp_path):
    with pytest.raises(local.TaskFailed):
        local.run_pipeline(failing_pipeline, pipeline_root=str(tmp_path))
    run_dir = next(p for p in tmp_path.iterdir() if p.name.startswith("failing-"))
    page, rows, outcome = _index(run_dir)
    assert outcome == "Failed at fail."
    assert rows[1] == ["1", "fail", rows[1][2], "—"] and rows[1][2].startswith("failed")
    assert 'href="logs/fail.log"' in page and rows[2] == ["2", "report", "not run", "—"]


def test_the_file_names_restated_for_the_index_are_the_local_runners():
    from tfx_kfp.reports import run_states

    assert (run_states.RUN_RECORD, run_states.SPEC_FILE) == (local.RUN_RECORD, local.SPEC_FILE)
