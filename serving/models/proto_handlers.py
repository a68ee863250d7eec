"""PredictionService and ModelService requests on protos (for gRPC and warmup replay): checked
as TF Serving checks them, run on the version acquired, answered in the response proto.
"""

from typing import List, Optional

from tfx_kfp.serving.models import classify_regress
from tfx_kfp.serving.models import inference
from tfx_kfp.serving.protocol.errors import InvalidArgument
from tfx_kfp.serving.models.manager import ModelManager
from tfx_kfp.serving.models.servable import LoadedVersion
from tfx_kfp.serving.protocol.rest_request import DEFAULT_SIGNATURE
from tfx_kfp.serving.protocol.tensors import ndarray_to_tensor_proto

__all__ = ["model_spec_target", "serialized_examples", "run_predict", "run_classify",
           "run_regress", "run_multi_inference", "fill_metadata", "fill_status",
           "SIGNATURE_DEF_FIELD"]

SIGNATURE_DEF_FIELD = "signature_def"
_STATE_NUMBERS = {"UNKNOWN": 0, "START": 10, "LOADING": 20, "AVAILABLE": 30,
                  "UNLOADING": 40, "END": 50}


def model_spec_target(spec):
    """(name, version, label) from a ModelSpec (``ServableRequestFromModelSpec``)."""
    choice = spec.WhichOneof("version_choice")
    if choice == "version":
        return spec.name, spec.version.value, None
    if choice == "version_label":
        return spec.name, None, spec.version_label
    return spec.name, None, None


def serialized_examples(input_proto) -> List[bytes]:
    """Serialized tf.Examples from an ``Input`` (context bytes prepended per example)."""
    kind = input_proto.WhichOneof("kind")
    if kind == "example_list":
        return [e.SerializeToString() for e in input_proto.example_list.examples]
    if kind == "example_list_with_context":
        listing = input_proto.example_list_with_context
        context = listing.context.SerializeToString()
        return [context + e.SerializeToString() for e in listing.examples]
    return []


def _fill_model_spec(spec, name: str, signature_name: Optional[str], version: int) -> None:
    spec.Clear()
    spec.name = name
    if signature_name is not None:
        spec.signature_name = signature_name or DEFAULT_SIGNATURE
    spec.version.value = version


def run_predict(version: LoadedVersion, request, response, timeout_ms: Optional[int] = None):
    """Fills a PredictResponse (outputs as typed ``*_val`` fields)."""
    signature_name, outputs = inference.predict(
        version, request.model_spec.signature_name, dict(request.inputs),
        list(request.output_filter), timeout_ms)
    _fill_model_spec(response.model_spec, request.model_spec.name, signature_name,
                     version.version)
    for alias, value in outputs.items():
        ndarray_to_tensor_proto(value, response.outputs[alias])
    return response


def _fill_result(result, output) -> None:
    """A ClassificationResult from ``Classes``, or a RegressionResult from float32 values."""
    if isinstance(output, list):
        for row in output:
            classes = result.classifications.add().classes
            for label, score in row:
                entry = classes.add()
                entry.label = label.decode("utf-8", "surrogateescape") if isinstance(
                    label, bytes) else str(label)
                entry.score = score
    else:
        for value in output.tolist():
            result.regressions.add().value = value


def _examples_handler(run):
    def handle(version: LoadedVersion, request, response, timeout_ms: Optional[int] = None):
        spec = request.model_spec
        output = run(version, spec.signature_name, serialized_examples(request.input), timeout_ms)
        _fill_model_spec(response.model_spec, spec.name, spec.signature_name, version.version)
        _fill_result(response.result, output)
        return response
    return handle


run_classify = _examples_handler(classify_regress.classify)
run_regress = _examples_handler(classify_regress.regress)


def run_multi_inference(version: LoadedVersion, request, response,
                        timeout_ms: Optional[int] = None):
    """Fills a MultiInferenceResponse."""
    tasks = [(t.model_spec.name, t.model_spec.signature_name, t.method_name)
             for t in request.tasks]
    outputs = classify_regress.multi_inference(
        version, tasks, serialized_examples(request.input), timeout_ms)
    for task, output in zip(request.tasks, outputs):
        result = response.results.add()
        _fill_result(result.classification_result if isinstance(output, list)
                     else result.regression_result, output)
        _fill_model_spec(result.model_spec, task.model_spec.name, task.model_spec.signature_name,
                         version.version)
    return response


def fill_metadata(version: LoadedVersion, response) -> None:
    """Fills a GetModelMetadataResponse with the version's SignatureDefMap."""
    from tensorflow_serving.apis import get_model_metadata_pb2

    signature_map = get_model_metadata_pb2.SignatureDefMap()
    for key, signature in version.signature_defs.items():
        signature_map.signature_def[key].CopyFrom(signature)
    response.model_spec.name = version.name
    response.model_spec.version.value = version.version
    response.metadata[SIGNATURE_DEF_FIELD].Pack(signature_map)


def check_metadata_request(request) -> None:
    """Validates GetModelMetadataRequest fields like ``ValidateGetModelMetadataRequest``."""
    if not request.metadata_field:
        raise InvalidArgument("GetModelMetadataRequest must specify at least one metadata_field")
    for field in request.metadata_field:
        if field != SIGNATURE_DEF_FIELD:
            raise InvalidArgument(f"Metadata field {field} is not supported")


def fill_status(manager: ModelManager, name: str, version: Optional[int], response) -> None:
    """Fills a GetModelStatusResponse for a model (all its versions, or ``version``)."""
    for status in manager.version_statuses(name, version):
        entry = response.model_version_status.add()
        entry.version = status.version
        entry.state = _STATE_NUMBERS[status.state]
        if status.error is not None:
            entry.status.error_code = status.error.code
            entry.status.error_message = status.error.message
        else:
            entry.status.SetInParent()
