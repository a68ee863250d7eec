"""Input, output and metadata names, declared once.

Component signatures must spell these names literally (KFP reads parameter
names); tests check that every component's interface matches these constants,
and pipelines wire tasks through them.
"""

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
PUSHED_MODEL = "pushed_model"
METRICS = "metrics"
REPORT = "report"
CONFUSION_MATRIX = "confusion_matrix"

# Folder of a Model artifact that holds the servable SavedModel: tfx.utils.path_constants.SERVING_MODEL_DIR,
# restated so that the Pusher and the reports do not import TFX (a beam-tier test checks they agree).
SERVING_MODEL_DIR = "Format-Serving"
# The file TFX's Evaluator writes into a ModelBlessing artifact when the model passed
BLESSED_FILE = "BLESSED"

# Output parameters
BLESSED = "blessed"

# TFX artifact properties carried in KFP artifact metadata
SPLIT_NAMES = "split_names"
SPAN = "span"
VERSION = "version"
META_BLESSED = "blessed"
META_PUSHED = "pushed"
META_PUSHED_DESTINATION = "pushed_destination"
META_PUSHED_VERSION = "pushed_version"
