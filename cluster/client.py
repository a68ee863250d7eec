"""Talking to the Kubeflow Pipelines v2beta1 API through ``kfp.Client``: connect, upload a version,
experiment, run, recurring run, follow."""

import contextlib
import io
import time
import warnings
from typing import Any, Callable, List, Mapping, Optional, Tuple

from tfx_kfp.cluster.tasks import SpecTask, SystemFailure, system_failures, task_events
from tfx_kfp.local.events import TaskEvent

FINAL_STATES = ("SUCCEEDED", "FAILED", "SKIPPED", "CANCELED")


class ClusterError(Exception):
    """A user-facing failure talking to the cluster: what was expected and what was received."""


def check_reachable(host: str, timeout: float = 10.0) -> None:
    """One quick GET of the healthz endpoint, so a wrong host fails fast and plainly."""
    import urllib.error
    import urllib.request

    url = f"{host.rstrip('/')}/apis/v2beta1/healthz"
    if not url.startswith(("http://", "https://")):
        raise ClusterError(f"host: expected an http:// or https:// URL; received {host!r}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as e:
        raise ClusterError(f"expected a Kubeflow Pipelines API at {host}; GET {url} answered HTTP {e.code}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise ClusterError(f"expected a Kubeflow Pipelines API at {host}; GET {url} failed ({reason})") from None


def connect(host: str, ui_host: Optional[str] = None):
    """A ``kfp.Client`` for ``host``, after checking that a KFP API answers there."""
    import kfp

    check_reachable(host)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:
            return kfp.Client(host=host, ui_host=ui_host)
        except TimeoutError:
            raise ClusterError(f"expected a Kubeflow Pipelines API at {host} "
                               f"(GET {host.rstrip('/')}/apis/v2beta1/healthz); received no answer") from None


def quietly():
    """kfp.Client prints a "... details: <link>" line per call; the caller says what it wants said."""
    return contextlib.redirect_stdout(io.StringIO())


def upload_version(client, pipeline_file: str, pipeline_name: str, version_name: str,
                   description: str) -> Tuple[str, str, bool]:
    """Uploads the YAML as a new version of ``pipeline_name`` (created the first time).

    Returns:
        (pipeline_id, version_id, whether the pipeline was created).
    """
    with quietly():
        pipeline_id = client.get_pipeline_id(pipeline_name)
        if pipeline_id is None:
            pipeline = client.upload_pipeline(pipeline_file, pipeline_name=pipeline_name, description=description)
            versions = client.list_pipeline_versions(pipeline.pipeline_id, page_size=1, sort_by="created_at desc")
            if not versions.pipeline_versions:
                raise ClusterError(f"expected KFP to create a first version of pipeline {pipeline_name!r}; "
                                   "it lists none")
            return pipeline.pipeline_id, versions.pipeline_versions[0].pipeline_version_id, True
        version = client.upload_pipeline_version(pipeline_file, pipeline_version_name=version_name,
                                                 pipeline_id=pipeline_id, description=description)
    return pipeline_id, version.pipeline_version_id, False


def experiment_id(client, name: str) -> str:
    """The ID of the experiment ``name`` (created if missing)."""
    with quietly():
        return client.create_experiment(name=name).experiment_id


def start_run(client, experiment: str, run_name: str, arguments: Mapping[str, Any], pipeline_id: str,
              version_id: str) -> str:
    """Starts one run of a pipeline version; returns its ID."""
    with quietly():
        return client.run_pipeline(experiment_id=experiment, job_name=run_name, params=dict(arguments),
                                   pipeline_id=pipeline_id, version_id=version_id).run_id


def cron_expression(text: str) -> str:
    """The 6-field cron expression (seconds first) KFP's recurring runs take; 5 fields get seconds 0."""
    fields = text.split()
    if len(fields) == 5:
        fields = ["0"] + fields
    if len(fields) != 6:
        raise ClusterError(f"schedule: expected a cron expression of 5 fields (minute hour day month weekday) "
                           f"or 6 (with seconds first); received {text!r}")
    return " ".join(fields)


def schedule(client, experiment: str, run_name: str, cron: str, arguments: Mapping[str, Any], pipeline_id: str,
             version_id: str) -> str:
    """Creates a recurring run (one run at a time, no catch-up of missed runs); returns its ID."""
    with quietly():
        return client.create_recurring_run(experiment_id=experiment, job_name=run_name, cron_expression=cron,
                                           params=dict(arguments), pipeline_id=pipeline_id, version_id=version_id,
                                           max_concurrency=1, no_catchup=True).recurring_run_id


def run_link(ui_host: str, run_id: str) -> str:
    return f"{ui_host.rstrip('/')}/#/runs/details/{run_id}"


def follow(client, run_id: str, tasks: List[SpecTask], *, timeout: float, poll_interval: float, link: str,
           observer: Optional[Callable[[TaskEvent], None]] = None) -> Tuple[Any, List[SystemFailure]]:
    """Polls the run until it ends, reporting each pipeline task's state to ``observer``.

    Returns:
        The final run (a kfp_server_api ``V2beta1Run``) and the failed system steps.
    """
    deadline = time.monotonic() + timeout
    while True:
        run = client.get_run(run_id)
        state = run.state or "PENDING"
        final = state in FINAL_STATES
        details = getattr(getattr(run, "run_details", None), "task_details", None)
        error = getattr(getattr(run, "error", None), "message", None)
        for event in task_events(tasks, details, run_link=link, run_error=error if final else None):
            if observer is not None:
                observer(event)
        if final:
            return run, system_failures(tasks, details)
        if time.monotonic() >= deadline:
            raise ClusterError(f"expected run {run_id} to finish within {timeout:.0f} s; it is still {state}")
        time.sleep(poll_interval)


def api_refusal(host: str, error: Exception) -> ClusterError:
    """What the server said when a request failed (kfp_server_api.ApiException, connection errors)."""
    status, body = getattr(error, "status", None), getattr(error, "body", None)
    detail = f"HTTP {status}: {body}" if status else f"{type(error).__name__}: {error}"
    return ClusterError(f"Kubeflow Pipelines at {host} refused the request ({detail})")


__all__ = ["ClusterError", "FINAL_STATES", "api_refusal", "check_reachable", "connect", "cron_expression",
           "experiment_id", "follow", "run_link", "schedule", "start_run", "upload_version"]
