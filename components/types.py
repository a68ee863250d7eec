"""KFP artifact types that carry TFX type names.

Each class's ``schema_title`` is the TFX artifact type name, so the KFP UI and
ML Metadata show ``tfx.Examples``, ``tfx.Schema`` … in lineage. TFX artifact
properties (``split_names``, ``span``, ``version``, blessing, push destination)
travel in ``artifact.metadata``.

This module imports only ``kfp.dsl``: KFP adds ``from tfx_kfp.components.types
import …`` to every lightweight component that uses these types.
"""

from kfp import dsl


class _TfxArtifact(dsl.Artifact):
    schema_version = "0.0.1"


class Examples(_TfxArtifact):
    """tf.Example TFRecords, one ``Split-<name>`` folder per split."""

    schema_title = "tfx.Examples"


class ExampleStatistics(_TfxArtifact):
    """TFDV statistics, one ``Split-<name>/FeatureStats.pb`` per split."""

    schema_title = "tfx.ExampleStatistics"


class Schema(_TfxArtifact):
    """A TFMD schema in ``schema.pbtxt``."""

    schema_title = "tfx.Schema"


class ExampleAnomalies(_TfxArtifact):
    """TFDV anomalies, one ``Split-<name>/SchemaDiff.pb`` per split."""

    schema_title = "tfx.ExampleAnomalies"


class TransformGraph(_TfxArtifact):
    """A tf.Transform output: the transform SavedModel and transformed metadata."""

    schema_title = "tfx.TransformGraph"


class Model(_TfxArtifact):
    """A trained model; the servable SavedModel is under ``Format-Serving``."""

    schema_title = "tfx.Model"


class ModelRun(_TfxArtifact):
    """Training logs (TensorBoard) of a model."""

    schema_title = "tfx.ModelRun"


class ModelEvaluation(_TfxArtifact):
    """A TFMA evaluation result."""

    schema_title = "tfx.ModelEvaluation"


class ModelBlessing(_TfxArtifact):
    """The Evaluator's verdict; ``metadata['blessed']`` is 1 or 0."""

    schema_title = "tfx.ModelBlessing"


class PushedModel(_TfxArtifact):
    """Where a model was pushed; ``metadata['pushed']``, ``['pushed_destination']``, ``['pushed_version']``."""

    schema_title = "tfx.PushedModel"


class InfraBlessing(_TfxArtifact):
    """The InfraValidator's verdict: ``INFRA_BLESSED`` or ``INFRA_NOT_BLESSED``; ``metadata['blessed']`` is 1 or 0."""

    schema_title = "tfx.InfraBlessing"
