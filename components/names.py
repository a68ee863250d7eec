"""Input, output and metadata names, declared once.

Component signatures must spell these names literally (KFP reads parameter
names); tests check that every component's interface matches these constants,
and pipelines wire tasks through them.
"""

from tfx_kfp.runtime.properties import SPAN, SPLIT_NAMES, VERSION  # noqa: F401  (TFX property names)

# Artifacts
EXAMPLES = "examples"
STATISTICS = "statistics"
SCHEMA = "schema"
ANOMALIES = "anomalies"
TRANSFORM_GRAPH = "transform_graph"
TRANSFORMED_EXAMPLES = "transformed_examples"
MODEL = "model"
MODEL_RUN = "model_run"
EVALUATION = "evaluation"
BLESSING = "blessing"
BASELINE_MODEL = "baseline_model"
INFRA_BLESSING = "infra_blessing"
PUSHED_MODEL = "pushed_model"
METRICS = "metrics"
REPORT = "report"
CONFUSION_MATRIX = "confusion_matrix"

# Folder of a Model artifact that holds the servable SavedModel: tfx.utils.path_constants.SERVING_MODEL_DIR,
# restated so that the Pusher and the reports do not import TFX (a beam-tier test checks they agree).
SERVING_MODEL_DIR = "Format-Serving"
# The file TFX's Evaluator writes into a ModelBlessing artifact when the model passed
BLESSED_FILE = "BLESSED"
# The InfraValidator's verdict file and the warmup requests TF Serving replays from assets.extra/
# (tfx/components/infra_validator/executor.py; TF Serving's saved_model_warmup docs).
INFRA_BLESSED_FILE = "INFRA_BLESSED"
WARMUP_FILE = "tf_serving_warmup_requests"

# Output parameters
BLESSED = "blessed"

# TFX artifact properties carried in KFP artifact metadata: SPLIT_NAMES, SPAN, VERSION (imported above)
SPANS = "spans"  # ExampleGen: every span read, as a JSON list (the latest is SPAN)
META_BLESSED = "blessed"
META_PUSHED = "pushed"
META_PUSHED_DESTINATION = "pushed_destination"
META_PUSHED_VERSION = "pushed_version"
META_REPLACED_VERSION = "replaced_version"  # pusher: the served version the push replaced (0: none)
META_BASELINE = "baseline"  # latest_pushed_model: 1 when a served model was found, 0 on a first run
META_FEATURES_WITHOUT_VALUES = "features_without_values"  # schema_gen: features with no value in some examples
META_SKIPPED_VERSIONS = "skipped_versions"  # latest_pushed_model: newer versions that do not load -> why
META_BASELINE_VERSION = "baseline_version"  # evaluator blessing: the served version it was compared with
META_BASELINE_METRICS = "baseline_metrics"  # evaluator blessing: that version's overall metrics
META_INFRA_CAUSE = "cause"  # infra_blessing: a known cause of the failure and its fixes (infra_validator/causes.py)
META_BLESSING_METRIC = "blessing_metric"  # evaluator blessing: the EvalConfig's first thresholded metric
