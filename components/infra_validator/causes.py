"""Known causes of a model failing in TF Serving's stack, told with their fixes."""

from typing import Iterable, Optional

# TF Serving's TF1 loader restores only the variables a SavedModel's object graph lists; a Keras 3
# model saved with tf.saved_model.save keeps its variables elsewhere, so the first request fails
# reading them (tensorflow/serving#2250, keras-team/keras#19274).
KERAS3_SYMPTOM = "Could not find variable"
KERAS3_CAUSE = ("a Keras 3 model exported with tf.saved_model.save, whose variables TF Serving's TF1 loader "
                "does not restore (tensorflow/serving#2250); fix: train on Keras 2 (TF_USE_LEGACY_KERAS=1, "
                "which tfx-kfp sets unless you override it) or export with keras.export.ExportArchive")


def known_cause(reasons: Iterable[str]) -> Optional[str]:
    """The cause and its fixes, when a failure reads like one we know."""
    return KERAS3_CAUSE if any(KERAS3_SYMPTOM in reason for reason in reasons) else None
