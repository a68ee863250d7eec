"""gRPC API: TF Serving's PredictionService and ModelService (its official servicer helpers),
plus the standard health service. Errors keep their code, messages cut at 1024 characters with
``...TRUNCATED`` (``ToGRPCStatus``); no message size cap. Anyone reaching the port can
re-point or unload every model (``HandleReloadConfigRequest``), as with TF Serving.
"""

import logging
from concurrent import futures
from typing import Callable, Optional

import grpc

from tfx_kfp.serving.models import proto_handlers
from tfx_kfp.serving.protocol.errors import InvalidArgument, ServingError, error_for_exception
from tfx_kfp.serving.models.manager import ModelManager
from tfx_kfp.serving.transport.metrics import recorded

__all__ = ["create_grpc_server", "GRPC_ERROR_MESSAGE_LIMIT"]

log = logging.getLogger(__name__)

GRPC_ERROR_MESSAGE_LIMIT = 1024


def _abort(context, error: ServingError):
    message = error.message
    if len(message) > GRPC_ERROR_MESSAGE_LIMIT:
        message = message[:GRPC_ERROR_MESSAGE_LIMIT] + "...TRUNCATED"
    context.abort(getattr(grpc.StatusCode, error.grpc_code, grpc.StatusCode.UNKNOWN), message)


def _timeout_ms(context) -> Optional[int]:
    remaining = context.time_remaining()
    if remaining is None or remaining > 1e8:
        return None
    return max(1, int(remaining * 1000))


def _handle(context, work: Callable[[], object]):
    try:
        return work()
    except Exception as error:  # noqa: BLE001 - a bad request must never kill the server
        if not isinstance(error, (ServingError, UnicodeError)):
            log.exception("gRPC request failed unexpectedly")
        _abort(context, error_for_exception(error))


def _require_model_spec(request) -> None:
    if not request.HasField("model_spec"):
        raise InvalidArgument("Missing ModelSpec")


def _servicers(manager: ModelManager, metrics, reload_timeout: float):
    from tensorflow_serving.apis import (
        classification_pb2, get_model_metadata_pb2, get_model_status_pb2, inference_pb2,
        model_management_pb2, model_pb2, model_service_pb2_grpc, predict_pb2,
        prediction_service_pb2_grpc, regression_pb2,
    )

    def run_on_version(request_spec, context, run):
        name, version, label = proto_handlers.model_spec_target(request_spec)
        with manager.acquire(name, version, label) as loaded:
            return run(loaded, _timeout_ms(context))

    def inference_rpc(method: str, run, response_class):
        def rpc(self, request, context):
            def work():
                _require_model_spec(request)
                return run_on_version(request.model_spec, context,
                                      lambda v, t: run(v, request, response_class(), t))
            return _handle(context, lambda: recorded(
                metrics, request.model_spec.name, method, "GRPC", work))
        return rpc

    class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
        """TF Serving's PredictionService."""

        Predict = inference_rpc("Predict", proto_handlers.run_predict, predict_pb2.PredictResponse)
        Classify = inference_rpc("Classify", proto_handlers.run_classify,
                                 classification_pb2.ClassificationResponse)
        Regress = inference_rpc("Regress", proto_handlers.run_regress,
                                regression_pb2.RegressionResponse)

        def MultiInference(self, request, context):  # noqa: N802
            def work():
                spec = request.tasks[0].model_spec if request.tasks else model_pb2.ModelSpec()
                return run_on_version(spec, context, lambda v, t: (
                    proto_handlers.run_multi_inference(
                        v, request, inference_pb2.MultiInferenceResponse(), t)))
            return _handle(context, work)

        def GetModelMetadata(self, request, context):  # noqa: N802
            def work():
                _require_model_spec(request)
                proto_handlers.check_metadata_request(request)
                response = get_model_metadata_pb2.GetModelMetadataResponse()
                run_on_version(request.model_spec, context,
                               lambda v, t: proto_handlers.fill_metadata(v, response))
                return response
            return _handle(context, work)

    class ModelService(model_service_pb2_grpc.ModelServiceServicer):
        """TF Serving's ModelService."""

        def GetModelStatus(self, request, context):  # noqa: N802
            def work():
                _require_model_spec(request)
                response = get_model_status_pb2.GetModelStatusResponse()
                spec = request.model_spec
                proto_handlers.fill_status(manager, spec.name, spec.version.value
                                           if spec.HasField("version") else None, response)
                return response
            return _handle(context, work)

        def HandleReloadConfigRequest(self, request, context):  # noqa: N802
            def work():
                # model_service_impl.cc: only a ModelConfigList; the RPC fails with the
                # reload's status (ToGRPCStatus), after every new model is AVAILABLE.
                if request.config.WhichOneof("config") != "model_config_list":
                    raise InvalidArgument(
                        "ServerModelConfig type not supported by HandleReloadConfigRequest. "
                        "Only ModelConfigList is currently supported")
                try:
                    manager.reload_config(request.config, reload_timeout)
                except ServingError as error:
                    log.error("ReloadConfig failed: %s", error.message)
                    raise
                response = model_management_pb2.ReloadConfigResponse()
                response.status.SetInParent()
                return response
            return _handle(context, work)

    return (PredictionService(), prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server,
            ModelService(), model_service_pb2_grpc.add_ModelServiceServicer_to_server)


def create_grpc_server(manager: ModelManager, host: str, port: int, max_workers: int,
                       socket_path: str = "", metrics=None, reload_timeout: float = 600.0):
    """Creates and binds (not starts) the gRPC server; returns (server, bound port). At most
    ``max_workers`` calls run at once; reloads wait ``reload_timeout`` s for new models."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="tfx-kfp-grpc"),
        options=[
            ("grpc.max_receive_message_length", -1),
            ("grpc.max_send_message_length", -1),
            ("grpc.so_reuseport", 0),
        ],
        # TF Serving (server.cc) caps the gRPC server's threads at --grpc_max_threads
        # (ResourceQuota::SetMaxThreads); a call that finds none free is refused at once with
        # RESOURCE_EXHAUSTED. grpcio's equivalent: as many calls in progress as workers.
        maximum_concurrent_rpcs=max_workers,
    )
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    prediction, add_prediction, model, add_model = _servicers(manager, metrics, reload_timeout)
    add_prediction(prediction, server)
    add_model(model, server)
    health_servicer = health.HealthServicer()
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    bound = server.add_insecure_port(address)
    if bound == 0:
        raise OSError(f"cannot bind the gRPC API to {address}")
    if socket_path and server.add_insecure_port(f"unix:{socket_path}") == 0:
        raise OSError(f"cannot bind the gRPC API to unix:{socket_path}")
    return server, bound
