"""``tfx-kfp run --local``: run the compiled pipeline on this machine with the KFP backend's semantics.

``--pipeline penguin|training`` compiles the preset as ``compile`` does and runs that spec;
``--pipeline-file p.yaml`` runs a compiled YAML as it is, ``--param`` giving run arguments typed
and checked by its declarations exactly as ``submit`` sends them.
"""

import os
import sys
from typing import Any, Dict, Optional

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
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="Stream what the tasks print (TensorFlow, Beam, absl) instead of writing it to "
                             "<run>/logs/<task>.log.")


def add_arguments(parser):
    parser.add_argument("--local", action="store_true", required=True,
                        help="Run on this machine (for a cluster, compile and use `tfx-kfp submit`).")
    parser.add_argument("--pipeline-file", default=None,
                        help="A compiled pipeline YAML (tfx-kfp compile, or the KFP SDK's compiler) to run as it "
                             "is; --param gives run arguments typed by its declared parameters.")
    add_run_options(parser, pipeline_root="tfx-kfp-runs")
    _pipeline_args.add_pipeline_options(parser)


def docker_mounts(compiled, arguments: Dict[str, Any]):
    """The host folders Docker tasks need: the data (read only) and the model store (read-write)."""
    from tfx_kfp import local

    values = {**compiled.parameter_defaults(), **arguments}
    data, store = values.get("data_root"), values.get("serving_base_dir")
    if store and "://" not in store:
        os.makedirs(store, exist_ok=True)
    return local.Mounts(read_only=[data] if data and "://" not in data else [],
                        read_write=[store] if store and "://" not in store else [])


def run_local(pipeline, *, title: str, runner: str, pipeline_root: str, cache: bool, verbose: bool = False,
              module_files: Optional[Dict[str, str]] = None, arguments: Optional[Dict[str, Any]] = None):
    """Runs ``pipeline`` with the run view; returns (LocalRun, view).

    ``pipeline`` is a KFP pipeline (compiled here as for upload) or a ``CompiledPipeline`` (run as it is,
    with ``arguments``). Docker tasks see the data and model folders. ``module_files`` maps a module's
    source text to the file the user gave, so failures and warnings name that file. Raises
    ``TaskFailed`` after the view has printed the failure summary.
    """
    import yaml

    from tfx_kfp import local
    from tfx_kfp.cli.view import RunView
    from tfx_kfp.local.logs import tf_cpp_logs_to_task_files
    from tfx_kfp.runtime.user_module import file_name

    compiled = pipeline if isinstance(pipeline, local.CompiledPipeline) else local.compile_for_local(pipeline)
    arguments = dict(arguments or {})
    mounts = docker_mounts(compiled, arguments) if runner == "docker" else local.Mounts()
    if not verbose:
        tf_cpp_logs_to_task_files()
    module_names = {file_name(source): path for source, path in (module_files or {}).items()}
    view = RunView.for_spec(next(yaml.safe_load_all(compiled.text)), title=f"{title} ({runner})",
                            live=False if verbose else None, module_names=module_names)
    with view:
        result = local.run_compiled(compiled, arguments, runner=runner, pipeline_root=pipeline_root, cache=cache,
                                    observer=view, mounts=mounts, show_user_warning=view.print_warning,
                                    verbose=verbose)
    return result, view


def finish(view, result) -> None:
    """The run's one-line result, pointing at the HTML index of its reports."""
    from tfx_kfp.cli.commands.report import write_index

    view.print_line(view.result_line(index_path=str(write_index(result.run_dir)), seconds=result.seconds))


def module_files(args) -> Dict[str, str]:
    """Module source text -> the file it came from (the preset's own module when none was given)."""
    from tfx_kfp.pipelines import penguin

    files = {}
    for option in ("module_file", "transform_module_file", "trainer_module_file"):
        path = getattr(args, option, None)
        if path and os.path.isfile(path):
            with open(path) as f:
                files[f.read()] = path
    if not files and args.pipeline == "penguin" and not getattr(args, "pipeline_file", None):
        files[penguin.module_source()] = penguin.MODULE_FILE
    return files


def run(args) -> int:
    from tfx_kfp import local
    from tfx_kfp.local import TaskFailed

    arguments: Dict[str, Any] = {}
    if args.pipeline_file:
        compiled = _pipeline_args.load_pipeline_file(args.pipeline_file)
        arguments = _pipeline_args.run_arguments(args, compiled)
        pipeline, title = compiled, compiled.name
    else:
        pipeline, title = _pipeline_args.build_pipeline(args, target="local"), args.pipeline
    try:
        result, view = run_local(pipeline, title=title, runner=args.runner, pipeline_root=args.pipeline_root,
                                 cache=not args.no_cache, verbose=args.verbose, module_files=module_files(args),
                                 arguments=arguments)
    except TaskFailed:
        return 1  # the view has printed which stage failed, why, and its log
    except local.RunInterrupted as e:
        print(f"{args.pipeline}: interrupted by {e.signal_name}; {e.run_dir}/run.json says so; the same command "
              "resumes after the finished stages (cache)", file=sys.stderr)
        return e.exit_status
    finish(view, result)
    return 0
