"""TFMA's default extractors, with the features nothing reads dropped before TFMA splits batches.

TFMA's ``UnbatchExtractor`` turns each batch of extracts into one dict per example by splitting every
value it holds (``util.split_extracts``: Python calls per value per example), the raw and the
transformed features included. After that step only slicing and the metric computations read the
extracts, and most evaluations read labels, predictions and example weights only: for TFX's taxi
model 38 values per example were split and 3 read, and the split took a third of the Evaluator's
time (docs/benchmarks.md). TFMA has no option to skip it; TFX's Evaluator takes a
``custom_extractors`` function (its public hook), which this module provides. A feature stays
wherever a later step may read it: slicing specs name it, a metric spec's ``query_key`` names it, or
any metric computation's preprocessor asks for features (then all of them stay). The evaluation
written is byte-identical (tests/executors/test_evaluator_extractors.py).
"""

from typing import Dict, List, Optional, Set

# Extract keys whose values may be dropped: the raw features, the transformed features and the
# serialized input. Labels, predictions and example weights are already extracted from them.
DROPPABLE = ("features", "transformed_features", "input")
STAGE_NAME = "DropFeaturesNothingReads"
HOOK = f"{__name__}.custom_extractors"  # TFX's Evaluator imports it by this name (udf_utils.get_fn)
ALL = None  # in ``kept``: every name under the key stays


def _slicing_features(eval_config) -> Set[str]:
    names: Set[str] = set()
    specs = list(eval_config.slicing_specs)
    for cross in eval_config.cross_slicing_specs:
        specs += [cross.baseline_spec, *cross.slicing_specs]
    for spec in specs:
        names.update(spec.feature_keys)
        names.update(spec.feature_values)
    names.update(spec.query_key for spec in eval_config.metrics_specs if spec.query_key)
    return names


def _keys_read_by_metrics(computations) -> Optional[Set[str]]:
    """The droppable keys some computation's preprocessors read; None if one is not TFMA's standard kind."""
    from tensorflow_model_analysis.metrics import metric_types

    standard = (metric_types.StandardMetricInputsPreprocessor, metric_types.StandardMetricInputsPreprocessorList)
    read: Set[str] = set()
    for computation in computations:
        for preprocessor in getattr(computation, "preprocessors", None) or []:
            if type(preprocessor) not in standard:  # noqa: E721 - a subclass may read anything
                return None
            read.update(key for key in DROPPABLE if key in preprocessor.include_filter)
    return read


def _metric_computations(eval_shared_models: List, eval_config) -> list:
    """The computations TFMA's metrics evaluator builds (``MetricsPlotsAndValidationsEvaluator``)."""
    from tensorflow_model_analysis import constants
    from tensorflow_model_analysis.evaluators import keras_util
    from tensorflow_model_analysis.metrics import metric_specs

    computations = []
    for model in eval_shared_models:
        if model.include_default_metrics and model.model_type == constants.TF_KERAS:
            computations += keras_util.metric_computations_using_keras_saved_model(
                model.model_name, model.model_loader, eval_config)
    return computations + list(metric_specs.to_computations(eval_config.metrics_specs, eval_config=eval_config))


def kept(eval_shared_model, eval_config) -> Optional[Dict[str, Optional[Set[str]]]]:
    """{droppable key: the names kept under it, or ``ALL``}; None where nothing may be dropped."""
    from tensorflow_model_analysis.utils import config_util, model_util

    models = model_util.verify_and_update_eval_shared_models(eval_shared_model) or []
    if eval_config is None or not models:
        return None
    config = config_util.update_eval_config_with_defaults(
        eval_config, has_baseline=len(models) > 1, rubber_stamp=model_util.has_rubber_stamp(models))
    read = _keys_read_by_metrics(_metric_computations(models, config))
    if read is None:
        return None
    slicing = _slicing_features(config)
    return {key: ALL if key in read else (slicing if key != "input" else set()) for key in DROPPABLE}


def _only(values: dict, names: Set[str]) -> dict:
    """The named entries of ``values``; with a baseline, transformed features are one dict per model."""
    return {name: value if name in names else _only(value, names) for name, value in values.items()
            if name in names or isinstance(value, dict)}


def _drop(extracts: dict, keep: Dict[str, Optional[Set[str]]]) -> dict:
    result = dict(extracts)
    for key, names in keep.items():
        if names is ALL or key not in result:
            continue
        values = result.pop(key)
        if isinstance(values, dict):
            result[key] = _only(values, names)
    return result


def custom_extractors(eval_shared_model, eval_config, tensor_adapter_config) -> list:
    """TFX's ``custom_extractors`` hook: TFMA's default extractors, dropping unread features before unbatching."""
    import apache_beam as beam
    import tensorflow_model_analysis as tfma
    from tensorflow_model_analysis.extractors import extractor, unbatch_extractor

    extractors = tfma.default_extractors(
        eval_shared_model=eval_shared_model, eval_config=eval_config, tensor_adapter_config=tensor_adapter_config,
        config_version=None if eval_config is None else 2)  # as ExtractEvaluateAndWriteResults passes it
    keep = kept(eval_shared_model, eval_config)
    stages = [e.stage_name for e in extractors]
    if keep is None or unbatch_extractor.UNBATCH_EXTRACTOR_STAGE_NAME not in stages:
        return extractors
    at = stages.index(unbatch_extractor.UNBATCH_EXTRACTOR_STAGE_NAME)
    drop = extractor.Extractor(stage_name=STAGE_NAME, ptransform=beam.Map(_drop, keep=keep))
    return extractors[:at] + [drop] + extractors[at:]
