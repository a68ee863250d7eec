"""The environment every task's container runs with: TFX's stack on Keras 2.

TFX 1.16's Transform and Trainer support only Keras 2 (``tensorflow_transform/keras_lib.py`` sets
``TF_USE_LEGACY_KERAS=1`` when it is the first to import TensorFlow), and TF Serving's TF1
SavedModel loader cannot restore a Keras 3 model saved with ``tf.saved_model.save``
(tensorflow/serving#2250, keras-team/keras#19274). TensorFlow reads the variable when it is
first imported (``tensorflow/__init__.py``, TF 2.16), so it must be in the environment before
any task imports TensorFlow: the pipelines put it into every task's container ``env`` in the
compiled spec, the runtime image sets it too, and local runs apply the spec's ``env``.
"""

import os
import sys
from typing import Dict, Mapping, Optional

LEGACY_KERAS = "TF_USE_LEGACY_KERAS"
TASK_ENVIRONMENT: Dict[str, str] = {LEGACY_KERAS: "1"}
# tensorflow/__init__.py (TF 2.16): the values that select Keras 2.
LEGACY_KERAS_VALUES = ("true", "True", "1")


def set_on(task) -> None:
    """Adds ``TASK_ENVIRONMENT`` to a KFP ``PipelineTask``'s container env (the compiled spec)."""
    for name, value in TASK_ENVIRONMENT.items():
        task.set_env_variable(name, value)


def spec_env(container: Mapping) -> Dict[str, str]:
    """The ``env`` of a compiled container spec (``[{name, value}]``) as a dict."""
    return {item["name"]: item.get("value", "") for item in container.get("env", [])}


def effective(spec: Mapping[str, str], environ: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """A local task's environment variables from its spec; a variable the caller set explicitly wins.

    ``TF_USE_LEGACY_KERAS=0 tfx-kfp run …`` runs the tasks on Keras 3 although the spec says 1.
    """
    environ = os.environ if environ is None else environ
    return {name: environ.get(name, value) for name, value in spec.items()}


def tensorflow_keras_mismatch(env: Mapping[str, str]) -> Optional[str]:
    """Why ``env`` cannot take effect in this process: TensorFlow was already imported the other way."""
    tf = sys.modules.get("tensorflow")
    if tf is None or LEGACY_KERAS not in env or not hasattr(tf, "_tf_uses_legacy_keras"):
        return None
    wanted = env[LEGACY_KERAS] in LEGACY_KERAS_VALUES
    if bool(tf._tf_uses_legacy_keras) == wanted:
        return None
    return (f"TensorFlow was imported in this process before the run with {LEGACY_KERAS} "
            f"{'unset or off' if wanted else 'on'}, so in-process tasks use Keras {'3' if wanted else '2'} although "
            f"the spec asks for {LEGACY_KERAS}={env[LEGACY_KERAS]}; set it before TensorFlow is imported, "
            "or use --runner subprocess")
