"""LatestPushedModel: the model TF Serving serves from the pipeline's serving base path, as a baseline."""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Output

from tfx_kfp.components.image import RUNTIME_IMAGE
from tfx_kfp.components.types import Model


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def latest_pushed_model(
    serving_base_dir: str,
    baseline_model: Output[Model],
) -> NamedTuple("LatestPushedModelOutputs", [("has_baseline", bool), ("version", int)]):
    """Finds the model being served from ``serving_base_dir``: the newest numeric version that loads.

    TF Serving's default version policy serves the highest version number among the folders whose
    name it reads as a version, and keeps serving the one before while a newer one fails to load;
    this loads each version, newest first, with the model server's loader and picks the first that
    loads, skipping folders without a ``saved_model.pb``. A newer version that does not load is named
    with the reason in ``metadata['skipped_versions']`` and the log. On a pipeline's first run there is
    none, and the output says so.

    Args:
        serving_base_dir: The model base path the Pusher writes into and TF Serving watches.

    Returns:
        baseline_model: A copy of the served SavedModel under ``Format-Serving`` (TFX type ``Model``;
            ``metadata['baseline']`` is 0 when there is none, else 1 with ``pushed_version`` and
            ``pushed_destination``; ``skipped_versions``: newer versions that do not load -> why).
        has_baseline: Whether a served model was found.
        version: Its version number (0 when none).
    """
    from tfx_kfp.components.latest_pushed_model import executor

    version = executor.run(serving_base_dir=serving_base_dir, baseline_model=baseline_model)
    outputs = NamedTuple("LatestPushedModelOutputs", [("has_baseline", bool), ("version", int)])
    return outputs(version is not None, version or 0)
