"""Options of the commands that build a pipeline (``compile``, ``run``, ``demo``): which one, its parameters."""

import argparse
import os
from typing import Any, Dict

from tfx_kfp.cli import params as cli_params

# Files whose text becomes a parameter: option -> parameter.
FILE_OPTIONS = {
    "module_file": "module_source",
    "transform_module_file": "transform_module_source",
    "trainer_module_file": "trainer_module_source",
    "schema_file": "schema_pbtxt",
}
PATH_PARAMETERS = ("data_root", "serving_base_dir")


def add_module_file_options(parser: argparse.ArgumentParser, where: str = "") -> None:
    parser.add_argument("--module-file", help=f"TFX module file (preprocessing_fn and run_fn): module_source{where}.")
    parser.add_argument("--transform-module-file", help="A separate Transform module (preprocessing_fn).")
    parser.add_argument("--trainer-module-file", help="A separate Trainer module (run_fn); editing only it "
                        "re-runs only Trainer onwards.")


def add_pipeline_options(parser: argparse.ArgumentParser) -> None:
    from tfx_kfp.pipelines.presets import PARAMETER_TYPES, PIPELINES

    parser.add_argument("--pipeline", choices=PIPELINES, default="penguin",
                        help="penguin: the preset with its data and module; training: the generic pipeline "
                             "(give data_root, label_key, serving_base_dir and --module-file).")
    add_module_file_options(parser)
    parser.add_argument("--schema-file", help="A curated schema.pbtxt: use import_schema instead of schema_gen.")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help=f"A pipeline parameter; repeatable; KEY=@FILE passes a file's text. "
                             f"Keys: {', '.join(PARAMETER_TYPES)}. Lists are JSON arrays; booleans true/false.")


def file_params(args: argparse.Namespace, types: Dict[str, str]) -> Dict[str, Any]:
    """The file options given (``--module-file`` ...) as the parameters they stand for: the files' text."""
    from tfx_kfp.pipelines.argument_checks import UnknownParameter

    params = {}
    for option, key in FILE_OPTIONS.items():
        path = getattr(args, option, None)
        if path:
            flag = f"--{option.replace('_', '-')}"
            if key not in types:
                raise cli_params.UsageError(f"{flag}: {UnknownParameter(key, types).rule}")
            params[key] = cli_params.read_text(flag, path)
    return params


def _typed_params(args: argparse.Namespace, types: Dict[str, str]) -> Dict[str, Any]:
    """--param and the file options, typed by ``types`` (name -> KFP parameterType); local paths made absolute."""
    params = {**cli_params.parse_params(args.param, types), **file_params(args, types)}
    for key in PATH_PARAMETERS:
        if isinstance(params.get(key), str) and "://" not in params[key]:
            params[key] = os.path.abspath(params[key])
    return params


def pipeline_params(args: argparse.Namespace) -> Dict[str, Any]:
    """The parameters of a preset given by --param and the file options, typed by the preset's parameters."""
    from tfx_kfp.pipelines.presets import PARAMETER_TYPES

    return _typed_params(args, cli_params.kfp_types(PARAMETER_TYPES))


def build_pipeline(args: argparse.Namespace, *, target: str):
    """The pipeline the options describe, for a target ("local" or "kind")."""
    from tfx_kfp.pipelines.presets import build_pipeline as build

    return build(args.pipeline, target=target, params=pipeline_params(args))


def load_pipeline_file(path: str):
    """The compiled pipeline at ``path`` (``--pipeline-file``): checked as ``submit`` checks it, then parsed as
    strictly as a local run parses it."""
    from google.protobuf import json_format

    from tfx_kfp import cluster, local

    try:
        cluster.load_pipeline_spec(path)
        return local.load(path)
    except (cluster.ClusterError, json_format.ParseError) as e:
        raise cli_params.UsageError(f"--pipeline-file: {e}") from None

def run_arguments(args: argparse.Namespace, compiled) -> Dict[str, Any]:
    """Run arguments for a compiled pipeline: --param and the file options typed by its declarations, as
    ``submit`` types them (then checked by ``run_compiled``, as ``tfx_kfp.cluster.submit`` checks them)."""
    from tfx_kfp import local

    return _typed_params(args, cli_params.declared_types(local.declared_parameters(compiled)))
