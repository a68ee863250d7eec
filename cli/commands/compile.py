"""``tfx-kfp compile``: write a pipeline as KFP v2 YAML, the file a user uploads (and local runs execute)."""

import os

from tfx_kfp.cli.commands import _pipeline_args

NAME = "compile"
HELP = "Compile a pipeline to KFP v2 YAML (PipelineSpec) for upload to Kubeflow Pipelines."


def add_arguments(parser):
    _pipeline_args.add_pipeline_options(parser)
    parser.add_argument("--target", choices=("kind", "local"), default="kind",
                        help="kind: data and models on the tfx-kfp-model-store volume; local: this machine's paths "
                             "(the spec `tfx-kfp run --local` executes).")
    parser.add_argument("-o", "--output", default="pipeline.yaml", help="Output YAML file.")


def run(args) -> int:
    from tfx_kfp.pipelines import compile_pipeline

    compile_pipeline(_pipeline_args.build_pipeline(args, target=args.target), args.output)
    print(f"compile: wrote {args.pipeline} pipeline ({args.target}) to {os.path.abspath(args.output)}")
    return 0
