"""TFMA's ``EvalConfig`` proto without importing TFMA (whose package imports TensorFlow and Beam).

The up-front argument check parses a user's EvalConfig strictly before the first stage, in the
process that starts the run, which must not pay TensorFlow's import. The generated module
``tensorflow_model_analysis/proto/config_pb2.py`` needs only protobuf, so it is loaded from its file
without its package. Its descriptor goes into protobuf's default pool under the same file name, so
a later ``from tensorflow_model_analysis.proto import config_pb2`` in the same process returns the
very same message classes (tests/executors/test_tfma_protos.py fails if that stops being so).
"""

import functools
import importlib.util
import os

from google.protobuf import json_format

from tfx_kfp.runtime.errors import InputError

# The TFMA lines of the two supported stacks: TFX 1.16 (0.47) and TFX 1.21 (0.52).
SUPPORTED_TFMA_PREFIXES = ("0.47.", "0.52.")


@functools.lru_cache(maxsize=None)
def config_pb2():
    """``tensorflow_model_analysis.proto.config_pb2``, loaded from its file (its package not imported)."""
    from importlib import metadata

    version = metadata.version("tensorflow-model-analysis")
    if not version.startswith(SUPPORTED_TFMA_PREFIXES):
        supported = " and ".join(f"{prefix}x" for prefix in SUPPORTED_TFMA_PREFIXES)
        raise RuntimeError(f"tfx_kfp.runtime.tfma_protos supports tensorflow-model-analysis {supported}, "
                           f"found {version}")
    # config.proto imports google/protobuf/wrappers.proto; TFMA 0.52's generated module (unlike 0.47's)
    # leaves loading it to the package, so it must be in the default pool before the module is built.
    from google.protobuf import wrappers_pb2  # noqa: F401

    package = importlib.util.find_spec("tensorflow_model_analysis")
    path = os.path.join(os.path.dirname(package.origin), "proto", "config_pb2.py")
    spec = importlib.util.spec_from_file_location("_tfx_kfp_tfma_config_pb2", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_eval_config(where: str, text: str):
    """A TFMA ``EvalConfig`` from JSON, strictly: an unknown field or a wrong shape is an ``InputError``."""
    config = config_pb2().EvalConfig()
    try:
        json_format.Parse(text, config)
    except json_format.ParseError as e:
        raise InputError(where, "not a valid TFMA EvalConfig in JSON", field="eval_config_json",
                         received=str(e)) from e
    return config
