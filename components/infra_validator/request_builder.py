"""Builds the validation requests from real examples, as TFX's request_builder does, for REST, gRPC and warmup.

TFX's ``_TFServingRpcRequestBuilder`` needs a TFX ``Artifact`` and TFXIO and only handles Predict
signatures taking serialized examples; ours also feeds signatures whose inputs are named features
(the penguin model's ``serving_default``), so it is written here. Like TFX: one request per
example, Predict for every signature, Classify / Regress for signatures of that method.
"""

import glob
import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import classification_pb2, predict_pb2, prediction_log_pb2, regression_pb2

from tfx_kfp.components import names
from tfx_kfp.runtime.errors import InputError
from tfx_kfp.serving.models.warmup import MAX_WARMUP_RECORDS

EVAL_SPLIT = "eval"
# Method names of TF Serving's signatures (tf.saved_model.*_METHOD_NAME).
CLASSIFY = tf.saved_model.CLASSIFY_METHOD_NAME
REGRESS = tf.saved_model.REGRESS_METHOD_NAME


@dataclass
class Call:
    """One request: the client method and its keyword arguments, and the same request as a PredictionLog."""

    api: str  # "predict", "classify" or "regress"
    arguments: Dict[str, Any]
    log: prediction_log_pb2.PredictionLog


@dataclass
class SignatureRequests:
    """The requests of one signature and API, or why none could be built."""

    signature: str
    api: str
    calls: List[Call] = field(default_factory=list)
    error: str = ""


def read_eval_examples(examples_dir: str, split_names: str, num_examples: int) -> List[bytes]:
    """The first ``num_examples`` serialized tf.Examples of the ``eval`` split (GZIP TFRecords)."""
    if num_examples < 1:
        raise InputError("infra_validator", "must be at least 1", field="num_examples", received=str(num_examples))
    splits = json.loads(split_names) if split_names else []
    if splits and EVAL_SPLIT not in splits:
        raise InputError(examples_dir, f"the Examples artifact has no {EVAL_SPLIT!r} split",
                         field=names.SPLIT_NAMES, received=", ".join(splits))
    files = sorted(glob.glob(os.path.join(examples_dir, f"Split-{EVAL_SPLIT}", "*")))
    if not files:
        raise InputError(os.path.join(examples_dir, f"Split-{EVAL_SPLIT}"), "no example files in the eval split")
    compression = "GZIP" if files[0].endswith(".gz") else ""
    dataset = tf.data.TFRecordDataset(files, compression_type=compression).take(num_examples)
    records = [record.numpy() for record in dataset]
    if not records:
        raise InputError(files[0], "the eval split holds no examples")
    return records


def _feature_values(example: tf.train.Example, name: str, dtype: tf.DType) -> np.ndarray:
    """A feature's values as ``dtype``; raises ValueError naming the feature and the rule broken."""
    if name not in example.features.feature:
        raise ValueError(f"input {name!r}: the examples have no feature {name!r}")
    feature = example.features.feature[name]
    kind = feature.WhichOneof("kind")
    if dtype == tf.string:
        if kind != "bytes_list":
            raise ValueError(f"input {name!r} takes strings; the feature is a {kind}")
        return np.array(list(feature.bytes_list.value), dtype=object)
    if kind == "int64_list" and (dtype.is_integer or dtype.is_floating or dtype == tf.bool):
        return np.array(feature.int64_list.value, dtype=dtype.as_numpy_dtype)
    if kind == "float_list" and dtype.is_floating:
        return np.array(feature.float_list.value, dtype=dtype.as_numpy_dtype)
    raise ValueError(f"input {name!r} takes {dtype.name}; the feature is a {kind}")


def _batch_of_one(values: np.ndarray, tensor_shape, name: str) -> np.ndarray:
    """Shapes one example's values as a batch of one for an input of shape ``tensor_shape``."""
    if tensor_shape.unknown_rank:  # most such inputs take a 1-D batch, e.g. serialized examples
        return values.reshape([-1])
    dims = [d.size for d in tensor_shape.dim]
    target = [1] + [d if d >= 0 else -1 for d in dims[1:]] if dims else []
    try:
        return values.reshape(target)
    except ValueError:
        raise ValueError(f"input {name!r} of shape {dims}: the feature has {values.size} value(s) per example") from None


def _takes_serialized_examples(signature_def, example: tf.train.Example) -> bool:
    """One string input that is not itself a feature: it takes serialized tf.Examples."""
    if len(signature_def.inputs) != 1:
        return False
    (name, info), = signature_def.inputs.items()
    return info.dtype == tf.string.as_datatype_enum and name not in example.features.feature


def _predict_call(model_name: str, signature: str, signature_def, record: bytes) -> Call:
    example = tf.train.Example.FromString(record)
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature
    inputs = {}
    if _takes_serialized_examples(signature_def, example):
        (name, info), = signature_def.inputs.items()
        inputs[name] = _batch_of_one(np.array([record], dtype=object), info.tensor_shape, name)
    else:
        for name, info in sorted(signature_def.inputs.items()):
            dtype = tf.dtypes.as_dtype(info.dtype)
            inputs[name] = _batch_of_one(_feature_values(example, name, dtype), info.tensor_shape, name)
    for name, array in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(array, dtype=signature_def.inputs[name].dtype))
    log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
    return Call("predict", {"inputs": inputs, "signature_name": signature}, log)


def _example_json(example: tf.train.Example) -> Dict[str, list]:
    """A tf.Example as the REST API's example object: feature name → its values (bytes become b64)."""
    values = {}
    for name, feature in example.features.feature.items():
        kind = feature.WhichOneof("kind")
        values[name] = list(getattr(feature, kind).value) if kind else []
    return values


def _example_call(api: str, model_name: str, signature: str, record: bytes) -> Call:
    example = tf.train.Example.FromString(record)
    request = (classification_pb2.ClassificationRequest() if api == "classify"
               else regression_pb2.RegressionRequest())
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature
    request.input.example_list.examples.append(example)
    log = (prediction_log_pb2.PredictionLog(classify_log=prediction_log_pb2.ClassifyLog(request=request))
           if api == "classify" else
           prediction_log_pb2.PredictionLog(regress_log=prediction_log_pb2.RegressLog(request=request)))
    return Call(api, {"examples": [_example_json(example)], "signature_name": signature}, log)


def _build(signature: str, api: str, make: Callable[[bytes], Call], records: List[bytes]) -> SignatureRequests:
    result = SignatureRequests(signature, api)
    try:
        result.calls = [make(record) for record in records]
    except ValueError as error:
        result.error = f"cannot build {api} requests from the eval examples: {error}"
    return result


def build_requests(model_name: str, signature_defs, records: List[bytes]) -> List[SignatureRequests]:
    """Requests for every serving signature (names starting with ``__`` are TF's own, not served)."""
    plans = []
    for signature, signature_def in sorted(signature_defs.items()):
        if signature.startswith("__"):
            continue
        plans.append(_build(signature, "predict",
                            lambda record: _predict_call(model_name, signature, signature_def, record), records))
        for api, method in (("classify", CLASSIFY), ("regress", REGRESS)):
            if signature_def.method_name == method:
                plans.append(_build(signature, api,
                                    lambda record, api=api: _example_call(api, model_name, signature, record),
                                    records))
    return plans


def warmup_logs(plans: List[SignatureRequests]) -> List[prediction_log_pb2.PredictionLog]:
    """The validated requests as PredictionLogs (TFX's ``make_warmup``), at most TF Serving's limit."""
    logs = [call.log for plan in plans for call in plan.calls]
    return logs[:MAX_WARMUP_RECORDS]
