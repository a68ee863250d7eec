"""What the default evaluation needs to know about a model, read from its serving signatures.

The default EvalConfig fits the model: a signature on serialized tf.Examples for TFMA, one score per
class (multi-class: ``SparseCategoricalAccuracy``, a multi-class confusion matrix) or one sigmoid
score (binary: ``BinaryAccuracy``, a confusion matrix at 0.5), and the label as the model was trained
on it (through TFX's ``transform_features`` signature when the module exports one, as TFX's taxi
example does). What cannot be told from the signatures is an error naming ``eval_config_json``.
"""

from dataclasses import dataclass
from typing import Dict, Optional

from tfx_kfp.runtime.errors import InputError

BINARY, MULTI_CLASS = "binary", "multi-class"
EXAMPLES_SIGNATURES = ("serving_examples", "serving_default")
# TFX's examples (taxi_utils_native_keras.py, penguin_utils_*.py) export the Transform graph as this
# signature and evaluate with it as TFMA's preprocessing function; their transformed features are
# named ``<raw name>_xf`` (``_transformed_name``).
TRANSFORM_FEATURES = "transform_features"
TRANSFORMED_SUFFIX = "_xf"
WHERE = "evaluator"
FIX = "set eval_config_json (a TFMA EvalConfig) to say how to evaluate it"


@dataclass(frozen=True)
class ModelFit:
    """The default evaluation's choices for one model."""

    signature_name: str
    kind: str  # BINARY or MULTI_CLASS
    num_classes: int
    label_key: str
    preprocessing_function: str = ""  # "" or TRANSFORM_FEATURES


def examples_signature(signatures: Dict[str, dict], where: str = WHERE) -> str:
    """The first signature that takes a single string tensor (serialized tf.Examples).

    TFMA feeds serialized examples. Our exported models keep ``serving_default`` for raw feature
    values and add ``serving_examples``; TFX-style modules export ``serving_default`` on examples.
    """
    for name in EXAMPLES_SIGNATURES:
        inputs = signatures.get(name, {}).get("inputs", {})
        if len(inputs) == 1 and next(iter(inputs.values()))["dtype"] == "string":
            return name
    raise InputError(where, f"model needs a signature taking serialized tf.Examples for evaluation; "
                     f"looked for {', '.join(EXAMPLES_SIGNATURES)}", received=", ".join(sorted(signatures)))


def classes(outputs: Dict[str, dict], signature_name: str, where: str = WHERE) -> int:
    """1 for one sigmoid/logit score per example, else the number of class scores."""
    described = ", ".join(f"{name} {info['shape']}" for name, info in outputs.items())
    if len(outputs) != 1:
        raise InputError(where, f"signature {signature_name} has {len(outputs)} outputs; the default evaluation "
                         f"needs one (a score per class, or one sigmoid score): {FIX}", received=described)
    shape = next(iter(outputs.values()))["shape"]
    if shape is not None and len(shape) <= 1:
        return 1
    if shape is None or shape[-1] < 1:
        raise InputError(where, f"signature {signature_name}'s output has no fixed last dimension, so it is "
                         f"neither one score nor one score per class as far as its signature tells: {FIX}",
                         received=described)
    return shape[-1]


def transformed_label(signatures: Dict[str, dict], label_key: str) -> Optional[str]:
    """The label as ``transform_features`` outputs it (same name or ``<label>_xf``), if the model has one."""
    outputs = signatures.get(TRANSFORM_FEATURES, {}).get("outputs", {})
    return next((name for name in (label_key, label_key + TRANSFORMED_SUFFIX) if name in outputs), None)


def fit(signatures: Dict[str, dict], label_key: str, where: str = WHERE, *, signature_only: bool = False) -> ModelFit:
    """The default evaluation's choices for a model with these signatures (``read_signatures``).

    ``signature_only``: just the examples signature (a user's EvalConfig says the rest).
    """
    signature = examples_signature(signatures, where)
    if signature_only:
        return ModelFit(signature_name=signature, kind="", num_classes=0, label_key=label_key)
    count = classes(signatures[signature]["outputs"], signature, where)
    transformed = transformed_label(signatures, label_key)
    return ModelFit(signature_name=signature, kind=BINARY if count == 1 else MULTI_CLASS,
                    num_classes=max(count, 2), label_key=transformed or label_key,
                    preprocessing_function=TRANSFORM_FEATURES if transformed else "")
