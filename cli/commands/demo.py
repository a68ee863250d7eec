"""``tfx-kfp demo``: the penguin pipeline end to end on this machine, then the pushed model called."""

import os

NAME = "demo"
HELP = "Run the penguin pipeline locally end to end and call the pushed model."


def add_arguments(parser):
    parser.add_argument("--workdir", default="tfx-kfp-demo",
                        help="Folder for run outputs (runs/) and the TF Serving model base path (serving_model/).")
    from tfx_kfp.local import RUNNERS

    parser.add_argument("--runner", choices=RUNNERS, default="inprocess", help="How tasks run (see `tfx-kfp run --help`).")
    parser.add_argument("--no-cache", action="store_true", help="Run every task (no reuse of earlier outputs).")


def run(args) -> int:
    from tfx_kfp.cli.commands.run import print_event, result_line, run_local
    from tfx_kfp.local import TaskFailed
    from tfx_kfp.pipelines.presets import build_pipeline

    workdir = os.path.abspath(args.workdir)
    serving_base_dir = os.path.join(workdir, "serving_model", "penguin")
    print(f"demo: [1/2] running the penguin pipeline ({args.runner}); outputs in {workdir}")
    pipeline = build_pipeline("penguin", target="local", params={"serving_base_dir": serving_base_dir})
    try:
        result = run_local(pipeline, runner=args.runner, pipeline_root=os.path.join(workdir, "runs"),
                           cache=not args.no_cache, observer=print_event)
    except TaskFailed as e:
        print(f"demo: FAILED: {e}")
        return 1
    print(f"demo: pipeline: {result_line('penguin', result)}")
    if not result.pushed_destination:
        print("demo: FAILED: the model was not pushed (see the evaluator's metrics above)")
        return 1
    print("demo: [2/2] serving the pushed model (TF Serving REST + gRPC APIs) and calling it once over each")
    from tfx_kfp.serving.smoke import serve_and_call

    served = serve_and_call("penguin", serving_base_dir, [SAMPLE])
    scores = served.responses["rest"]["predictions"][0]
    print(f"demo: {served.summary}")
    print(f"demo: scores for one Adelie penguin (species 0/1/2): {[round(s, 3) for s in scores]}")
    print(f"demo: done: model pushed to {result.pushed_destination}, eval accuracy {result.eval_accuracy:.3f}, "
          f"served over REST and gRPC")
    return 0


# First row of penguins_processed.csv (an Adelie), in the raw units serving_default takes.
SAMPLE = {"culmen_length_mm": 0.254545, "culmen_depth_mm": 0.666667,
          "flipper_length_mm": 0.152542, "body_mass_g": 0.291667}
