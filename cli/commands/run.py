"""``tfx-kfp run --local``: run the compiled pipeline on this machine with the KFP backend's semantics."""

import os

from tfx_kfp.cli.commands import _pipeline_args

NAME = "run"
HELP = "Run a pipeline locally: the compiled spec, task by task, in this process, in subprocesses or in Docker."
RUNNER_HELP = ("inprocess: every task in this process (TensorFlow imported once; fastest); "
               "subprocess: a process per task; docker: every task in the runtime image.")


def add_run_options(parser, *, pipeline_root: str) -> None:
    from tfx_kfp.local import RUNNERS

    parser.add_argument("--runner", choices=RUNNERS, default="inprocess", help=RUNNER_HELP)
    parser.add_argument("--pipeline-root", default=pipeline_root, help="Where runs and task outputs are written.")
    parser.add_argument("--no-cache", action="store_true",
                        help="Run every task, even one whose inputs, parameters and component are unchanged.")


def add_arguments(parser):
    parser.add_argument("--local", action="store_true", required=True,
                        help="Run on this machine (for a cluster, compile and use `tfx-kfp submit`).")
    add_run_options(parser, pipeline_root="tfx-kfp-runs")
    _pipeline_args.add_pipeline_options(parser)


def run_local(pipeline, *, runner: str, pipeline_root: str, cache: bool, observer):
    """Compiles ``pipeline`` as for upload and runs that spec; Docker tasks see its data and model folders."""
    from tfx_kfp import local

    compiled = local.compile_for_local(pipeline)
    mounts = local.Mounts()
    if runner == "docker":
        defaults = compiled.parameter_defaults()
        os.makedirs(defaults["serving_base_dir"], exist_ok=True)
        mounts = local.Mounts(read_only=[defaults["data_root"]], read_write=[defaults["serving_base_dir"]])
    return local.run_compiled(compiled, runner=runner, pipeline_root=pipeline_root, cache=cache,
                              observer=observer, mounts=mounts)


def result_line(name: str, result) -> str:
    accuracy = result.eval_accuracy
    parts = [f"{name} succeeded in {result.seconds:.0f} s"]
    if accuracy is not None:
        parts.append(f"eval accuracy {accuracy:.3f}")
    parts.append({True: "blessed", False: "not blessed", None: "no blessing"}[result.blessed])
    destination = result.pushed_destination
    if destination:
        parts.append(f"pushed to {destination}")
    else:
        parts.append(f"nothing pushed (pusher {result.state('pusher') or 'not run'})")
    return ", ".join(parts) + f" (outputs: {result.run_dir})"


def print_event(event) -> None:
    print(f"run: {event.task:<18} {event.state}" + (f" ({event.seconds:.1f} s)" if event.seconds else ""), flush=True)


def run(args) -> int:
    from tfx_kfp.local import TaskFailed

    pipeline = _pipeline_args.build_pipeline(args, target="local")
    print(f"run: {args.pipeline} pipeline, runner {args.runner}, outputs under {os.path.abspath(args.pipeline_root)}")
    try:
        result = run_local(pipeline, runner=args.runner, pipeline_root=args.pipeline_root,
                           cache=not args.no_cache, observer=print_event)
    except TaskFailed as e:
        print(f"run: {args.pipeline} FAILED: {e}")
        return 1
    print(f"run: {result_line(args.pipeline, result)}")
    return 0
