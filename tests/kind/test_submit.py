"""``tfx-kfp submit`` against a stand-in KFP v2beta1 API on loopback (see conftest.py).

kfp.Client is not mocked: it sends its real requests (multipart uploads,
JSON bodies, filters) and parses the replies with kfp_server_api.
"""

import pytest

from tfx_kfp import cli
from tfx_kfp.pipelines import compile_pipeline, penguin_pipeline

ARGS = ["--poll-interval", "0.01", "--timeout", "30"]


@pytest.fixture(scope="module")
def pipeline_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("submit") / "pipeline.yaml"
    compile_pipeline(penguin_pipeline("kind"), str(path))
    return str(path)


def submit(*extra):
    return cli.main(["submit", *ARGS, *extra])


def test_first_submit_creates_pipeline_runs_and_follows_to_success(kfp_api, pipeline_file, capsys):
    api, url = kfp_api
    rc = submit("--host", url, "--pipeline-file", pipeline_file,
                "--param", "train_steps=300", "--param", "accuracy_threshold=0.8",
                "--param", 'beam_pipeline_args=["--direct_running_mode=in_memory"]')
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert len(api.pipelines) == 1 and len(api.versions) == 1 and len(api.runs) == 1
    assert next(iter(api.pipelines.values()))["display_name"] == "penguin"
    run = next(iter(api.runs.values()))["run"]
    assert run["runtime_config"]["parameters"] == {
        "train_steps": 300, "accuracy_threshold": 0.8, "beam_pipeline_args": ["--direct_running_mode=in_memory"]}
    for task in api.tasks:
        assert f"task {task}: SUCCEEDED" in out
    assert "-driver" not in out and "task root" not in out
    last = out.strip().splitlines()[-1]
    assert last.startswith("submit: run 'penguin ") and " SUCCEEDED in " in last
    assert f"#/runs/details/{run['run_id']}" in last


def test_second_submit_uploads_a_new_version_and_runs_it(kfp_api, pipeline_file, capsys):
    api, url = kfp_api
    assert submit("--host", url, "--pipeline-file", pipeline_file) == 0
    assert submit("--host", url, "--pipeline-file", pipeline_file, "--version-name", "v2",
                  "--experiment", "other") == 0
    out = capsys.readouterr().out
    assert len(api.pipelines) == 1 and len(api.versions) == 2 and len(api.runs) == 2
    v2 = [v for v in api.versions.values() if v["display_name"] == "v2"]
    assert len(v2) == 1
    second = [r["run"] for r in api.runs.values()][-1]
    assert second["pipeline_version_reference"]["pipeline_version_id"] == v2[0]["pipeline_version_id"]
    assert {e["display_name"] for e in api.experiments.values()} == {"tfx-kfp", "other"}
    assert "new version of pipeline penguin" in out


def test_failed_run_exits_non_zero_with_state_and_error(kfp_api, pipeline_file, capsys):
    api, url = kfp_api
    api.outcome = "FAILED"
    rc = submit("--host", url, "--pipeline-file", pipeline_file)
    out, err = capsys.readouterr()
    assert rc == 1
    assert "task pusher: FAILED" in out
    assert " FAILED in " in err and "task pusher failed" in err


def test_module_source_from_file(kfp_api, pipeline_file, tmp_path, capsys):
    api, url = kfp_api
    module = tmp_path / "my_module.py"
    module.write_text("def run_fn(fn_args):\n    pass\n")
    assert submit("--host", url, "--pipeline-file", pipeline_file, "--param", f"module_source=@{module}") == 0
    run = next(iter(api.runs.values()))["run"]
    assert run["runtime_config"]["parameters"]["module_source"] == module.read_text()


@pytest.mark.parametrize("param, message", [
    ("train_steps=many", "--param train_steps: expected an integer (NUMBER_INTEGER); received 'many'"),
    ("fail_on_anomalies=yes", "expected true or false (BOOLEAN); received 'yes'"),
    ("beam_pipeline_args=--x", "expected a JSON array (LIST)"),
    ("no_such=1", "the pipeline has no parameter 'no_such'; expected one of accuracy_threshold"),
    ("train_steps", "expected KEY=VALUE; received 'train_steps'"),
])
def test_bad_params_fail_before_any_request(kfp_api, pipeline_file, param, message, capsys):
    api, url = kfp_api
    assert submit("--host", url, "--pipeline-file", pipeline_file, "--param", param) == 1
    assert message in capsys.readouterr().err
    assert api.requests == []


def test_missing_or_invalid_pipeline_file(kfp_api, tmp_path, capsys):
    api, url = kfp_api
    assert submit("--host", url, "--pipeline-file", str(tmp_path / "none.yaml")) == 1
    assert "expected a compiled pipeline YAML" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Deployment\n")
    assert submit("--host", url, "--pipeline-file", str(bad)) == 1
    assert "expected a KFP PipelineSpec (pipelineInfo, root, ...)" in capsys.readouterr().err
    assert api.requests == []


def test_unreachable_host_fails_fast_and_says_so(pipeline_file, capsys):
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert submit("--host", f"http://127.0.0.1:{port}", "--pipeline-file", pipeline_file) == 1
    err = capsys.readouterr().err
    assert f"expected a Kubeflow Pipelines API at http://127.0.0.1:{port}" in err
