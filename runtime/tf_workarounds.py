"""Every workaround tfx-kfp applies to TensorFlow, in one place, applied explicitly.

1. ``keras2_not_autographed``: AutoGraph leaves alone the libraries its ``CONVERSION_RULES`` name.
   TensorFlow 2.16 names ``keras`` (Keras 3) but not ``tf_keras``, the Keras 2 package TFX's stack
   runs (``TF_USE_LEGACY_KERAS=1``, runtime/task_env.py), so every ``fit`` and every
   ``tf.saved_model.save`` of a Keras 2 model rewrites and recompiles thousands of tf_keras's own
   functions (read in TF 2.16.2's ``tensorflow/python/autograph/core/config.py``; TF 2.21.0's, on the
   current stack, lists ``DoNotConvert('tf_keras')``). Keras 2 is written to run unconverted: TF 2.15
   and earlier never converted it, when it was ``keras``. The rule TF 2.21 has is added while the
   block runs and removed after, around the Trainer's, Transform's and the Evaluator's TFX executors.
   TFX's taxi pipeline at 150k rows, each stage alone: the Trainer 25-30 s without, 9-10 s with it;
   Transform 21.9-22.5 s without, 18.7-19.6 s with it, the same transform graph (docs/benchmarks.md).
2. ``tft_not_autographed``: inside a user's ``tf.function`` (TFX's serving signatures call
   ``tft_layer``, Keras converts a layer's ``call``), AutoGraph also rewrites tf.Transform's and
   tfx-bsl's own functions (``TransformFeaturesLayer.call``, ``schema_as_feature_spec``,
   ``InferTensorRepresentationsFromSchema``…), in every TensorFlow release: no rule names them. Both are
   written to run unconverted: tf.Transform traces its own functions with ``autograph=False`` ("autograph
   will not affect its behavior. It will only increase tracing time", tensorflow_transform 1.16
   ``schema_inference.py``; also ``impl_helper.py``, ``saved/saved_transform_io_v2.py``). Rewriting them
   cost the taxi Trainer about 2.5 s of its 7 s at every size (docs/benchmarks.md); the signatures give
   the same values either way (tests/executors/test_tf_workarounds.py).

Each is a context manager that restores TensorFlow on exit; ``not_autographed`` applies both, around
the Trainer's, Transform's and the Evaluator's TFX executors. WORKAROUNDS lists the release lines
that need each (``ALL_RELEASES``: every one), and ``tests/executors/test_tf_workarounds.py`` fails when
the installed TensorFlow changes what a workaround relies on.
"""

import contextlib
from typing import ContextManager, Dict, Iterator, Tuple

# TensorFlow release line -> the workarounds it needs (names of the context managers below).
ALL_RELEASES = ""
WORKAROUNDS: Dict[str, Tuple[str, ...]] = {
    "2.16.": ("keras2_not_autographed",),
    ALL_RELEASES: ("tft_not_autographed",),
}
KERAS2_PACKAGE = "tf_keras"
GRAPH_MODE_PACKAGES = ("tensorflow_transform", "tfx_bsl")


def needed(name: str, version: str) -> bool:
    """Whether TensorFlow ``version`` needs the workaround ``name``."""
    return any(version.startswith(line) and name in names for line, names in WORKAROUNDS.items())


@contextlib.contextmanager
def _left_alone(name: str, packages: Tuple[str, ...]) -> Iterator[None]:
    """AutoGraph leaves ``packages`` unconverted inside the block, where workaround ``name`` is needed."""
    import tensorflow as tf

    if not needed(name, tf.__version__):
        yield
        return
    from tensorflow.python.autograph.core import config

    saved = config.CONVERSION_RULES
    config.CONVERSION_RULES = saved + tuple(config.DoNotConvert(package) for package in packages)
    try:
        yield
    finally:
        config.CONVERSION_RULES = saved


def keras2_not_autographed() -> ContextManager[None]:
    """AutoGraph leaves tf_keras's own functions unconverted inside the block, as TF 2.21 does."""
    return _left_alone("keras2_not_autographed", (KERAS2_PACKAGE,))


def tft_not_autographed() -> ContextManager[None]:
    """AutoGraph leaves tf.Transform's and tfx-bsl's own functions unconverted inside the block."""
    return _left_alone("tft_not_autographed", GRAPH_MODE_PACKAGES)


@contextlib.contextmanager
def not_autographed() -> Iterator[None]:
    """Both AutoGraph rules above, where needed."""
    with keras2_not_autographed(), tft_not_autographed():
        yield
