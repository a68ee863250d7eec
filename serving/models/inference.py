"""Predict on a loaded version, on numpy arrays, with the checks, order and messages of TF
Serving's ``predict_util.cc`` and ``util.cc`` (method names unchecked, as TF Serving's default).
"""

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from tfx_kfp.serving.protocol.errors import FailedPrecondition, InvalidArgument
from tfx_kfp.serving.protocol.json_codec import is_proto_text
from tfx_kfp.serving.protocol.rest_request import DEFAULT_SIGNATURE
from tfx_kfp.serving.models.servable import LoadedVersion
from tfx_kfp.serving.protocol.tensors import dtype_name, numpy_to_dtype_enum, tensor_proto_to_ndarray

__all__ = ["find_signature", "predict"]


def find_signature(version: LoadedVersion, name: str):
    """Returns the SignatureDef called ``name``, or None (also for non-UTF-8 names)."""
    return version.signature_defs.get(name) if is_proto_text(name) else None


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
    """``RunPredict`` on inputs (alias -> array or TensorProto), returning the signature name
    used and alias -> output array (all outputs when ``output_filter`` is empty)."""
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
