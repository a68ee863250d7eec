"""Self-contained reports of TFX outputs for the Kubeflow Pipelines v2 UI.

Pure functions, plain data in and ``str`` out: HTML pages (inline CSS and SVG;
no scripts, fonts, stylesheets or images from anywhere) for ``system.HTML``
artifacts and Markdown for ``system.Markdown`` artifacts. Nothing here imports
TensorFlow, TFDV, TFMA or TFX; protos come from ``tensorflow_metadata``.
"""

from tfx_kfp.reports.anomalies import render_anomalies_html
from tfx_kfp.reports.evaluation import render_evaluation_html
from tfx_kfp.reports.infra import render_infra_markdown
from tfx_kfp.reports.push import render_push_markdown
from tfx_kfp.reports.schema import render_schema_markdown
from tfx_kfp.reports.statistics import render_statistics_html
from tfx_kfp.reports.training import render_training_html
from tfx_kfp.reports.transform import render_transform_markdown

__all__ = [
    "render_anomalies_html",
    "render_evaluation_html",
    "render_infra_markdown",
    "render_push_markdown",
    "render_schema_markdown",
    "render_statistics_html",
    "render_training_html",
    "render_transform_markdown",
]
