"""``tfx-kfp demo``: the penguin pipeline end to end on this machine, then the pushed model called."""

import os

NAME = "demo"
HELP = "Run the penguin pipeline locally end to end and call the pushed model."

# First row of penguins_processed.csv (an Adelie), in the raw units serving_default takes.
SAMPLE = {"culmen_length_mm": 0.254545, "culmen_depth_mm": 0.666667,
          "flipper_length_mm": 0.152542, "body_mass_g": 0.291667}


def add_arguments(parser):
    from tfx_kfp.cli.commands.run import add_run_options

    parser.add_argument("--workdir", default="tfx-kfp-demo",
                        help="Folder for run outputs (runs/) and the TF Serving model base path (serving_model/).")
    add_run_options(parser, pipeline_root="")


def run(args) -> int:
    from tfx_kfp.cli.commands.run import finish, run_local
    from tfx_kfp.local import TaskFailed
    from tfx_kfp.pipelines import penguin
    from tfx_kfp.pipelines.presets import build_pipeline

    workdir = os.path.abspath(args.workdir)
    serving_base_dir = os.path.join(workdir, "serving_model", "penguin")
    pipeline = build_pipeline("penguin", target="local", params={"serving_base_dir": serving_base_dir})
    try:
        result, view = run_local(pipeline, title="penguin demo", runner=args.runner,
                                 pipeline_root=args.pipeline_root or os.path.join(workdir, "runs"),
                                 cache=not args.no_cache, verbose=args.verbose,
                                 module_files={penguin.module_source(): penguin.MODULE_FILE})
    except TaskFailed:
        return 1
    finish(view, result)
    if not result.pushed_destination:
        print("demo: FAILED: the model was not pushed (the evaluator did not bless it; see its report)")
        return 1
    from tfx_kfp.local.logs import capture_task_output
    from tfx_kfp.serving.smoke import serve_and_call

    with capture_task_output(os.path.join(result.run_dir, "logs", "serving.log")):
        served = serve_and_call("penguin", serving_base_dir, [SAMPLE])
    scores = served.responses["rest"]["predictions"][0]
    print(f"demo: {served.summary}")
    print(f"demo: done: model pushed to {result.pushed_destination}, eval accuracy {result.eval_accuracy:.3f}; "
          f"served over REST and gRPC, scores for one Adelie penguin: {[round(s, 3) for s in scores]}")
    return 0
