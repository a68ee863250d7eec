"""``tfx-kfp submit`` against a stand-in KFP v2beta1 API on loopback (see conftest.py).

kfp.Client is not mocked: it sends its real requests (multipart uploads,
JSON bodies, filters) and parses the replies with kfp_server_api. The
``kfp_backend`` fixture makes the stand-in list a run's task details the way
KFP (2.17.0, as 2.5.0) does: one entry per Argo node (see tfx_kfp/cluster/tasks.py).
"""

import pytest
import yaml

from tfx_kfp import cli
from tfx_kfp.cluster.tasks import spec_tasks
from tfx_kfp.pipelines import compile_pipeline, penguin_pipeline

ARGS = ["--poll-interval", "0.01", "--timeout", "30"]


@pytest.fixture(scope="module")
def pipeline_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("submit") / "pipeline.yaml"
    compile_pipeline(penguin_pipeline("kind"), str(path))
    return str(path)


def submit(*extra):
    return cli.main(["submit", *ARGS, *extra])


def argo_nodes(entries, gates, blessed=True):
    """The stand-in's one entry per task, as KFP 2.17.0 lists an Argo workflow's nodes: the workflow,
    root, and per task a ``<task>-driver`` pod, a DAG node named after the task and an ``executor`` pod;
    a task under ``dsl.If`` sits in a condition DAG, SKIPPED (its tasks absent) when the gate is false."""
    times = {"start_time": "2026-01-01T00:00:00Z", "end_time": "2026-01-01T00:00:42Z"}
    nodes = [{"display_name": "penguin-x7k2p", "state": "RUNNING"}, {"display_name": "root-driver",
                                                                       "state": "SUCCEEDED"}]
    for entry in entries:
        name, state = entry["display_name"], entry["state"]
        if name == "root" or name.endswith("-driver"):
            nodes.append(entry)
            continue
        for gate in gates.get(name, ()):
            nodes += [{"display_name": f"{gate}-driver", "state": "SUCCEEDED"},
                      {"display_name": gate, "state": state if blessed else "SKIPPED"}]
        if not blessed and gates.get(name):
            continue
        finished = times if state in ("SUCCEEDED", "FAILED") else {"start_time": times["start_time"]}
        nodes += [{"display_name": name, "state": state, **finished},
                  {"display_name": "executor", "state": state, **finished}]
    return [dict(node, run_id=entries[0]["run_id"], task_id=f"t{i}") for i, node in enumerate(nodes)]


@pytest.fixture
def kfp_backend(kfp_api, pipeline_file):
    """The stand-in API running every task of the compiled pipeline, listed as the real backend lists them."""
    api, url = kfp_api
    with open(pipeline_file) as f:
        tasks = spec_tasks(next(yaml.safe_load_all(f)))
    api.tasks = [t.key for t in tasks]
    api.blessed = True
    gates = {t.key: t.gates for t in tasks}
    plain_get_run = api.get_run

    def get_run(run_id):
        status, run = plain_get_run(run_id)
        if status == 200:
            run = dict(run, run_details={"task_details": argo_nodes(run["run_details"]["task_details"], gates,
                                                                    api.blessed)})
        return status, run

    api.get_run = get_run
    return api, url


def task_lines(out):
    """The RunView's plain lines: ``[  0.0s] <task> <state> ...`` -> (task, state, rest)."""
    rows = [line.split("]", 1)[1].split(None, 2) for line in out.splitlines() if line.startswith("[")]
    return [(row[0], row[1], row[2] if len(row) > 2 else "") for row in rows]


def test_first_submit_creates_pipeline_runs_and_follows_to_success(kfp_backend, pipeline_file, capsys):
    api, url = kfp_backend
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
    lines = task_lines(out)
    assert [task for task, state, _ in lines if state == "done"] == api.tasks  # upstream first
    assert all(rest == "42.0s" for _, state, rest in lines if state == "done")
    assert {task for task, _, _ in lines} == set(api.tasks)  # per task: no "executor", driver or DAG rows
    assert "executor" not in out and "-driver" not in out and "condition-1" not in out
    assert out.count(f"{url}/#/runs/details/{run['run_id']}") == 1  # the UI link, once
    last = out.strip().splitlines()[-1]
    assert last.startswith("submit: run 'penguin ") and " SUCCEEDED in " in last


def test_a_pusher_gated_off_shows_as_skipped_and_the_run_succeeds(kfp_backend, pipeline_file, capsys):
    api, url = kfp_backend
    api.blessed = False
    assert submit("--host", url, "--pipeline-file", pipeline_file) == 0
    lines = task_lines(capsys.readouterr().out)
    assert ("pusher", "skipped", "not blessed") in lines
    assert ("evaluator", "done", "42.0s") in lines and "pusher" not in [t for t, s, _ in lines if s != "skipped"]


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


def test_failed_run_exits_non_zero_with_the_failed_task_summarised(kfp_backend, pipeline_file, capsys):
    api, url = kfp_backend
    api.outcome = "FAILED"
    rc = submit("--host", url, "--pipeline-file", pipeline_file)
    out, err = capsys.readouterr()
    assert rc == 1
    assert ("pusher", "failed", "42.0s  see below") in task_lines(out)
    run_id = next(iter(api.runs))
    summary, last = err.strip().splitlines()[:-1], err.strip().splitlines()[-1]
    assert summary == ["pusher failed: task pusher failed", f"  full log: {url}/#/runs/details/{run_id}"]
    assert last.startswith("submit: run 'penguin ") and last.endswith(" FAILED in " + last.split(" in ")[-1])


def test_the_stand_in_backend_names_every_implementation_pod_executor(kfp_backend, pipeline_file):
    """What tfx-kfp submit printed before: one "executor" per task, as the backend names the pods."""
    import kfp

    api, url = kfp_backend
    assert submit("--host", url, "--pipeline-file", pipeline_file) == 0
    with pytest.warns(FutureWarning, match="only works with Kubeflow Pipeline v2"):
        client = kfp.Client(host=url)
    run = client.get_run(next(iter(api.runs)))
    names = [t.display_name for t in run.run_details.task_details]
    assert names.count("executor") == len(api.tasks) and "root-driver" in names


def test_schedule_creates_a_recurring_run_of_the_new_version(kfp_api, pipeline_file, capsys):
    api, url = kfp_api
    assert submit("--host", url, "--pipeline-file", pipeline_file, "--schedule", "0 3 * * *",
                  "--param", "input_pattern=span-{SPAN}/*.csv") == 0
    (job,) = api.recurring_runs.values()
    assert job["trigger"]["cron_schedule"]["cron"] == "0 0 3 * * *"
    assert int(job["max_concurrency"]) == 1 and job["no_catchup"] is True
    assert job["runtime_config"]["parameters"] == {"input_pattern": "span-{SPAN}/*.csv"}
    assert job["pipeline_version_reference"]["pipeline_version_id"] in api.versions
    assert api.runs == {}
    assert "recurring run" in capsys.readouterr().out


def test_a_bad_schedule_is_named(kfp_api, pipeline_file, capsys):
    api, url = kfp_api
    assert submit("--host", url, "--pipeline-file", pipeline_file, "--schedule", "daily") == 1
    assert "schedule: expected a cron expression of 5 fields" in capsys.readouterr().err


# -- the library: tfx_kfp.cluster.submit, as a notebook calls it --------------------------------------------------

def test_the_library_submits_typed_arguments_and_returns_what_it_did(kfp_backend, pipeline_file):
    from tfx_kfp import cluster

    api, url = kfp_backend
    events = []
    result = cluster.submit(pipeline_file, url, {"train_steps": 300, "beam_pipeline_args": ["--x=1"]},
                            poll_interval=0.01, timeout=30, observer=events.append)
    assert result.succeeded and result.state == "SUCCEEDED" and result.created_pipeline
    assert result.run_id in api.runs and result.version_id in api.versions and result.pipeline_id in api.pipelines
    assert api.runs[result.run_id]["run"]["runtime_config"]["parameters"] == {
        "train_steps": 300, "beam_pipeline_args": ["--x=1"]}
    assert result.link == f"{url}/#/runs/details/{result.run_id}"
    assert {name: event.state for name, event in result.tasks.items()} == {task: "done" for task in api.tasks}
    assert events and result.system_failures == []


def test_the_library_refuses_what_the_declarations_refuse_before_any_request(kfp_api, pipeline_file):
    from tfx_kfp import cluster
    from tfx_kfp.pipelines.argument_checks import UnknownParameter
    from tfx_kfp.runtime.errors import InputError

    api, url = kfp_api
    with pytest.raises(InputError, match=r"field 'train_steps': expected an integer \(NUMBER_INTEGER\)"):
        cluster.submit(pipeline_file, url, {"train_steps": "300"})
    with pytest.raises(UnknownParameter, match="the pipeline has no parameter 'no_such'"):
        cluster.submit(pipeline_file, url, {"no_such": 1})
    with pytest.raises(InputError, match="field 'train_steps': must be at least 1"):
        cluster.submit(pipeline_file, url, {"train_steps": 0})
    assert api.requests == []


def test_the_library_schedules_without_running(kfp_api, pipeline_file):
    from tfx_kfp import cluster

    api, url = kfp_api
    result = cluster.submit(pipeline_file, url, schedule="0 3 * * *")
    assert result.recurring_run_id in api.recurring_runs and result.run_id is None and api.runs == {}
    assert result.recurring_link == f"{url}/#/recurringrun/details/{result.recurring_run_id}"


WORKFLOW = "penguin-x7k2p"


def test_a_run_failed_in_the_root_driver_names_it_and_its_pod(kfp_api, pipeline_file, capsys):
    """KFP 2.17.0 lists the Argo nodes; the run record has error null and no pipeline task ever starts.

    The entrypoint DAG's only first task is root-driver (template system-dag-driver: argocompiler/dag.go),
    so the workflow node's one child (child_tasks[].pod_name: the node ID, api_converter.go toModelTask)
    is root-driver's node, and its pod is <workflow>-<template>-<node hash> (common/util/workflow.go,
    RetrievePodName)."""
    from tfx_kfp import cluster

    api, url = kfp_api
    plain_get_run = api.get_run

    def get_run(run_id):
        status, run = plain_get_run(run_id)
        nodes = [{"display_name": WORKFLOW, "state": "FAILED", "child_tasks": [{"pod_name": f"{WORKFLOW}-2381462137"}]},
                 {"display_name": "root-driver", "state": "FAILED", "start_time": "2026-01-01T00:00:00Z",
                  "end_time": "2026-01-01T00:02:01Z"}]
        return status, dict(run, state="FAILED", error=None,
                            run_details={"task_details": [dict(n, run_id=run_id, task_id=f"t{i}")
                                                          for i, n in enumerate(nodes)]})

    api.get_run = get_run
    result = cluster.submit(pipeline_file, url, poll_interval=0.01, timeout=30)
    assert result.state == "FAILED" and result.error is None
    (failure,) = result.system_failures
    assert failure.name == "root-driver" and failure.pod == f"{WORKFLOW}-system-dag-driver-2381462137"
    assert failure.where == f"kubectl -n kubeflow logs {WORKFLOW}-system-dag-driver-2381462137"

    assert submit("--host", url, "--pipeline-file", pipeline_file) == 1
    err = capsys.readouterr().err
    assert (f"submit: root-driver failed (a Kubeflow Pipelines system step, not a pipeline task); its log: "
            f"kubectl -n kubeflow logs {WORKFLOW}-system-dag-driver-2381462137") in err
    assert " FAILED in " in err.strip().splitlines()[-1]


def test_cached_tasks_show_as_cached_not_done_in_no_time(kfp_backend, pipeline_file, capsys):
    """A cache hit skips the task's executor pod (container.go: `when` on the driver's cached-decision), so
    its DAG node succeeds in the second it started (the API's times are whole seconds) and an executor
    node is SKIPPED."""
    api, url = kfp_backend
    cached = {"resolve-inputs": False, "example-gen": True, "statistics-gen": True}
    backend_get_run = api.get_run

    def get_run(run_id):
        status, run = backend_get_run(run_id)
        for node in run.get("run_details", {}).get("task_details", []):
            if cached.get(node["display_name"]) and node["state"] == "SUCCEEDED":
                node["end_time"] = node["start_time"]
                executor = next(n for n in run["run_details"]["task_details"]
                                if n["display_name"] == "executor" and n["state"] == "SUCCEEDED")
                executor["state"] = "SKIPPED"
        return status, run

    api.get_run = get_run
    assert submit("--host", url, "--pipeline-file", pipeline_file) == 0
    lines = task_lines(capsys.readouterr().out)
    assert [task for task, state, _ in lines if state == "cached"] == ["example-gen", "statistics-gen"]
    assert ("resolve-inputs", "done", "42.0s") in lines
