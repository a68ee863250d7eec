"""ExampleGen: CSV (or tf.Example TFRecord) files in, split tf.Example TFRecords out."""

from kfp import dsl
from kfp.dsl import Output

from tfx_kfp.components.types import Examples
from tfx_kfp.components.image import RUNTIME_IMAGE


@dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
def example_gen(
    data_root: str,
    examples: Output[Examples],
    input_format: str = "csv",
    label_key: str = "",
    train_hash_buckets: int = 2,
    eval_hash_buckets: int = 1,
    beam_pipeline_args: list = [],
    input_pattern: str = "",
    span_range: list = [],
    input_fingerprint: str = "",
):
    """Reads a folder of CSV or TFRecord files and writes split tf.Example TFRecords.

    Args:
        data_root: Local path of the folder holding the input files (on a cluster, a mounted volume or a
            /gcs, /minio or /s3 path).
        input_format: "csv" for ``*.csv`` files with a header row, or "tfrecord" for files of serialized
            tf.Example records.
        label_key: If set, the column (CSV) or feature (TFRecord) that must be present in the input.
        train_hash_buckets: Hash buckets that go to the ``train`` split.
        eval_hash_buckets: Hash buckets that go to the ``eval`` split (2 and 1 give a 2:1 ratio).
        beam_pipeline_args: Apache Beam pipeline options; empty: the DirectRunner, in memory or multi-processing
            by the input's size and the cores (runtime/beam_defaults.py).
        input_pattern: Files to read, relative to ``data_root``, as a TFX input pattern: ``{SPAN}``
            (``{SPAN:2}`` for a fixed width), ``{VERSION}`` and ``{YYYY}``/``{MM}``/``{DD}`` match data drops,
            e.g. ``span-{SPAN}/*.csv``. Empty: every file of the format in ``data_root`` (span 0).
        span_range: Empty for the latest span (at its latest version), or ``[first, last]`` to read every
            span in that range.
        input_fingerprint: From ``resolve_inputs``: the files' fingerprint when the run started. It puts the
            data into this task's cache key; if the files changed since, the task fails rather than read
            other data than the key says.

    Returns:
        examples: tf.Example TFRecords under ``Split-train`` and ``Split-eval`` (TFX type ``Examples``;
            ``metadata['span']`` the latest span read, ``['spans']`` all of them, ``['version']`` if any).
    """
    from tfx_kfp.components.example_gen import executor

    executor.run(
        data_root=data_root,
        examples=examples,
        input_format=input_format,
        label_key=label_key,
        train_hash_buckets=train_hash_buckets,
        eval_hash_buckets=eval_hash_buckets,
        beam_pipeline_args=beam_pipeline_args,
        input_pattern=input_pattern,
        span_range=span_range,
        input_fingerprint=input_fingerprint,
    )
