"""Runs TFX's CsvExampleGen or ImportExampleGen executor on KFP artifact paths.

CSV input with no Beam args given (the rule of runtime/beam_defaults.py decides) is written without Beam,
as TFX's CsvExampleGen writes it (``fast_example_gen``); where that could differ, TFX's executor runs.
"""

import glob
import itertools
import json
import os
import shutil
import tempfile

from kfp.dsl import Output
from tfx.components.example_gen import utils as example_gen_utils
from tfx.components.example_gen import write_split
from tfx.components.example_gen.csv_example_gen import executor as csv_executor
from tfx.components.example_gen.import_example_gen import executor as import_executor
from tfx.components.util import examples_utils
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs as specs

from tfx_kfp.components import names
from tfx_kfp.components.types import Examples
from tfx_kfp.runtime import arguments, beam_defaults, object_store, tfx_bridge
from tfx_kfp.runtime.errors import InputError
from tfx_kfp.runtime.staging import staged_dir
from tfx_kfp.components.example_gen import fast_csv, fast_example_gen, spans, validation
from tfx_kfp.components.resolve_inputs import content

def _output_config(train_hash_buckets: int, eval_hash_buckets: int) -> example_gen_pb2.Output:
    for field, value in (("train_hash_buckets", train_hash_buckets), ("eval_hash_buckets", eval_hash_buckets)):
        arguments.check_integer_at_least("example_gen", field, value, 1)
    return example_gen_pb2.Output(
        split_config=example_gen_pb2.SplitConfig(
            splits=[
                example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=train_hash_buckets),
                example_gen_pb2.SplitConfig.Split(name="eval", hash_buckets=eval_hash_buckets),
            ]
        )
    )


def _selected_input(data_root: str, input_format: str, label_key: str, input_pattern: str, span_range: list,
                    folder: str, checked_root: str):
    """(input base, pattern, span, version, fingerprint, spans) for TFX, after validating what is read.

    With an input pattern, the selected files are linked into ``folder`` so that one TFX input glob reads
    them all, whichever spans they come from.
    """
    if not input_pattern:
        if input_format == "csv":
            validation.check_csv_dir(checked_root, label_key)
            pattern = validation.CSV_PATTERN
        else:
            files = validation.check_tfrecord_dir(checked_root, label_key)
            extensions = sorted({os.path.splitext(f)[1] for f in files})
            if len(extensions) > 1:
                raise InputError(data_root, "TFRecord files must share one file extension (one input glob)",
                                 received=", ".join(extensions))
            pattern = spans.default_pattern(checked_root, input_format)
        split = example_gen_pb2.Input.Split(name="single_split", pattern=pattern)
        fingerprint, span, version = example_gen_utils.calculate_splits_fingerprint_span_and_version(
            data_root, [split])
        return data_root, pattern, span, version, fingerprint, [span]
    selection = spans.select(data_root, input_pattern, span_range)
    if input_format == "csv":
        validation.check_csv_files(selection.files, label_key)
    for index, path in enumerate(selection.files):
        os.symlink(path, os.path.join(folder, f"{index:05d}-{os.path.basename(path)}"))
    pattern = "*" + (os.path.splitext(selection.files[0])[1] if input_format != "csv" else ".csv")
    return folder, pattern, max(selection.spans), selection.version, selection.fingerprint, selection.spans


def _write_without_beam(tfx_examples, input_base: str, pattern: str, output_config) -> bool:
    """TFX's CsvExampleGen output written by ``fast_csv`` (no Beam); False, with the reason printed and
    nothing written, where its output might differ from TFX's executor's (which then runs instead)."""
    split_config = output_config.split_config
    split_names = [split.name for split in split_config.splits]
    tfx_examples.split_names = artifact_utils.encode_split_names(split_names)  # as TFX's Do sets it first
    split_dirs = [artifact_utils.get_split_uri([tfx_examples], name) for name in split_names]
    files = sorted(glob.glob(os.path.join(input_base, pattern)))
    try:
        if not files or not os.path.isdir(input_base):
            raise fast_csv.Unsupported(f"{input_base} is not a local folder of CSV files")
        buckets = list(itertools.accumulate(split.hash_buckets for split in split_config.splits))
        partition_feature = (split_config.partition_feature_name
                             if split_config.HasField("partition_feature_name") else None)  # a oneof: set is used
        counts = fast_example_gen.write_examples(files, buckets, partition_feature, split_dirs,
                                                 beam_defaults.local_workers())
    except fast_csv.Unsupported as e:
        for folder in split_dirs:
            shutil.rmtree(folder, ignore_errors=True)
        print(f"example_gen: TFX's CsvExampleGen executor (Beam) reads this input, as this one may read it "
              f"differently: {e}", flush=True)
        return False
    # As TFX's BaseExampleGenExecutor.Do records them (TFX 1.16).
    examples_utils.set_payload_format(tfx_examples, example_gen_pb2.FORMAT_TF_EXAMPLE)
    examples_utils.set_file_format(tfx_examples,
                                   write_split.to_file_format_str(example_gen_pb2.FORMAT_TFRECORDS_GZIP))
    print(f"example_gen: read {len(files)} CSV file(s) with Arrow, {beam_defaults.local_workers()} worker(s), "
          f"no Beam (components/example_gen/fast_csv.py); rows per split: "
          f"{dict(zip(split_names, counts.values()))}", flush=True)
    return True


def run(*, data_root: str, examples: Output[Examples], input_format: str, label_key: str, train_hash_buckets: int,
        eval_hash_buckets: int, beam_pipeline_args: list, input_pattern: str, span_range: list,
        input_fingerprint: str) -> None:
    """The ``example_gen`` component's body (arguments as documented there).

    Validates the input, selects the span(s) to read, then writes split tf.Examples to ``examples.path``.
    """
    arguments.check_input_format("example_gen", input_format)
    data_root = object_store.object_store_uri(data_root) or (os.path.abspath(data_root) if data_root else data_root)
    checked_root = object_store.local_mirror(data_root, beam_pipeline_args)  # validation reads local files
    executor_class = csv_executor.Executor if input_format == "csv" else import_executor.Executor
    output_config = _output_config(train_hash_buckets, eval_hash_buckets)
    with tempfile.TemporaryDirectory(prefix="tfx-kfp-inputs-") as links:
        input_base, pattern, span, version, fingerprint, read_spans = _selected_input(
            data_root, input_format, label_key, input_pattern, list(span_range), links, checked_root)
        if input_fingerprint and content.tfx_part(input_fingerprint) != fingerprint:
            raise InputError(data_root, "the input files changed after resolve_inputs fingerprinted them; "
                             "run the pipeline again", field="input_fingerprint")
        without_beam = input_format == "csv" and beam_defaults.rule_decides(beam_pipeline_args)
        beam_pipeline_args = beam_defaults.resolve(beam_pipeline_args, [input_base], "files")
        input_config = example_gen_pb2.Input(splits=[example_gen_pb2.Input.Split(name="single_split",
                                                                                 pattern=pattern)])
        with staged_dir(examples.path) as staging:
            tfx_examples = tfx_bridge.to_tfx("Examples", examples, uri=staging, beam_pipeline_args=beam_pipeline_args)
            tfx_examples.span = span
            if version is not None:
                tfx_examples.version = version
            properties = tfx_bridge.exec_properties(**{
                specs.INPUT_BASE_KEY: input_base,
                specs.INPUT_CONFIG_KEY: tfx_bridge.proto_json(input_config),
                specs.OUTPUT_CONFIG_KEY: tfx_bridge.proto_json(output_config),
                specs.OUTPUT_DATA_FORMAT_KEY: example_gen_pb2.FORMAT_TF_EXAMPLE,
                specs.OUTPUT_FILE_FORMAT_KEY: example_gen_pb2.FORMAT_TFRECORDS_GZIP,
                example_gen_utils.SPAN_PROPERTY_NAME: span,
                example_gen_utils.VERSION_PROPERTY_NAME: version,
                example_gen_utils.FINGERPRINT_PROPERTY_NAME: fingerprint,
            })
            if not (without_beam and _write_without_beam(tfx_examples, input_base, pattern, output_config)):
                executor_class(tfx_bridge.beam_context(beam_pipeline_args)).Do(
                    {}, {specs.EXAMPLES_KEY: [tfx_examples]}, properties
                )
    tfx_bridge.export_properties(tfx_examples, examples)
    examples.metadata[names.SPAN] = span
    examples.metadata[names.SPANS] = json.dumps(read_spans)
    print(f"example_gen: wrote splits {tfx_examples.split_names} from {data_root} "
          f"(span{'s' if len(read_spans) > 1 else ''} {', '.join(map(str, read_spans))}) to {examples.path}")
