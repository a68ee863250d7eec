"""Classify, Regress and MultiInference on serialized tf.Examples.

The checks, their order and their messages follow TF Serving's ``classifier.cc``,
``regressor.cc``, ``multi_inference.cc`` and ``util.cc``.
"""

from typing import List, Optional, Sequence, Tuple

import numpy as np

from tfx_kfp.serving.protocol.errors import FailedPrecondition, InvalidArgument, Unimplemented
from tfx_kfp.serving.models.inference import DEFAULT_SIGNATURE, find_signature
from tfx_kfp.serving.models.servable import LoadedVersion
from tfx_kfp.serving.protocol.tensors import DT_FLOAT, DT_STRING, dtype_name, numpy_to_dtype_enum

__all__ = ["CLASSIFY_METHOD", "REGRESS_METHOD", "ClassificationOutput", "classify", "regress",
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


def _shape_debug(array: np.ndarray) -> str:
    return "[" + ",".join(str(d) for d in array.shape) + "]"


class ClassificationOutput:
    """Per-example classes: ``labels`` (bytes, [N, C]) and/or ``scores`` (float32, [N, C])."""

    def __init__(self, labels: Optional[np.ndarray], scores: Optional[np.ndarray],
                 num_examples: int):
        self.labels = labels
        self.scores = scores
        self.num_examples = num_examples
        source = labels if labels is not None else scores
        self.num_classes = int(source.shape[1]) if source is not None else 0

    def rows(self) -> List[List[Tuple[bytes, float]]]:
        """Returns each example's (label, score) pairs (TF Serving's defaults for missing ones)."""
        result = []
        labels = self.labels.tolist() if self.labels is not None else None
        scores = self.scores.tolist() if self.scores is not None else None
        for i in range(self.num_examples):
            result.append([
                (labels[i][c] if labels is not None else b"",
                 scores[i][c] if scores is not None else 0.0)
                for c in range(self.num_classes)
            ])
        return result


def _postprocess_classification(signature, num_examples: int, fetch_names: Sequence[str],
                                values: Sequence[np.ndarray]) -> ClassificationOutput:
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
                                  + _shape_debug(array))
        if numpy_to_dtype_enum(array) != dtype:
            raise InvalidArgument(f"Expected {kind} Tensor of DT_{dtype_name(dtype).upper()}. Got: "
                                  f"DT_{dtype_name(numpy_to_dtype_enum(array)).upper()}")
        if array.shape[0] != num_examples:
            raise InvalidArgument(f"Expected {kind} output batch size of {num_examples}. "
                                  f"Got: {array.shape[0]}")
    if classes is not None and scores is not None and classes.shape[1] != scores.shape[1]:
        raise InvalidArgument("Tensors class and score should match in dim_size(1). Got "
                              f"{classes.shape[1]} vs. {scores.shape[1]}")
    return ClassificationOutput(classes, scores, num_examples)


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
                              "[batch_size, 1] but got " + _shape_debug(output))
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


def classify(version: LoadedVersion, signature_name: str, serialized: Sequence[bytes],
             timeout_ms: Optional[int] = None) -> ClassificationOutput:
    """Runs a classification signature on serialized tf.Examples (``RunClassify``)."""
    signature = _examples_signature(version, signature_name)
    input_name, fetches = _preprocess_classification(signature)
    examples = _examples_tensor(serialized)
    values = version.run([(input_name, examples)], fetches, timeout_ms)
    return _postprocess_classification(signature, len(serialized), fetches, values)


def regress(version: LoadedVersion, signature_name: str, serialized: Sequence[bytes],
            timeout_ms: Optional[int] = None) -> np.ndarray:
    """Runs a regression signature on serialized tf.Examples (``RunRegress``).

    Returns:
        float32 array of one value per example.
    """
    signature = _examples_signature(version, signature_name)
    input_name, fetches = _preprocess_regression(signature)
    examples = _examples_tensor(serialized)
    values = version.run([(input_name, examples)], fetches, timeout_ms)
    return _postprocess_regression(signature, len(serialized), fetches, values)


def multi_inference(version: LoadedVersion, tasks: Sequence[Tuple[str, str, str]],
                    serialized: Sequence[bytes], timeout_ms: Optional[int] = None):
    """Runs several classify/regress signatures in one session run.

    Args:
        version: The loaded version.
        tasks: (model name, signature name, method name) per task.
        serialized: The serialized tf.Examples shared by all tasks.

    Returns:
        Per task: ``ClassificationOutput`` or a float32 regression array.
    """
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
        if method == CLASSIFY_METHOD:
            input_name, outputs = _preprocess_classification(signature)
        elif method == REGRESS_METHOD:
            input_name, outputs = _preprocess_regression(signature)
        else:
            raise Unimplemented(f"Unsupported signature method_name: {method}")
        input_names.add(input_name)
        output_names.update(outputs)
        signatures.append((signature, method))
    fetches = sorted(output_names)
    examples = _examples_tensor(serialized)
    values = version.run([(name, examples) for name in sorted(input_names)], fetches,
                         timeout_ms)
    results = []
    for signature, method in signatures:
        if method == CLASSIFY_METHOD:
            results.append(_postprocess_classification(signature, len(serialized), fetches,
                                                       values))
        else:
            results.append(_postprocess_regression(signature, len(serialized), fetches, values))
    return results
