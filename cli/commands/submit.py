"""``tfx-kfp submit``: upload a compiled pipeline to Kubeflow Pipelines, run it, follow it.

    tfx-kfp compile --pipeline penguin --target kind -o pipeline.yaml
    tfx-kfp submit --host http://localhost:8888 --pipeline-file pipeline.yaml [--param train_steps=300]

Uploads the YAML as a new version of the named pipeline (creating the pipeline
the first time), starts a run in an experiment, prints its link in the KFP UI
once, shows each pipeline task's state (the RunView of local runs: a live table
on a terminal, one line per state change otherwise) until the run ends, and
exits 0 only if it SUCCEEDED. A failed task is summarised with the API's error.
"""

import argparse
import contextlib
import datetime
import hashlib
import io
import sys
import time
import warnings
from typing import Any, Dict, List, Optional

NAME = "submit"
HELP = "Upload a compiled pipeline to Kubeflow Pipelines as a new version, run it and follow it to the end."

FINAL_STATES = ("SUCCEEDED", "FAILED", "SKIPPED", "CANCELED")

class SubmitError(Exception):
    """A user-facing failure: what was expected and what was received."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", required=True,
                        help="Kubeflow Pipelines API base URL, e.g. http://localhost:8888 (kind) "
                             "or the UI URL, which proxies the API")
    parser.add_argument("--pipeline-file", default="pipeline.yaml",
                        help="compiled pipeline YAML (tfx-kfp compile), default pipeline.yaml")
    parser.add_argument("--pipeline-name", default=None,
                        help="pipeline name in KFP (default: the name inside the YAML)")
    parser.add_argument("--version-name", default=None,
                        help="name of the new pipeline version (default: <pipeline>-<UTC time>-<YAML hash>)")
    parser.add_argument("--experiment", default="tfx-kfp", help="experiment to run in (created if missing)")
    parser.add_argument("--run-name", default=None, help="run name (default: <pipeline> <UTC time>)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="pipeline argument, repeatable; typed by the pipeline's declaration. "
                             "KEY=@FILE passes the file's text (e.g. module_source=@my_module.py)")
    parser.add_argument("--ui-host", default=None, help="UI base URL for the printed links (default: --host)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to follow the run (default 3600)")
    parser.add_argument("--poll-interval", type=float, default=10, help="seconds between status checks")
    parser.add_argument("--no-wait", action="store_true", help="start the run and return without following it")
    parser.add_argument("--schedule", metavar="CRON", default=None,
                        help="create a recurring run on this cron schedule instead of one run, e.g. '0 3 * * *' "
                             "(daily at 03:00; pair it with an input_pattern such as span-{SPAN}/*.csv so each run "
                             "trains on the newest data drop)")


# ---------------------------------------------------------------------------
# The pipeline file and its parameters
# ---------------------------------------------------------------------------

def load_pipeline_spec(path: str) -> Dict[str, Any]:
    """The PipelineSpec document of a compiled pipeline YAML."""
    import yaml

    try:
        with open(path) as f:
            documents = [d for d in yaml.safe_load_all(f) if d is not None]
    except FileNotFoundError:
        raise SubmitError(f"expected a compiled pipeline YAML at {path}; no such file "
                          f"(write one with `tfx-kfp compile -o {path}`)") from None
    except yaml.YAMLError as e:
        raise SubmitError(f"expected a compiled pipeline YAML at {path}; it is not valid YAML: {e}") from None
    spec = documents[0] if documents else None
    if not isinstance(spec, dict) or "pipelineInfo" not in spec or "root" not in spec:
        keys = sorted(spec) if isinstance(spec, dict) else type(spec).__name__
        raise SubmitError(f"expected a KFP PipelineSpec (pipelineInfo, root, ...) in {path}; received {keys}")
    return spec


def declared_parameters(spec: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """Root input parameters: name -> {parameterType, defaultValue?, isOptional?}."""
    return dict(spec.get("root", {}).get("inputDefinitions", {}).get("parameters", {}))


def parse_params(items: List[str], declared: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
    """``KEY=VALUE`` / ``KEY=@FILE`` strings to arguments typed by the pipeline's declared parameters,
    checked by the pipeline's rules and escaped for the pod's ``$(VAR)`` expansion."""
    from tfx_kfp.cli.params import parse_params as parse
    from tfx_kfp.pipelines import beam_runner
    from tfx_kfp.pipelines.argument_checks import check_arguments
    from tfx_kfp.pipelines.cluster import escape_for_kubernetes

    types = {name: d.get("parameterType", "STRING") for name, d in declared.items()}
    if "beam_pipeline_args" in declared:  # beam_runner=… and its companions expand into beam_pipeline_args
        types.update({name: "STRING" for name in beam_runner.PARAMETER_TYPES})
    params = beam_runner.expand(parse(items, types))
    missing = [k for k, d in declared.items()
               if k not in params and "defaultValue" not in d and not d.get("isOptional")]
    if missing:
        raise SubmitError(f"the pipeline needs values for {', '.join(missing)}; pass --param KEY=VALUE")
    check_arguments(params)
    return escape_for_kubernetes(params)


def cron_expression(text: str) -> str:
    """The 6-field cron expression (seconds first) KFP's recurring runs take; 5 fields get seconds 0."""
    fields = text.split()
    if len(fields) == 5:
        fields = ["0"] + fields
    if len(fields) != 6:
        raise SubmitError(f"--schedule: expected a cron expression of 5 fields (minute hour day month weekday) "
                          f"or 6 (with seconds first); received {text!r}")
    return " ".join(fields)


# ---------------------------------------------------------------------------
# Talking to Kubeflow Pipelines
# ---------------------------------------------------------------------------

def _utc_stamp() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")


def _elapsed(started: float) -> str:
    minutes, seconds = divmod(int(time.monotonic() - started), 60)
    return f"{minutes}m{seconds:02d}s"


def check_reachable(host: str, timeout: float = 10.0) -> None:
    """One quick GET of the healthz endpoint, so a wrong --host fails fast and plainly."""
    import urllib.error
    import urllib.request

    url = f"{host.rstrip('/')}/apis/v2beta1/healthz"
    if not url.startswith(("http://", "https://")):
        raise SubmitError(f"--host: expected an http:// or https:// URL; received {host!r}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as e:
        raise SubmitError(f"expected a Kubeflow Pipelines API at {host}; GET {url} answered HTTP {e.code}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise SubmitError(f"expected a Kubeflow Pipelines API at {host}; GET {url} failed ({reason})") from None


def connect(host: str, ui_host: Optional[str]):
    import kfp

    check_reachable(host)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:
            return kfp.Client(host=host, ui_host=ui_host)
        except TimeoutError:
            raise SubmitError(f"expected a Kubeflow Pipelines API at {host} "
                              f"(GET {host.rstrip('/')}/apis/v2beta1/healthz); received no answer") from None


def upload(client, pipeline_file: str, pipeline_name: str, version_name: str, description: str):
    """Uploads the YAML as a new version of ``pipeline_name``; returns (pipeline_id, version_id, created)."""
    pipeline_id = client.get_pipeline_id(pipeline_name)
    if pipeline_id is None:
        pipeline = client.upload_pipeline(pipeline_file, pipeline_name=pipeline_name, description=description)
        versions = client.list_pipeline_versions(pipeline.pipeline_id, page_size=1, sort_by="created_at desc")
        if not versions.pipeline_versions:
            raise SubmitError(f"expected KFP to create a first version of pipeline {pipeline_name!r}; "
                              "it lists none")
        return pipeline.pipeline_id, versions.pipeline_versions[0].pipeline_version_id, True
    version = client.upload_pipeline_version(pipeline_file, pipeline_version_name=version_name,
                                             pipeline_id=pipeline_id, description=description)
    return pipeline_id, version.pipeline_version_id, False


def _without_kfp_links():
    """kfp.Client prints a "... details: <link>" line per call; submit prints the run's link once."""
    return contextlib.redirect_stdout(io.StringIO())


def run_link(ui_host: str, run_id: str) -> str:
    return f"{ui_host.rstrip('/')}/#/runs/details/{run_id}"


def follow(client, run_id: str, timeout: float, poll_interval: float, view, tasks, link: str):
    """Polls the run until it ends, reporting each pipeline task's state to ``view``. Returns the final run."""
    from tfx_kfp.cli.cluster_tasks import task_events

    deadline = time.monotonic() + timeout
    while True:
        run = client.get_run(run_id)
        state = run.state or "PENDING"
        final = state in FINAL_STATES
        details = getattr(getattr(run, "run_details", None), "task_details", None)
        error = getattr(getattr(run, "error", None), "message", None)
        for event in task_events(tasks, details, run_link=link, run_error=error if final else None):
            view(event)
        if final:
            return run
        if time.monotonic() >= deadline:
            raise SubmitError(f"expected run {run_id} to finish within {timeout:.0f} s; it is still {state}")
        time.sleep(poll_interval)


def schedule(client, experiment, run_name: str, cron: str, params, pipeline_id: str, version_id: str, args) -> int:
    """Creates a KFP recurring run (one run at a time, no catch-up of missed runs)."""
    with _without_kfp_links():
        job = client.create_recurring_run(experiment_id=experiment.experiment_id, job_name=run_name,
                                          cron_expression=cron, params=params, pipeline_id=pipeline_id,
                                          version_id=version_id, max_concurrency=1, no_catchup=True)
    ui = (args.ui_host or args.host).rstrip("/")
    print(f"submit: recurring run {run_name!r} ({job.recurring_run_id}) on schedule '{cron}' in experiment "
          f"{args.experiment}: {ui}/#/recurringrun/details/{job.recurring_run_id}")
    return 0


def run(args: argparse.Namespace) -> int:
    from tfx_kfp.cli.cluster_tasks import spec_tasks
    from tfx_kfp.cli.errors import UsageError
    from tfx_kfp.runtime.errors import TfxKfpError
    from tfx_kfp.cli.view import RunView

    started = time.monotonic()
    try:
        spec = load_pipeline_spec(args.pipeline_file)
        params = parse_params(args.param, declared_parameters(spec))
        pipeline_name = args.pipeline_name or spec["pipelineInfo"].get("name")
        if not pipeline_name:
            raise SubmitError(f"expected pipelineInfo.name in {args.pipeline_file} or --pipeline-name; "
                              "received neither")
        with open(args.pipeline_file, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:8]
        stamp = _utc_stamp()
        version_name = args.version_name or f"{pipeline_name}-{stamp}-{digest}"
        description = spec["pipelineInfo"].get("description") or f"Compiled by tfx-kfp ({digest})."

        print(f"submit: connecting to {args.host}", flush=True)
        client = connect(args.host, args.ui_host)
        with _without_kfp_links():
            pipeline_id, version_id, created = upload(client, args.pipeline_file, pipeline_name, version_name,
                                                      description)
        print(f"submit: {'created pipeline' if created else 'new version of pipeline'} {pipeline_name} "
              f"(pipeline {pipeline_id}, version {version_id})", flush=True)
        run_name = args.run_name or f"{pipeline_name} {stamp}"
        with _without_kfp_links():
            experiment = client.create_experiment(name=args.experiment)
        if args.schedule:
            return schedule(client, experiment, run_name, cron_expression(args.schedule), params, pipeline_id,
                            version_id, args)
        with _without_kfp_links():
            created_run = client.run_pipeline(experiment_id=experiment.experiment_id, job_name=run_name,
                                              params=params, pipeline_id=pipeline_id, version_id=version_id)
        run_id = created_run.run_id
        link = run_link(args.ui_host or args.host, run_id)
        print(f"submit: started run {run_name!r} ({run_id}) in experiment {args.experiment}"
              + (f" with {', '.join(sorted(params))}" if params else "") + f": {link}", flush=True)
        if args.no_wait:
            print(f"submit: run {run_id} started; not following it (--no-wait)")
            return 0
        with RunView.for_spec(spec) as view:
            final = follow(client, run_id, args.timeout, args.poll_interval, view, spec_tasks(spec), link)
    except SubmitError as e:
        print(f"submit: {e}", file=sys.stderr)
        return 1
    except (UsageError, TfxKfpError):
        raise  # the CLI turns these into their exit codes
    except Exception as e:  # kfp_server_api.ApiException, connection errors: say what the server said
        status = getattr(e, "status", None)
        body = getattr(e, "body", None)
        detail = f"HTTP {status}: {body}" if status else f"{type(e).__name__}: {e}"
        print(f"submit: Kubeflow Pipelines at {args.host} refused the request ({detail})", file=sys.stderr)
        return 1
    line = f"submit: run {run_name!r} {final.state} in {_elapsed(started)}"
    if final.state != "SUCCEEDED":
        if not view.failed():  # the run failed outside any task: say what the API said
            message = getattr(getattr(final, "error", None), "message", None)
            line += f" ({message})" if message else ""
        print(line, file=sys.stderr)
        return 1
    print(line)
    return 0
