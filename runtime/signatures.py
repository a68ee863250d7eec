"""Reads a SavedModel's serving signatures from ``saved_model.pb`` without loading the model."""

import os
from typing import Dict

SignatureInfo = Dict[str, Dict[str, Dict[str, dict]]]


def read_signatures(saved_model_dir: str) -> SignatureInfo:
    """Signature name → {"inputs"|"outputs": tensor name → {"dtype", "shape"}}; -1 is any size."""
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    with open(os.path.join(saved_model_dir, "saved_model.pb"), "rb") as f:
        saved_model.ParseFromString(f.read())

    def tensors(mapping) -> Dict[str, dict]:
        return {
            name: {
                "dtype": tf.dtypes.as_dtype(info.dtype).name,
                "shape": None if info.tensor_shape.unknown_rank else [d.size for d in info.tensor_shape.dim],
            }
            for name, info in sorted(mapping.items())
        }

    return {
        name: {"inputs": tensors(sig.inputs), "outputs": tensors(sig.outputs)}
        for name, sig in sorted(saved_model.meta_graphs[0].signature_def.items())
        if not name.startswith("__")
    }
