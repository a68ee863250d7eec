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

Each is a context manager that restores TensorFlow on exit; WORKAROUNDS lists the release lines
that need each, and ``tests/executors/test_tf_workarounds.py`` fails when the installed TensorFlow
changes what a workaround relies on.
"""

import contextlib
from typing import Dict, Iterator, Tuple

# TensorFlow release line -> the workarounds it needs (names of the context managers below).
WORKAROUNDS: Dict[str, Tuple[str, ...]] = {
    "2.16.": ("keras2_not_autographed",),
}
KERAS2_PACKAGE = "tf_keras"


def needed(name: str, version: str) -> bool:
    """Whether TensorFlow ``version`` needs the workaround ``name``."""
    return any(version.startswith(line) and name in names for line, names in WORKAROUNDS.items())


@contextlib.contextmanager
def keras2_not_autographed() -> Iterator[None]:
    """AutoGraph leaves tf_keras's own functions unconverted inside the block, as TF 2.21 does."""
    import tensorflow as tf

    if not needed("keras2_not_autographed", tf.__version__):
        yield
        return
    from tensorflow.python.autograph.core import config

    saved = config.CONVERSION_RULES
    config.CONVERSION_RULES = saved + (config.DoNotConvert(KERAS2_PACKAGE),)
    try:
        yield
    finally:
        config.CONVERSION_RULES = saved
