"""Shared options of the commands that build a pipeline: which one, and its parameters."""

import argparse
import json
import os
from typing import Any, Dict, List

from tfx_kfp.pipelines.training import PARAMETERS, SCHEMA_PARAMETER

PIPELINES = ("penguin", "training")


def add_pipeline_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pipeline", choices=PIPELINES, default="penguin",
                        help="penguin: the preset with its data and module; training: the generic pipeline "
                             "(give data_root, label_key, serving_base_dir and --module-file).")
    parser.add_argument("--module-file", help="TFX module file (preprocessing_fn, run_fn); its text becomes "
                        "the module_source parameter.")
    parser.add_argument("--schema-file", help="A curated schema.pbtxt: use import_schema instead of schema_gen.")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help=f"A pipeline parameter; repeatable. Keys: {', '.join(PARAMETERS)}. "
                             "Lists are JSON arrays; booleans true/false.")


def _convert(key: str, text: str, expected: type) -> Any:
    try:
        if expected is bool:
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError("expected true or false")
            return text.lower() in ("true", "1")
        if expected is list:
            value = json.loads(text)
            if not isinstance(value, list):
                raise ValueError("expected a JSON array")
            return value
        return expected(text)
    except ValueError as e:
        raise SystemExit(f"--param {key}: expected {expected.__name__}, received {text!r} ({e})") from None


def parse_params(items: List[str], module_file: str = None, schema_file: str = None) -> Dict[str, Any]:
    """``KEY=VALUE`` strings (plus module/schema files) to typed pipeline arguments."""
    known = dict(PARAMETERS, schema_pbtxt=SCHEMA_PARAMETER)
    params: Dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--param: expected KEY=VALUE, received {item!r}")
        if key not in known:
            raise SystemExit(f"--param: unknown parameter {key!r}; expected one of {', '.join(known)}")
        params[key] = _convert(key, value, known[key].type)
    for option, path, key in (("--module-file", module_file, "module_source"),
                              ("--schema-file", schema_file, "schema_pbtxt")):
        if path:
            if not os.path.isfile(path):
                raise SystemExit(f"{option}: no such file: {path}")
            with open(path) as f:
                params[key] = f.read()
    return params


def build_pipeline(name: str, *, target: str, gate_push: bool, params: Dict[str, Any]):
    """The named pipeline with ``params`` as its parameter defaults.

    Raises:
        SystemExit: naming the required parameters that have no value.
    """
    from tfx_kfp.pipelines import create_training_pipeline, penguin_pipeline

    import_schema = "schema_pbtxt" in params
    if name == "penguin":
        pipeline = penguin_pipeline(target, gate_push=gate_push, import_schema=import_schema, overrides=params)
    else:
        pipeline = create_training_pipeline("tfx-kfp-training", defaults=params, gate_push=gate_push,
                                            import_schema=import_schema)
    missing = [key for key, spec in pipeline.component_spec.inputs.items() if spec.default is None and not spec.optional]
    if missing:
        hints = {"module_source": "--module-file", "schema_pbtxt": "--schema-file"}
        raise SystemExit(f"{name} pipeline: missing required parameters: "
                         + ", ".join(f"{k} ({hints.get(k, '--param ' + k + '=...')})" for k in missing))
    return pipeline
