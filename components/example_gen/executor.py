"""Runs TFX's CsvExampleGen or ImportExampleGen executor on KFP artifact paths."""

import os

from tfx.components.example_gen import utils as example_gen_utils
from tfx.components.example_gen.csv_example_gen import executor as csv_executor
from tfx.components.example_gen.import_example_gen import executor as import_executor
from tfx.proto import example_gen_pb2
from tfx.types import standard_component_specs as specs

from tfx_kfp.components import names
from tfx_kfp.runtime import object_store, tfx_bridge
from tfx_kfp.runtime.errors import InputError
from tfx_kfp.runtime.staging import staged_dir
from tfx_kfp.components.example_gen import validation

INPUT_FORMATS = {"csv": validation.CSV_PATTERN, "tfrecord": "*"}


def _output_config(train_hash_buckets: int, eval_hash_buckets: int) -> example_gen_pb2.Output:
    for field, value in (("train_hash_buckets", train_hash_buckets), ("eval_hash_buckets", eval_hash_buckets)):
        if value < 1:
            raise InputError("example_gen", "hash buckets must be at least 1", field=field, received=str(value))
    return example_gen_pb2.Output(
        split_config=example_gen_pb2.SplitConfig(
            splits=[
                example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=train_hash_buckets),
                example_gen_pb2.SplitConfig.Split(name="eval", hash_buckets=eval_hash_buckets),
            ]
        )
    )


def run(*, data_root, examples, input_format, label_key, train_hash_buckets, eval_hash_buckets, beam_pipeline_args):
    """Validates the input folder, then writes split tf.Examples to ``examples.path``."""
    if input_format not in INPUT_FORMATS:
        raise InputError("example_gen", f"input_format must be one of {sorted(INPUT_FORMATS)}",
                         field="input_format", received=repr(input_format))
    data_root = object_store.object_store_uri(data_root) or (os.path.abspath(data_root) if data_root else data_root)
    local_root = object_store.local_mirror(data_root, beam_pipeline_args)
    if input_format == "csv":
        validation.check_csv_dir(local_root, label_key)
        executor_class, pattern = csv_executor.Executor, validation.CSV_PATTERN
    else:
        files = validation.check_tfrecord_dir(local_root, label_key)
        executor_class = import_executor.Executor
        extensions = sorted({os.path.splitext(f)[1] for f in files})
        if len(extensions) > 1:
            raise InputError(data_root, "TFRecord files must share one file extension (one input glob)",
                             received=", ".join(extensions))
        pattern = "*" + extensions[0]

    input_config = example_gen_pb2.Input(splits=[example_gen_pb2.Input.Split(name="single_split", pattern=pattern)])
    output_config = _output_config(train_hash_buckets, eval_hash_buckets)
    fingerprint, span, version = example_gen_utils.calculate_splits_fingerprint_span_and_version(
        data_root, input_config.splits
    )
    with staged_dir(examples.path) as staging:
        tfx_examples = tfx_bridge.to_tfx("Examples", examples, uri=staging, beam_pipeline_args=beam_pipeline_args)
        tfx_examples.span = span
        if version is not None:
            tfx_examples.version = version
        properties = tfx_bridge.exec_properties(**{
            specs.INPUT_BASE_KEY: data_root,
            specs.INPUT_CONFIG_KEY: tfx_bridge.proto_json(input_config),
            specs.OUTPUT_CONFIG_KEY: tfx_bridge.proto_json(output_config),
            specs.OUTPUT_DATA_FORMAT_KEY: example_gen_pb2.FORMAT_TF_EXAMPLE,
            specs.OUTPUT_FILE_FORMAT_KEY: example_gen_pb2.FORMAT_TFRECORDS_GZIP,
            example_gen_utils.SPAN_PROPERTY_NAME: span,
            example_gen_utils.VERSION_PROPERTY_NAME: version,
            example_gen_utils.FINGERPRINT_PROPERTY_NAME: fingerprint,
        })
        executor_class(tfx_bridge.beam_context(beam_pipeline_args)).Do(
            {}, {specs.EXAMPLES_KEY: [tfx_examples]}, properties
        )
    tfx_bridge.export_properties(tfx_examples, examples)
    examples.metadata[names.SPAN] = span
    print(f"example_gen: wrote splits {tfx_examples.split_names} from {data_root} to {examples.path}")
