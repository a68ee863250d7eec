"""A cluster run per pipeline task: the tasks of a compiled spec and their states from Argo-node task details."""

import datetime

import yaml
from kfp import dsl
from kfp_server_api import models
from kfp_server_api.models import V2beta1PipelineTaskDetail

# kfp-server-api 2.17 (the current stack) spells it GoogleRpcStatus; 2.13 (the 1.16 stack) GooglerpcStatus.
GooglerpcStatus = getattr(models, "GoogleRpcStatus", None) or models.GooglerpcStatus

from tfx_kfp.cluster.tasks import ClusterTaskError, SpecTask, spec_tasks, task_events
from tfx_kfp.local.events import DONE, FAILED, RUNNING, SKIPPED, WAITING
from tfx_kfp.pipelines import compile_pipeline, penguin_pipeline


@dsl.component(base_image="python:3.11")
def make() -> bool:
    return True


@dsl.component(base_image="python:3.11")
def use(flag: bool):
    print(flag)


@dsl.pipeline(name="gated")
def gated():
    first = make().set_display_name("Make it")
    use(flag=first.output)
    with dsl.If(first.output == True, name="only-if-true"):  # noqa: E712
        use(flag=first.output).set_display_name("Use it later")


def compiled(tmp_path, pipeline):
    path = tmp_path / "pipeline.yaml"
    compile_pipeline(pipeline, str(path))
    return next(yaml.safe_load_all(path.read_text()))


def detail(name, state, seconds=None, error=None):
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    end = start + datetime.timedelta(seconds=seconds) if seconds is not None else None
    return V2beta1PipelineTaskDetail(display_name=name, state=state, start_time=start, end_time=end,
                                     error=GooglerpcStatus(message=error) if error else None)


def test_spec_tasks_are_the_container_tasks_upstream_first_with_display_names_and_gates(tmp_path):
    assert spec_tasks(compiled(tmp_path, gated)) == [
        SpecTask("make", "Make it"),
        SpecTask("use", "use"),
        SpecTask("use-2", "Use it later", ("condition-1",)),
    ]
    penguin = [t.key for t in spec_tasks(compiled(tmp_path, penguin_pipeline("kind")))]
    assert sorted(penguin) == sorted(["resolve-inputs", "example-gen", "latest-pushed-model", "statistics-gen",
                                      "schema-gen", "example-validator", "transform", "trainer", "evaluator",
                                      "infra-validator", "pusher"])
    for upstream, downstream in [("resolve-inputs", "example-gen"), ("example-gen", "statistics-gen"),
                                 ("trainer", "evaluator"), ("latest-pushed-model", "evaluator"),
                                 ("evaluator", "infra-validator"), ("infra-validator", "pusher")]:
        assert penguin.index(upstream) < penguin.index(downstream)


def test_task_states_come_from_the_nodes_named_after_tasks_never_from_pods(tmp_path):
    tasks = spec_tasks(compiled(tmp_path, gated))
    details = [detail("gated-abc12", "RUNNING"), detail("root-driver", "SUCCEEDED"), detail("root", "RUNNING"),
               detail("make-driver", "SUCCEEDED"), detail("make", "SUCCEEDED", 12),
               detail("executor", "SUCCEEDED", 11), detail("use-driver", "SUCCEEDED"),
               detail("use", "RUNNING"), detail("executor", "RUNNING")]
    events = task_events(tasks, details, run_link="http://ui/#/runs/details/r1")
    assert [(e.task, e.state, e.seconds) for e in events] == [
        ("make", DONE, 12.0), ("use", RUNNING, 0.0), ("use-2", WAITING, 0.0)]


def test_a_task_in_a_false_condition_is_skipped_and_a_failed_one_carries_the_api_error(tmp_path):
    tasks = spec_tasks(compiled(tmp_path, gated))
    details = [detail("make", "SUCCEEDED", 3), detail("use", "FAILED", 4, error="exit code 1"),
               detail("condition-1-driver", "SUCCEEDED"), detail("condition-1", "SKIPPED")]
    make, use, gated_use = task_events(tasks, details, run_link="http://ui/#/runs/details/r1",
                                       run_error="the run failed")
    assert gated_use.state == SKIPPED
    assert use.state == FAILED and use.log_path == "http://ui/#/runs/details/r1"
    assert isinstance(use.error, ClusterTaskError) and str(use.error) == "exit code 1"
    no_message = task_events(tasks, [detail("make", "CANCELED", 1)], run_link="l", run_error="the run failed")
    assert str(no_message[0].error) == "the run failed"


def test_a_view_for_a_spec_lists_its_tasks_under_their_display_names(tmp_path):
    import io

    from rich.console import Console

    from tfx_kfp.cli.view import RunView

    view = RunView.for_spec(compiled(tmp_path, gated), live=False, console=Console(file=io.StringIO()))
    assert list(view.events) == ["make", "use", "use-2"]
    assert [view.name(t) for t in view.events] == ["Make it", "use", "Use it later"]


def test_a_failed_driver_fails_its_task_and_other_failed_system_steps_are_named(tmp_path):
    from kfp_server_api.models import PipelineTaskDetailChildTask

    from tfx_kfp.cluster.tasks import system_failures

    tasks = spec_tasks(compiled(tmp_path, gated))
    details = [detail("gated-abc12", "FAILED"), detail("root-driver", "SUCCEEDED"), detail("root", "FAILED"),
               detail("make-driver", "FAILED"), detail("condition-1-driver", "FAILED")]
    make = task_events(tasks, details, run_link="l")[0]
    assert make.state == FAILED and "its driver make-driver (a Kubeflow Pipelines system step) failed" in str(make.error)
    (failure,) = system_failures(tasks, details)  # make-driver is make's own; the condition's driver is not
    assert failure.name == "condition-1-driver" and failure.pod is None
    assert failure.where == ("kubectl -n kubeflow get pods -l workflows.argoproj.io/workflow=gated-abc12 "
                             "(its failed pod)")
    workflow = detail("gated-abc12", "FAILED")
    workflow.child_tasks = [PipelineTaskDetailChildTask(pod_name="gated-abc12-1234")]
    (root,) = system_failures(tasks, [workflow, detail("root-driver", "FAILED")])
    assert root.pod == "gated-abc12-system-dag-driver-1234"


def test_a_cached_task_shows_as_cached_only_when_skipped_executors_account_for_it(tmp_path):
    from tfx_kfp.local.events import CACHED

    tasks = spec_tasks(compiled(tmp_path, gated))
    cached = [detail("make", "SUCCEEDED", 0), detail("executor", "SKIPPED"), detail("use", "SUCCEEDED", 9),
              detail("executor", "SUCCEEDED", 8)]
    assert [e.state for e in task_events(tasks, cached, run_link="l")][:2] == [CACHED, DONE]
    quick_but_ran = [detail("make", "SUCCEEDED", 1), detail("executor", "SUCCEEDED", 1)]
    assert task_events(tasks, quick_but_ran, run_link="l")[0].state == DONE
