"""``tfx-kfp demo``: the penguin pipeline end to end on this machine, then the pushed model called.

``--loop`` shows continuous training: new data arrives as spans; the second run's candidate is
judged against the model the first run pushed, and its result line says how they compare.
"""

import csv
import os

NAME = "demo"
HELP = "Run the penguin pipeline locally end to end and call the pushed model (--loop: two data drops)."

# First row of penguins_processed.csv (an Adelie), in the raw units serving_default takes.
SAMPLE = {"culmen_length_mm": 0.254545, "culmen_depth_mm": 0.666667,
          "flipper_length_mm": 0.152542, "body_mass_g": 0.291667}
SPAN_PATTERN = "span-{SPAN}/*.csv"


def add_arguments(parser):
    from tfx_kfp.cli.commands.run import add_run_options

    parser.add_argument("--workdir", default="tfx-kfp-demo",
                        help="Folder for run outputs (runs/) and the TF Serving model base path (serving_model/).")
    parser.add_argument("--loop", action="store_true",
                        help="Continuous training: run on span 1 of the data, add span 2, run again; the second "
                             "candidate is compared with the model the first run pushed.")
    add_run_options(parser, pipeline_root="")


def write_span(data_root: str, span: int, every: int) -> None:
    """A data drop: ``span-<n>/penguins.csv`` with every ``every``-th row of the preset's data."""
    from tfx_kfp.pipelines import penguin

    with open(os.path.join(penguin.DATA_DIR, "penguins_processed.csv")) as f:
        header, *rows = list(csv.reader(f))
    folder = os.path.join(data_root, f"span-{span}")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "penguins.csv"), "w", newline="") as f:
        csv.writer(f).writerows([header] + rows[::every])


def _run(args, title: str, params):
    from tfx_kfp.cli.commands.run import finish, run_local
    from tfx_kfp.pipelines import penguin
    from tfx_kfp.pipelines.presets import build_pipeline

    pipeline = build_pipeline("penguin", target="local", params=params)
    result, view = run_local(pipeline, title=title, runner=args.runner,
                             pipeline_root=args.pipeline_root or os.path.join(os.path.abspath(args.workdir), "runs"),
                             cache=not args.no_cache, verbose=args.verbose,
                             module_files={penguin.module_source(): penguin.MODULE_FILE})
    finish(view, result)
    return result


def run(args) -> int:
    from tfx_kfp.local import TaskFailed

    workdir = os.path.abspath(args.workdir)
    serving_base_dir = os.path.join(workdir, "serving_model", "penguin")
    params = {"serving_base_dir": serving_base_dir}
    try:
        if args.loop:
            data_root = os.path.join(workdir, "data")
            params.update(data_root=data_root, input_pattern=SPAN_PATTERN)
            write_span(data_root, 1, every=2)
            _run(args, "penguin demo, span 1", params)
            write_span(data_root, 2, every=1)  # the next data drop arrives
            result = _run(args, "penguin demo, span 2", params)
        else:
            result = _run(args, "penguin demo", params)
    except TaskFailed:
        return 1
    if not os.path.isdir(serving_base_dir) or not os.listdir(serving_base_dir):
        print("demo: FAILED: no model was pushed (the evaluator did not bless it; see its report)")
        return 1
    from tfx_kfp.local.logs import capture_task_output
    from tfx_kfp.serving.smoke import serve_and_call

    with capture_task_output(os.path.join(result.run_dir, "logs", "serving.log")):
        served = serve_and_call("penguin", serving_base_dir, [SAMPLE])
    scores = served.responses["rest"]["predictions"][0]
    print(f"demo: {served.summary}")
    print(f"demo: done: serving version {served.version} of {serving_base_dir} over REST and gRPC; "
          f"eval accuracy {result.eval_accuracy:.3f}; scores for one Adelie penguin: {[round(s, 3) for s in scores]}")
    return 0
