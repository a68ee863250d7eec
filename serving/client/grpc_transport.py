"""The gRPC side of ``ServingClient``: REST-style documents in, gRPC calls, responses rendered
as the REST API renders them (signature input types fetched and cached for a few seconds).
"""

import time
from typing import Any, Dict, Optional, Tuple

import grpc

from tfx_kfp.serving.client.protos import message_class
from tfx_kfp.serving.protocol.errors import error_for_code
from tfx_kfp.serving.protocol.json_codec import parse_json
from tfx_kfp.serving.protocol.rest_examples import examples_parts_from_json
from tfx_kfp.serving.protocol.rest_request import predict_inputs_from_json, signature_inputs
from tfx_kfp.serving.protocol.rest_response import (
    classify_body, message_to_dict, predict_response_json, regress_body,
)
from tfx_kfp.serving.protocol.tensors import ndarray_to_tensor_proto, tensor_proto_to_ndarray

__all__ = ["GrpcTransport"]

_SIGNATURE_CACHE_SECONDS = 10.0
# method -> (service, request message, response message), all in package tensorflow.serving.
_RPCS = {
    "Predict": ("PredictionService", "PredictRequest", "PredictResponse"),
    "Classify": ("PredictionService", "ClassificationRequest", "ClassificationResponse"),
    "Regress": ("PredictionService", "RegressionRequest", "RegressionResponse"),
    "GetModelMetadata": ("PredictionService", "GetModelMetadataRequest",
                         "GetModelMetadataResponse"),
    "GetModelStatus": ("ModelService", "GetModelStatusRequest", "GetModelStatusResponse"),
}


class GrpcTransport:
    """Calls one server's gRPC API for a ``ServingClient`` (its host, port and timeout)."""

    def __init__(self, client):
        self._client = client
        host = f"[{client.host}]" if ":" in client.host else client.host
        self._channel = grpc.insecure_channel(
            f"{host}:{client.grpc_port}", options=[("grpc.max_receive_message_length", -1),
                                                   ("grpc.max_send_message_length", -1)])
        self._stubs: Dict[str, Any] = {}
        self._signatures: Dict[Tuple, Tuple[float, Any]] = {}

    def close(self) -> None:
        self._channel.close()

    def call(self, verb: str, model_name: str, version: Optional[int],
             version_label: Optional[str], doc: Optional[Dict[str, Any]]) -> Any:
        """Runs ``verb`` (predict, classify, regress, metadata, status) as REST would answer it."""
        return getattr(self, "_" + verb)((model_name, version, version_label), doc or {})

    def _rpc(self, method: str, request):
        stub = self._stubs.get(method)
        if stub is None:
            service, request_type, response_type = _RPCS[method]
            stub = self._channel.unary_unary(
                f"/tensorflow.serving.{service}/{method}",
                request_serializer=message_class(
                    "tensorflow.serving." + request_type).SerializeToString,
                response_deserializer=message_class(
                    "tensorflow.serving." + response_type).FromString)
            self._stubs[method] = stub
        try:
            return stub(request, timeout=self._client.timeout)
        except grpc.RpcError as error:
            raise error_for_code(error.code(), error.details() or str(error)) from None

    @staticmethod
    def _request(method: str, model, signature_name: str = ""):
        request = message_class("tensorflow.serving." + _RPCS[method][1])()
        spec = request.model_spec
        spec.name, version, version_label = model
        if version is not None:
            spec.version.value = int(version)
        elif version_label is not None:
            spec.version_label = version_label
        if signature_name:
            spec.signature_name = signature_name
        return request

    def _signature_defs(self, model):
        request = self._request("GetModelMetadata", model)
        request.metadata_field.append("signature_def")
        response = self._rpc("GetModelMetadata", request)
        signature_map = message_class("tensorflow.serving.SignatureDefMap")()
        response.metadata["signature_def"].Unpack(signature_map)
        return response.model_spec, signature_map

    def _signature_inputs(self, model, signature_name: str):
        key = (*model, signature_name)
        cached = self._signatures.get(key)
        if cached is not None and time.monotonic() - cached[0] < _SIGNATURE_CACHE_SECONDS:
            return cached[1]
        infos = signature_inputs(self._signature_defs(model)[1].signature_def, signature_name)
        self._signatures[key] = (time.monotonic(), infos)
        return infos

    def _predict(self, model, doc):
        from tfx_kfp.serving.protocol.rest_response import predict_response_json
        signature_name = doc.get("signature_name", "")
        infos = self._signature_inputs(model, signature_name)
        arrays, request_format = predict_inputs_from_json(doc, infos, signature_name)
        request = self._request("Predict", model, signature_name)
        for alias, array in arrays.items():
            ndarray_to_tensor_proto(array, request.inputs[alias])
        response = self._rpc("Predict", request)
        outputs = {alias: tensor_proto_to_ndarray(proto, alias)
                   for alias, proto in response.outputs.items()}
        return parse_json(predict_response_json(outputs, request_format))

    def _examples_request(self, method: str, model, doc):
        example_class = message_class("tensorflow.Example")
        context, examples = examples_parts_from_json(doc, example_class)
        request = self._request(method, model, doc.get("signature_name", ""))
        if context is not None:
            request.input.example_list_with_context.context.CopyFrom(context)
            request.input.example_list_with_context.examples.extend(examples)
        else:
            request.input.example_list.examples.extend(examples)
        return self._rpc(method, request)

    def _classify(self, model, doc):
        response = self._examples_request("Classify", model, doc)
        return parse_json(classify_body([[(c.label, c.score) for c in item.classes]
                                         for item in response.result.classifications]))

    def _regress(self, model, doc):
        response = self._examples_request("Regress", model, doc)
        return parse_json(regress_body([r.value for r in response.result.regressions]))

    def _metadata(self, model, doc):
        model_spec, signature_map = self._signature_defs(model)
        return {"model_spec": message_to_dict(model_spec, True),
                "metadata": {"signature_def": message_to_dict(signature_map, True)}}

    def _status(self, model, doc):
        return message_to_dict(self._rpc("GetModelStatus", self._request("GetModelStatus", model)))
