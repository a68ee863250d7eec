"""``tfx-kfp run --local``: run a pipeline on this machine with kfp.local."""

import os

from tfx_kfp.cli.commands import _pipeline_args
from tfx_kfp.local import RUNNERS

NAME = "run"
HELP = "Run a pipeline locally (kfp.local): in this process, in subprocesses, or in Docker."


def add_arguments(parser):
    parser.add_argument("--local", action="store_true", required=True,
                        help="Run on this machine (for a cluster, compile and use `tfx-kfp submit`).")
    parser.add_argument("--runner", choices=RUNNERS, default="inprocess",
                        help="inprocess: every task in this process (TensorFlow imported once; fastest); "
                             "subprocess: kfp.local.SubprocessRunner, a process per task; "
                             "docker: kfp.local.DockerRunner, every task in the runtime image.")
    parser.add_argument("--pipeline-root", default="tfx-kfp-runs", help="Where task outputs are written.")
    _pipeline_args.add_pipeline_options(parser)


def summarize(name: str, result) -> str:
    accuracy = result.eval_accuracy
    parts = [f"{name} succeeded in {result.seconds:.0f} s"]
    if accuracy is not None:
        parts.append(f"eval accuracy {accuracy:.3f}")
    parts.append({True: "blessed", False: "not blessed", None: "no blessing"}[result.blessed])
    destination = result.pushed_destination
    parts.append(f"pushed to {destination}" if destination else "nothing pushed")
    return ", ".join(parts) + f" (outputs: {result.run_dir})"


def execute(pipeline_name: str, params, runner: str, pipeline_root: str):
    """Builds the local variant of the pipeline and runs it; returns the LocalRun."""
    from tfx_kfp.local import run_pipeline

    pipeline = _pipeline_args.build_pipeline(pipeline_name, target="local", gate_push=False, params=params)
    defaults = {k: v.default for k, v in pipeline.component_spec.inputs.items()}
    read_only = [defaults["data_root"]] if runner == "docker" else []
    read_write = [defaults["serving_base_dir"]] if runner == "docker" else []
    if runner == "docker":
        os.makedirs(defaults["serving_base_dir"], exist_ok=True)
    return run_pipeline(pipeline, {}, runner=runner, pipeline_root=pipeline_root,
                        docker_read_only=read_only, docker_read_write=read_write)


def run(args) -> int:
    params = _pipeline_args.parse_params(args.param, args.module_file, args.schema_file)
    for key in ("data_root", "serving_base_dir"):
        if key in params:
            params[key] = os.path.abspath(params[key])
    print(f"run: {args.pipeline} pipeline, runner {args.runner}, outputs under {os.path.abspath(args.pipeline_root)}")
    try:
        result = execute(args.pipeline, params, args.runner, args.pipeline_root)
    except RuntimeError as e:
        print(f"run: {args.pipeline} FAILED: {e}")
        return 1
    print(f"run: {summarize(args.pipeline, result)}")
    return 0
