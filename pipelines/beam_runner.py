"""``beam_runner`` and its companions: a Beam engine named in parameters, expanded into ``beam_pipeline_args``.

    tfx-kfp compile --pipeline training --param beam_runner=flink \\
        --param beam_job_endpoint=beam-flink-job-server.kubeflow:8099 …

These parameters exist at compile (and submit) time only: ``expand`` turns them into the Beam args
that the compiled pipeline's ``beam_pipeline_args`` carries (so the YAML shows exactly what every
Beam stage gets), followed by any ``beam_pipeline_args`` given too (extra options, e.g.
``--parallelism=4`` or Dataflow's ``--project``). docs/scale.md says what each engine needs.
"""

from typing import Any, Dict, List

from tfx_kfp.runtime.errors import InputError

WHERE = "pipeline arguments"

RUNNERS = ("direct", "flink", "spark", "portable", "dataflow")
# Runners that submit to a Beam job server (Flink's and Spark's job servers, Beam's own job service).
JOB_SERVER_RUNNERS = ("flink", "spark", "portable")
ENVIRONMENT_TYPES = ("EXTERNAL", "DOCKER", "PROCESS", "LOOPBACK")
# The worker pool of our runtime image, as a sidecar of each Flink TaskManager / Spark worker.
DEFAULT_ENVIRONMENT = ("EXTERNAL", "localhost:50000")

HELP = {
    "beam_runner": f"Beam engine for every Beam stage, one of {', '.join(RUNNERS)}; expands into "
                   "beam_pipeline_args at compile/submit time (empty: beam_pipeline_args as given).",
    "beam_job_endpoint": "host:port of the Beam job server (flink, spark, portable).",
    "beam_environment_type": f"Where SDK workers run: {', '.join(ENVIRONMENT_TYPES)} "
                             f"(default {DEFAULT_ENVIRONMENT[0]}: our image's worker pool).",
    "beam_environment_config": f"The environment's config (EXTERNAL: the worker pool's address, default "
                               f"{DEFAULT_ENVIRONMENT[1]}; DOCKER: an image with Beam's boot).",
    "beam_sdk_container_image": "The image the SDK workers run (default: this version's runtime image); tells TFX "
                                "the workers already have TFX.",
}
PARAMETER_TYPES = {name: str for name in HELP}


def default_image() -> str:
    from tfx_kfp.components.image import RUNTIME_IMAGE

    return RUNTIME_IMAGE


def _value(params: Dict[str, Any], name: str) -> str:
    value = params.get(name, "")
    if not isinstance(value, str):
        raise InputError(WHERE, "expected a string", received=repr(value), field=name)
    return value.strip()


def runner_args(params: Dict[str, Any]) -> List[str]:
    """The Beam args the ``beam_*`` parameters in ``params`` stand for ([] without ``beam_runner``)."""
    runner = _value(params, "beam_runner").lower()
    given = [name for name in HELP if name != "beam_runner" and _value(params, name)]
    if not runner:
        if given:
            raise InputError(WHERE, f"{', '.join(given)} given without beam_runner; expected "
                             f"beam_runner=one of {', '.join(RUNNERS)}", field="beam_runner")
        return []
    if runner not in RUNNERS:
        raise InputError(WHERE, f"expected one of {', '.join(RUNNERS)}", received=runner,
                         field="beam_runner")
    image = _value(params, "beam_sdk_container_image") or default_image()
    if runner == "direct":
        if given:
            raise InputError(WHERE, f"direct runs in the task; {', '.join(given)} do not apply",
                             field="beam_runner")
        return ["--runner=DirectRunner"]
    if runner == "dataflow":  # project, region, temp_location: Dataflow's own options, in beam_pipeline_args
        return ["--runner=DataflowRunner", f"--sdk_container_image={image}", "--experiments=use_runner_v2"]
    endpoint = _value(params, "beam_job_endpoint")
    if not endpoint:
        raise InputError(WHERE, f"beam_runner={runner} submits to a Beam job server; expected its "
                         "host:port, e.g. beam-flink-job-server.kubeflow:8099", field="beam_job_endpoint")
    environment_type = (_value(params, "beam_environment_type") or DEFAULT_ENVIRONMENT[0]).upper()
    if environment_type not in ENVIRONMENT_TYPES:
        raise InputError(WHERE, f"expected one of {', '.join(ENVIRONMENT_TYPES)}",
                         received=environment_type, field="beam_environment_type")
    config = _value(params, "beam_environment_config")
    if not config and environment_type == "EXTERNAL":
        config = DEFAULT_ENVIRONMENT[1]
    args = ["--runner=PortableRunner", f"--job_endpoint={endpoint}", f"--environment_type={environment_type}"]
    args += [f"--environment_config={config}"] if config else []
    return args + [f"--sdk_container_image={image}"]


def expand(params: Dict[str, Any]) -> Dict[str, Any]:
    """``params`` without the ``beam_*`` runner parameters, their Beam args put in front of
    ``beam_pipeline_args`` (which keeps any options given there)."""
    rest = {key: value for key, value in params.items() if key not in HELP}
    args = runner_args(params)
    if args:
        rest["beam_pipeline_args"] = args + list(params.get("beam_pipeline_args") or [])
    return rest
