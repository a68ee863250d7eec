"""``tfx-kfp submit``: upload a compiled pipeline to Kubeflow Pipelines, run it, follow it.

    tfx-kfp compile --pipeline penguin --target kind -o pipeline.yaml
    tfx-kfp submit --host http://localhost:8888 --pipeline-file pipeline.yaml [--param train_steps=300]

A thin command over ``tfx_kfp.cluster.submit``: uploads the YAML as a new version of the named
pipeline (creating the pipeline the first time), starts a run in an experiment, prints its link
in the KFP UI once, shows each pipeline task's state (the RunView of local runs) until the run
ends, and exits 0 only if it SUCCEEDED. A failed task is summarised with the API's error; a
failed KFP system step (``root-driver``) is named with where its log is.

Run arguments get the cluster treatment of ``compile --target kind``: a module (``--module-file``,
or ``--param module_source=@FILE``) is sent as a reference to ``/model-store/modules/<sha256>.py``,
which must be installed there (``scripts/kind/install-module.sh``; ``run-pipeline.sh`` does it for
the module files it is given), and parameters too large for ML Metadata are refused before any request.
"""

import argparse
import contextlib
import sys

NAME = "submit"
HELP = "Upload a compiled pipeline to Kubeflow Pipelines as a new version, run it and follow it to the end."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from tfx_kfp.cli.commands._pipeline_args import add_module_file_options

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
                             "KEY=@FILE passes the file's text")
    add_module_file_options(parser, where=" (sent as a reference to /model-store/modules/<sha256>.py: "
                                          "install it there first, scripts/kind/install-module.sh)")
    parser.add_argument("--ui-host", default=None, help="UI base URL for the printed links (default: --host)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to follow the run (default 3600)")
    parser.add_argument("--poll-interval", type=float, default=10, help="seconds between status checks")
    parser.add_argument("--no-wait", action="store_true", help="start the run and return without following it")
    parser.add_argument("--schedule", metavar="CRON", default=None,
                        help="create a recurring run on this cron schedule instead of one run, e.g. '0 3 * * *' "
                             "(daily at 03:00; pair it with an input_pattern such as span-{SPAN}/*.csv so each run "
                             "trains on the newest data drop)")


def _elapsed(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def run(args: argparse.Namespace) -> int:
    from tfx_kfp import cluster
    from tfx_kfp.cli.commands._pipeline_args import file_params
    from tfx_kfp.cli.params import declared_types, parse_params
    from tfx_kfp.cli.view import RunView

    def say(line: str) -> None:
        print(f"submit: {line}", flush=True)

    try:
        spec = cluster.load_pipeline_spec(args.pipeline_file)
        types = declared_types(cluster.declared_parameters(spec))
        arguments = {**parse_params(args.param, types), **file_params(args, types)}
        view = RunView.for_spec(spec)
        opened = []
        with contextlib.ExitStack() as shown:
            def observe(event) -> None:  # the view opens with the run's first event, after the progress lines
                if not opened:
                    opened.append(shown.enter_context(view))
                view(event)

            result = cluster.submit(
                args.pipeline_file, args.host, arguments, pipeline_name=args.pipeline_name,
                version_name=args.version_name, experiment=args.experiment, run_name=args.run_name,
                ui_host=args.ui_host, schedule=args.schedule, wait=not args.no_wait, timeout=args.timeout,
                poll_interval=args.poll_interval, observer=observe, say=say)
    except cluster.ClusterError as e:
        print(f"submit: {e}", file=sys.stderr)
        return 1
    if result.recurring_run_id:
        return 0
    if result.state is None:
        print(f"submit: run {result.run_id} started; not following it (--no-wait)")
        return 0
    line = f"submit: run {result.run_name!r} {result.state} in {_elapsed(result.seconds)}"
    if result.succeeded:
        print(line)
        return 0
    for failure in result.system_failures:
        print(f"submit: {failure}", file=sys.stderr)
    if not view.failed() and not result.system_failures and result.error:
        line += f" ({result.error})"  # the run failed outside any task: say what the API said
    print(line, file=sys.stderr)
    return 1
