"""Classify, Regress and MultiInference on serialized tf.Examples.

The checks, their order and their messages follow TF Serving's ``classifier.cc``,
``regressor.cc``, ``multi_inference.cc`` and ``util.cc``.
"""

from typing import List, Optional, Sequence, Tuple

import numpy as np

from tfx_kfp.serving.protocol.errors import FailedPrecondition, InvalidArgument, Unimplemented
from tfx_kfp.serving.models.inference import find_signature
from tfx_kfp.serving.protocol.rest_request import DEFAULT_SIGNATURE
from tfx_kfp.serving.models.servable import LoadedVersion
from tfx_kfp.serving.protocol.tensors import (
    DT_FLOAT, DT_STRING, dtype_name, numpy_to_dtype_enum, shape_string,
)

__all__ = ["CLASSIFY_METHOD", "REGRESS_METHOD", "Classes", "classify", "regress",
           "multi_inference"]

CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"


def _signature_debug_string(signature) -> str:
    from google.protobuf import text_format

    return text_format.MessageToString(signature)


def _examples_signature(version: LoadedVersion, signature_name: str):
    name = signature_name or DEFAULT_SIGNATURE
    signature = find_signature(version, name)
    if signature is None:
        raise InvalidArgument(f"No signature was found with the name: {name}")
    return signature


def _preprocess_classification(signature) -> Tuple[str, List[str]]:
    if len(signature.inputs) != 1:
        raise InvalidArgument("Expected one input Tensor.")
    if len(signature.outputs) not in (1, 2):
        raise InvalidArgument(
            f"Expected one or two output Tensors, found {len(signature.outputs)}")
    if "inputs" not in signature.inputs:
        raise InvalidArgument("No classification inputs found in SignatureDef: "
                              + _signature_debug_string(signature))
    classes = signature.outputs.get("classes") if "classes" in signature.outputs else None
    scores = signature.outputs.get("scores") if "scores" in signature.outputs else None
    if classes is None and scores is None:
        raise InvalidArgument(
            'Expected classification signature outputs to contain at least one of "classes" '
            'or "scores". Signature was: ' + _signature_debug_string(signature))
    outputs = [info.name for info in (classes, scores) if info is not None]
    return signature.inputs["inputs"].name, outputs


def _preprocess_regression(signature) -> Tuple[str, List[str]]:
    if len(signature.inputs) != 1:
        raise InvalidArgument("Expected one input Tensor.")
    if len(signature.outputs) != 1:
        raise InvalidArgument("Expected one output Tensor.")
    if "inputs" not in signature.inputs:
        raise InvalidArgument("No regression inputs found in SignatureDef: "
                              + _signature_debug_string(signature))
    if "outputs" not in signature.outputs:
        raise InvalidArgument("No regression outputs found in SignatureDef: "
                              + _signature_debug_string(signature))
    return signature.inputs["inputs"].name, [signature.outputs["outputs"].name]


# Each example's (label, score) pairs, as TF Serving's ClassificationResult holds them.
Classes = List[List[Tuple[bytes, float]]]


def _postprocess_classification(signature, num_examples: int, fetch_names: Sequence[str],
                                values: Sequence[np.ndarray]) -> Classes:
    if len(values) != len(fetch_names):
        raise InvalidArgument(
            f"Expected {len(fetch_names)} output tensor(s).  Got: {len(values)}")
    by_name = dict(zip(fetch_names, values))
    classes_name = signature.outputs["classes"].name if "classes" in signature.outputs else None
    scores_name = signature.outputs["scores"].name if "scores" in signature.outputs else None
    classes = by_name.get(classes_name) if classes_name else None
    scores = by_name.get(scores_name) if scores_name else None
    for kind, array, dtype in (("classes", classes, DT_STRING), ("scores", scores, DT_FLOAT)):
        if array is None:
            continue
        if array.ndim != 2:
            raise InvalidArgument("Expected Tensor shape: [batch_size num_classes] but got "
                                  + shape_string(array.shape))
        if numpy_to_dtype_enum(array) != dtype:
            raise InvalidArgument(f"Expected {kind} Tensor of DT_{dtype_name(dtype).upper()}. Got: "
                                  f"DT_{dtype_name(numpy_to_dtype_enum(array)).upper()}")
        if array.shape[0] != num_examples:
            raise InvalidArgument(f"Expected {kind} output batch size of {num_examples}. "
                                  f"Got: {array.shape[0]}")
    if classes is not None and scores is not None and classes.shape[1] != scores.shape[1]:
        raise InvalidArgument("Tensors class and score should match in dim_size(1). Got "
                              f"{classes.shape[1]} vs. {scores.shape[1]}")
    source = classes if classes is not None else scores
    num_classes = source.shape[1] if source is not None else 0  # missing: TF Serving's defaults
    label_rows = classes.tolist() if classes is not None else [[b""] * num_classes] * num_examples
    score_rows = scores.tolist() if scores is not None else [[0.0] * num_classes] * num_examples
    return [list(zip(labels, scores)) for labels, scores in zip(label_rows, score_rows)]


def _postprocess_regression(signature, num_examples: int, fetch_names: Sequence[str],
                            values: Sequence[np.ndarray]) -> np.ndarray:
    if len(values) != len(fetch_names):
        raise InvalidArgument(
            "Expected output_tensors and output_tensor_names to have the same size.")
    if "outputs" not in signature.outputs:
        raise FailedPrecondition("No regression outputs found in SignatureDef: "
                                 + _signature_debug_string(signature))
    output_name = signature.outputs["outputs"].name
    by_name = dict(zip(fetch_names, values))
    if output_name not in by_name:
        raise InvalidArgument(f"Could not find output tensor '{output_name}'")
    output = by_name[output_name]
    if not (output.ndim == 1 or (output.ndim == 2 and output.shape[1] == 1)):
        raise InvalidArgument("Expected output Tensor shape to be either [batch_size] or "
                              "[batch_size, 1] but got " + shape_string(output.shape))
    if output.shape[0] != num_examples:
        raise InvalidArgument("Input batch size did not match output batch size: "
                              f"{num_examples} vs. {output.shape[0]}")
    if numpy_to_dtype_enum(output) != DT_FLOAT:
        raise InvalidArgument("Expected output Tensor of DT_FLOAT.  Got: DT_"
                              + dtype_name(numpy_to_dtype_enum(output)).upper())
    if output.size != num_examples:
        raise InvalidArgument(f"Expected output batch size to be {num_examples}.  Got: "
                              f"{output.size}")
    return output.reshape(-1)


def _examples_tensor(serialized: Sequence[bytes]) -> np.ndarray:
    if not serialized:
        raise InvalidArgument("Input is empty.")
    array = np.empty(len(serialized), dtype=object)
    array[:] = list(serialized)
    return array


_STEPS = {CLASSIFY_METHOD: (_preprocess_classification, _postprocess_classification),
          REGRESS_METHOD: (_preprocess_regression, _postprocess_regression)}


def _run(version: LoadedVersion, signature_name: str, serialized: Sequence[bytes],
         timeout_ms: Optional[int], preprocess, postprocess):
    signature = _examples_signature(version, signature_name)
    input_name, fetches = preprocess(signature)
    values = version.run([(input_name, _examples_tensor(serialized))], fetches, timeout_ms)
    return postprocess(signature, len(serialized), fetches, values)


def classify(version: LoadedVersion, signature_name: str, serialized: Sequence[bytes],
             timeout_ms: Optional[int] = None) -> Classes:
    """Runs a classification signature on serialized tf.Examples (``RunClassify``)."""
    return _run(version, signature_name, serialized, timeout_ms, _preprocess_classification,
                _postprocess_classification)


def regress(version: LoadedVersion, signature_name: str, serialized: Sequence[bytes],
            timeout_ms: Optional[int] = None) -> np.ndarray:
    """Runs a regression signature on serialized tf.Examples (``RunRegress``): float32 values."""
    return _run(version, signature_name, serialized, timeout_ms, _preprocess_regression,
                _postprocess_regression)


def multi_inference(version: LoadedVersion, tasks: Sequence[Tuple[str, str, str]],
                    serialized: Sequence[bytes], timeout_ms: Optional[int] = None):
    """Runs (model name, signature name, method name) tasks on shared tf.Examples in one
    session run; returns per task ``Classes`` or a float32 regression array."""
    model_name = ""
    seen_signatures = set()
    input_names = set()
    output_names = set()
    signatures = []
    for task_model, task_signature, method in tasks:
        if not task_model:
            raise InvalidArgument("Found ModelSpec with an empty model name.")
        if not model_name:
            model_name = task_model
        elif model_name != task_model:
            raise InvalidArgument(
                "All ModelSpecs in a MultiInferenceRequest must access the same model name.")
        name = task_signature or DEFAULT_SIGNATURE
        if name in seen_signatures:
            raise InvalidArgument(f"Duplicate evaluation of signature: {name}")
        seen_signatures.add(name)
        signature = find_signature(version, name)
        if signature is None:
            raise InvalidArgument(f"Requested signature not found in model graph: {name}")
        if method not in _STEPS:
            raise Unimplemented(f"Unsupported signature method_name: {method}")
        preprocess, postprocess = _STEPS[method]
        input_name, outputs = preprocess(signature)
        input_names.add(input_name)
        output_names.update(outputs)
        signatures.append((signature, postprocess))
    fetches = sorted(output_names)
    examples = _examples_tensor(serialized)
    values = version.run([(name, examples) for name in sorted(input_names)], fetches,
                         timeout_ms)
    return [postprocess(signature, len(serialized), fetches, values)
            for signature, postprocess in signatures]
