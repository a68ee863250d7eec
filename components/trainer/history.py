"""Reads the Keras training history back from TensorBoard event files.

TFX modules log through ``tf.keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir)``;
the ``train`` and ``validation`` folders hold one ``epoch_<metric>`` scalar per epoch.
"""

import glob
import os
from typing import Dict, List


def read_history(model_run_dir: str) -> Dict[str, List[float]]:
    """Returns a Keras-style history: ``loss``, ``val_loss``, ``<metric>``, ``val_<metric>``."""
    import tensorflow as tf

    history: Dict[str, Dict[int, float]] = {}
    for folder, prefix in (("train", ""), ("validation", "val_")):
        for event_file in sorted(glob.glob(os.path.join(model_run_dir, "**", folder, "events.out.tfevents.*"),
                                           recursive=True)):
            for event in tf.compat.v1.train.summary_iterator(event_file):
                for value in event.summary.value:
                    if not value.tag.startswith("epoch_"):
                        continue
                    if value.HasField("tensor"):
                        number = float(tf.make_ndarray(value.tensor))
                    else:
                        number = float(value.simple_value)
                    history.setdefault(prefix + value.tag[len("epoch_"):], {})[event.step] = number
    return {name: [by_step[s] for s in sorted(by_step)] for name, by_step in sorted(history.items())}
