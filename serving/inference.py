"""Predict, Classify, Regress and MultiInference on a loaded version.

The checks, their order and their messages follow TF Serving's
``predict_util.cc``, ``classifier.cc``, ``regressor.cc``,
``multi_inference.cc`` and ``util.cc`` (signature method names are not
enforced, as with TF Serving's default ``--enable_signature_method_name_check=false``).
Inputs and outputs are numpy arrays; the REST and gRPC front ends convert.
"""

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from tfx_kfp.serving.errors import (
    FailedPrecondition,
    InvalidArgument,
    Unimplemented,
)
from tfx_kfp.serving.json_reader import is_proto_text
from tfx_kfp.serving.servable import LoadedVersion
from tfx_kfp.serving.tensor_codec import (
    DT_FLOAT,
    DT_STRING,
    dtype_name,
    numpy_to_dtype_enum,
    tensor_proto_to_ndarray,
)

__all__ = [
    "DEFAULT_SIGNATURE",
    "CLASSIFY_METHOD",
    "REGRESS_METHOD",
    "PREDICT_METHOD",
    "predict",
    "predict_input_infos",
    "classify",
    "regress",
    "multi_inference",
    "ClassificationOutput",
]

DEFAULT_SIGNATURE = "serving_default"
PREDICT_METHOD = "tensorflow/serving/predict"
CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"


def find_signature(version: LoadedVersion, name: str):
    """Returns the SignatureDef called ``name``, or None (also for non-UTF-8 names)."""
    return version.signature_defs.get(name) if is_proto_text(name) else None


def _signature_debug_string(signature) -> str:
    from google.protobuf import text_format

    return text_format.MessageToString(signature)


def predict_input_infos(version: LoadedVersion, signature_name: str):
    """Returns the signature's input TensorInfos for the REST request parser.

    Raises:
        InvalidArgument: TF Serving's REST message when the signature is missing.
    """
    name = signature_name or DEFAULT_SIGNATURE
    signature = find_signature(version, name)
    if signature is None:
        raise InvalidArgument(f'Serving signature name: "{name}" not found in signature def')
    return signature.inputs


def _verify_inputs_size(signature, request_names: Sequence[str]) -> None:
    sent, expected = len(request_names), len(signature.inputs)
    if sent > expected or (sent < expected and not signature.defaults):
        request_set, signature_set = set(request_names), set(signature.inputs)
        raise InvalidArgument(
            f"input size does not match signature: {sent}!={expected} "
            f"len({{{','.join(sorted(request_set))}}}) != "
            f"len({{{','.join(sorted(signature_set))}}}). "
            f"Sent extra: {{{','.join(sorted(request_set - signature_set))}}}. "
            f"Missing but required: {{{','.join(sorted(signature_set - request_set))}}}.")


def _check_feed(alias: str, info, value: np.ndarray, index: int) -> np.ndarray:
    expected = info.dtype
    given = numpy_to_dtype_enum(value)
    if given != expected:
        raise InvalidArgument(
            f"Expects arg[{index}] to be {dtype_name(expected)} but {dtype_name(given)} "
            "is provided")
    # No shape check: TF Serving feeds Session::Run, which does not enforce the
    # signature's declared shape (half_plus_two declares [-1,1] and takes [3]).
    return value


def _gather_feeds(signature, inputs: Dict[str, object]) -> List[Tuple[str, np.ndarray]]:
    """GetInputValues: resolves defaults, decodes protos, checks dtypes and shapes."""
    seen = set()
    feeds = []
    aliases = sorted(signature.inputs)
    for index, alias in enumerate(aliases):
        info = signature.inputs[alias]
        if alias in inputs:
            value = inputs[alias]
            seen.add(alias)
        elif alias in signature.defaults:
            value = signature.defaults[alias]
        else:
            raise InvalidArgument(
                f"Signature input alias: {alias}(feed name: {info.name}) not found in "
                f"request and no default value provided. Inputs expected to be in the "
                f"request {{{','.join(sorted(inputs))}}}, or default input alias set: "
                f"{','.join(sorted(signature.defaults))}")
        if not isinstance(value, np.ndarray):
            value = tensor_proto_to_ndarray(value, alias)
        feeds.append((info.name, _check_feed(alias, info, value, index)))
    if inputs and len(seen) != len(inputs):
        raise InvalidArgument(
            f"Inputs contains invalid name. Used request inputs: {','.join(sorted(seen))}, "
            f"request input: {','.join(sorted(inputs))}")
    return feeds


def predict(version: LoadedVersion, signature_name: str, inputs: Dict[str, object],
            output_filter: Sequence[str] = (), timeout_ms: Optional[int] = None
            ) -> Tuple[str, Dict[str, np.ndarray]]:
    """Runs a predict signature (TF Serving's ``RunPredict``).

    Args:
        version: The loaded version.
        signature_name: Signature key; empty means ``serving_default``.
        inputs: Alias -> numpy array or ``TensorProto``.
        output_filter: Output aliases to return; empty returns all.
        timeout_ms: Optional session run timeout.

    Returns:
        The resolved signature name and alias -> output array.
    """
    name = signature_name or DEFAULT_SIGNATURE
    signature = find_signature(version, name)
    if signature is None:
        raise FailedPrecondition(f'Serving signature key "{name}" not found.')
    _verify_inputs_size(signature, list(inputs))
    feeds = _gather_feeds(signature, inputs)
    aliases: List[str] = []
    for alias in output_filter:
        if alias not in signature.outputs:
            raise InvalidArgument(
                f"output tensor alias not found in signature: {alias} Outputs expected to "
                f"be in the set {{{','.join(sorted(signature.outputs))}}}.")
        if alias in aliases:
            raise InvalidArgument(f"duplicate output tensor alias: {alias}")
        aliases.append(alias)
    if not aliases:
        aliases = sorted(signature.outputs)
    fetches = [signature.outputs[alias].name for alias in aliases]
    values = version.run(feeds, fetches, timeout_ms)
    return name, dict(zip(aliases, values))


def _classification_signature(version: LoadedVersion, signature_name: str):
    name = signature_name or DEFAULT_SIGNATURE
    signature = find_signature(version, name)
    if signature is None:
        raise InvalidArgument(f"No signature was found with the name: {name}")
    _preprocess_classification(signature)
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
        """Returns, per example, its (label, score) pairs (TF Serving's defaults for missing ones)."""
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
    if classes is not None:
        if classes.ndim != 2:
            raise InvalidArgument("Expected Tensor shape: [batch_size num_classes] but got "
                                  + _shape_debug(classes))
        if numpy_to_dtype_enum(classes) != DT_STRING:
            raise InvalidArgument("Expected classes Tensor of DT_STRING. Got: DT_"
                                  + dtype_name(numpy_to_dtype_enum(classes)).upper())
        if classes.shape[0] != num_examples:
            raise InvalidArgument(f"Expected classes output batch size of {num_examples}. "
                                  f"Got: {classes.shape[0]}")
    if scores is not None:
        if scores.ndim != 2:
            raise InvalidArgument("Expected Tensor shape: [batch_size num_classes] but got "
                                  + _shape_debug(scores))
        if numpy_to_dtype_enum(scores) != DT_FLOAT:
            raise InvalidArgument("Expected scores Tensor of DT_FLOAT. Got: DT_"
                                  + dtype_name(numpy_to_dtype_enum(scores)).upper())
        if scores.shape[0] != num_examples:
            raise InvalidArgument(f"Expected scores output batch size of {num_examples}. "
                                  f"Got: {scores.shape[0]}")
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
    signature = _classification_signature(version, signature_name)
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
    name = signature_name or DEFAULT_SIGNATURE
    signature = find_signature(version, name)
    if signature is None:
        raise InvalidArgument(f"No signature was found with the name: {name}")
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
