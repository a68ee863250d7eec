"""``submit``: a compiled pipeline YAML to a new version in Kubeflow Pipelines, and a run (or a schedule) of it."""

import datetime
import hashlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional

from tfx_kfp.cluster import client as api
from tfx_kfp.cluster.client import ClusterError
from tfx_kfp.cluster.tasks import SystemFailure, spec_tasks
from tfx_kfp.local.events import TaskEvent


@dataclass
class Submission:
    """What ``submit`` did.

    Attributes:
        pipeline_name, pipeline_id, version_id: The pipeline and the version uploaded.
        created_pipeline: Whether the pipeline was created (its first version).
        experiment, experiment_id: The experiment the run (or recurring run) is in.
        run_name: The run's (or recurring run's) name.
        arguments: The run arguments sent (checked, then as compiled for the cluster: module sources as
            references, every ``$`` escaped for the backend's two ``$(VAR)`` expansions).
        modules: Module parameter -> the file on the model store its reference names (the run reads the
            module there: install it first, on kind with ``scripts/kind/install-module.sh``).
        run_id, link: The run and its page in the KFP UI (None for a schedule).
        recurring_run_id, recurring_link: The recurring run (``schedule``) and its page.
        state: The run's final state (SUCCEEDED, FAILED, ...); None if not followed.
        error: The run's error message, if the API gave one.
        system_failures: Failed KFP system steps (e.g. ``root-driver``), with where their logs are.
        tasks: The last event of each pipeline task (followed runs).
        seconds: From the call to the end of the run (or to its start, unfollowed).
    """

    pipeline_name: str
    pipeline_id: str
    version_id: str
    created_pipeline: bool
    experiment: str
    experiment_id: str
    run_name: str
    arguments: Dict[str, Any]
    modules: Dict[str, str] = field(default_factory=dict)
    run_id: Optional[str] = None
    link: Optional[str] = None
    recurring_run_id: Optional[str] = None
    recurring_link: Optional[str] = None
    state: Optional[str] = None
    error: Optional[str] = None
    system_failures: List[SystemFailure] = field(default_factory=list)
    tasks: Dict[str, TaskEvent] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def succeeded(self) -> bool:
        return self.state == "SUCCEEDED"


def load_pipeline_spec(path: str) -> Dict[str, Any]:
    """The PipelineSpec document of a compiled pipeline YAML."""
    import yaml

    try:
        with open(path) as f:
            documents = [d for d in yaml.safe_load_all(f) if d is not None]
    except FileNotFoundError:
        raise ClusterError(f"expected a compiled pipeline YAML at {path}; no such file "
                           f"(write one with `tfx-kfp compile -o {path}`)") from None
    except yaml.YAMLError as e:
        raise ClusterError(f"expected a compiled pipeline YAML at {path}; it is not valid YAML: {e}") from None
    spec = documents[0] if documents else None
    if not isinstance(spec, dict) or "pipelineInfo" not in spec or "root" not in spec:
        keys = sorted(spec) if isinstance(spec, dict) else type(spec).__name__
        raise ClusterError(f"expected a KFP PipelineSpec (pipelineInfo, root, ...) in {path}; received {keys}")
    return spec


def declared_parameters(spec: Mapping[str, Any]) -> Dict[str, Dict[str, Any]]:
    """Root input parameters: name -> {parameterType, defaultValue?, isOptional?}."""
    return dict(spec.get("root", {}).get("inputDefinitions", {}).get("parameters", {}))


def run_arguments(spec: Mapping[str, Any], arguments: Mapping[str, Any]) -> Dict[str, Any]:
    """``arguments`` checked against the spec's declarations as every command checks them
    (``tfx_kfp.pipelines.argument_checks.check_run_arguments``), then given the cluster treatment of
    ``tfx-kfp compile --target kind`` (``tfx_kfp.pipelines.cluster``): module sources become references
    to ``modules/<sha256>.py`` on the model store, every ``$`` is escaped for both expansions, and the
    declared defaults with these values must fit ML Metadata on PostgreSQL (refused before any request)."""
    from tfx_kfp.pipelines import cluster
    from tfx_kfp.pipelines.argument_checks import check_run_arguments

    name = spec.get("pipelineInfo", {}).get("name", "the")
    declared = declared_parameters(spec)
    values = cluster.cluster_parameter_values(check_run_arguments(name, declared, arguments))
    defaults = {key: d["defaultValue"] for key, d in declared.items() if "defaultValue" in d}
    cluster.check_parameter_sizes({**defaults, **values})
    return values


def module_files(arguments: Mapping[str, Any]) -> Dict[str, str]:
    """Module parameter -> the model-store file its reference names, for the module arguments given."""
    from tfx_kfp.pipelines.cluster import MODULE_PARAMETERS
    from tfx_kfp.runtime import user_module

    return {name: user_module.referenced_path(value, name) for name, value in arguments.items()
            if name in MODULE_PARAMETERS and user_module.is_reference(value)}


def submit(pipeline_file: str, host: str, arguments: Optional[Mapping[str, Any]] = None, *,
           pipeline_name: Optional[str] = None, version_name: Optional[str] = None, experiment: str = "tfx-kfp",
           run_name: Optional[str] = None, ui_host: Optional[str] = None, schedule: Optional[str] = None,
           wait: bool = True, timeout: float = 3600, poll_interval: float = 10,
           observer: Optional[Callable[[TaskEvent], None]] = None,
           say: Optional[Callable[[str], None]] = None) -> Submission:
    """Uploads a compiled pipeline as a new version, then runs it (and follows the run) or schedules it.

    Args:
        pipeline_file: The compiled YAML (``tfx-kfp compile --target kind``), uploaded unchanged.
        host: The KFP API base URL (e.g. ``http://localhost:8888``, or the UI's URL, which proxies it).
        arguments: Run arguments by parameter name (Python values), checked against the YAML's
            declarations; ``beam_runner`` and its companions expand into ``beam_pipeline_args``. A module
            source given as text is sent as a reference to ``/model-store/modules/<sha256>.py``, as
            ``compile --target kind`` compiles it: the module file must be installed there
            (``Submission.modules`` names where; ``scripts/kind/install-module.sh``).
        pipeline_name: The pipeline in KFP (default: ``pipelineInfo.name`` of the YAML).
        version_name: The new version's name (default: ``<pipeline>-<UTC time>-<YAML hash>``).
        experiment: The experiment (created if missing).
        run_name: Default ``<pipeline> <UTC time>``.
        ui_host: Base URL of the UI for the links (default: ``host``).
        schedule: A cron expression (5 fields, or 6 with seconds first): a recurring run instead of one run.
        wait: Follow the run until it ends (else return once it started).
        timeout, poll_interval: Seconds to follow the run, and between polls.
        observer: Called with each pipeline task's TaskEvent on every poll (a run view).
        say: Called with each progress line (connecting, uploaded, started); default: silent.

    Returns:
        The Submission; ``succeeded`` tells whether the run SUCCEEDED.

    Raises:
        ClusterError: The file, the host or the API refused (its answer in the message).
        InputError, MissingParameters: An argument breaks its declaration or rule, or the parameters would
            not fit ML Metadata on PostgreSQL (before any request).
    """
    say = say or (lambda line: None)
    started = time.monotonic()
    spec = load_pipeline_spec(pipeline_file)
    checked = run_arguments(spec, arguments or {})
    cron = api.cron_expression(schedule) if schedule else None
    pipeline_name = pipeline_name or spec["pipelineInfo"].get("name")
    if not pipeline_name:
        raise ClusterError(f"expected pipelineInfo.name in {pipeline_file} or a pipeline name; received neither")
    with open(pipeline_file, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:8]
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    description = spec["pipelineInfo"].get("description") or f"Compiled by tfx-kfp ({digest})."
    ui = (ui_host or host).rstrip("/")
    modules = module_files(checked)
    for parameter, path in sorted(modules.items()):
        say(f"{parameter} is sent as a reference to {path} on the model store; the run reads the module from "
            f"there (install it first; on kind: bash scripts/kind/install-module.sh <module file>)")
    say(f"connecting to {host}")
    try:
        client = api.connect(host, ui_host)
        pipeline_id, version_id, created = api.upload_version(
            client, pipeline_file, pipeline_name, version_name or f"{pipeline_name}-{stamp}-{digest}", description)
        say(f"{'created pipeline' if created else 'new version of pipeline'} {pipeline_name} "
            f"(pipeline {pipeline_id}, version {version_id})")
        result = Submission(pipeline_name, pipeline_id, version_id, created, experiment,
                            api.experiment_id(client, experiment), run_name or f"{pipeline_name} {stamp}", checked, modules)
        if cron:
            result.recurring_run_id = api.schedule(client, result.experiment_id, result.run_name, cron, checked,
                                                   pipeline_id, version_id)
            result.recurring_link = f"{ui}/#/recurringrun/details/{result.recurring_run_id}"
            say(f"recurring run {result.run_name!r} ({result.recurring_run_id}) on schedule '{cron}' in "
                f"experiment {experiment}: {result.recurring_link}")
            return result
        result.run_id = api.start_run(client, result.experiment_id, result.run_name, checked, pipeline_id,
                                      version_id)
        result.link = api.run_link(ui, result.run_id)
        say(f"started run {result.run_name!r} ({result.run_id}) in experiment {experiment}"
            + (f" with {', '.join(sorted(checked))}" if checked else "") + f": {result.link}")
        if not wait:
            result.seconds = time.monotonic() - started
            return result

        def record(event: TaskEvent) -> None:
            result.tasks[event.task] = event
            if observer is not None:
                observer(event)

        final, result.system_failures = api.follow(client, result.run_id, spec_tasks(spec), timeout=timeout,
                                                   poll_interval=poll_interval, link=result.link, observer=record)
    except ClusterError:
        raise
    except Exception as e:  # kfp_server_api.ApiException, connection errors: say what the server said
        raise api.api_refusal(host, e) from e
    result.state = final.state
    result.error = getattr(getattr(final, "error", None), "message", None)
    result.seconds = time.monotonic() - started
    return result
