"""Which input files a run reads: TFX input patterns with ``{SPAN}``, ``{VERSION}`` and date specs.

The resolution is TFX's own (``tfx.components.example_gen.utils``): by default the latest span (and
its latest version), as TFX's ExampleGen driver picks it; ``span_range`` ``[first, last]`` reads every
span in that range, each at its latest version, as TFX's ``RangeConfig.static_range`` selects one.
"""

import glob
import os
import re
from dataclasses import dataclass
from typing import List, Optional, Sequence

from tfx.components.example_gen import utils as example_gen_utils
from tfx.proto import example_gen_pb2, range_config_pb2

from tfx_kfp.runtime import arguments
from tfx_kfp.runtime.errors import InputError
from tfx_kfp.serving.versions import INT64_MAX

SPAN_SPECS = ("{SPAN", "{YYYY}", "{MM}", "{DD}")
# TFX's resolution (tfx/components/example_gen/utils.py, TFX 1.16) refuses a matching file whose {SPAN},
# date or {VERSION} part is not a number, and a pattern with no match, with these ValueErrors; a beam-tier
# test (tests/executors/test_spans.py) fails when their wording changes.
_NOT_A_NUMBER = re.compile(r"^Cannot find (?P<spec>span|version) number (?P<date>using date )?from (?P<path>.+) "
                           r"based on (?P<regex>.+)$", re.S)
_BAD_DATE = re.compile(r"^Retrieved date is invalid for file: (?P<path>.+)$", re.S)
_NO_MATCH = re.compile(r"^Cannot find matching for split ")


@dataclass(frozen=True)
class Selection:
    """The files a run reads, with the span(s) and version they come from."""

    files: List[str]
    spans: List[int]
    version: Optional[int]
    fingerprint: str


def has_span_spec(pattern: str) -> bool:
    return any(spec in pattern for spec in SPAN_SPECS)


def _resolve_one(data_root: str, pattern: str, span: Optional[int]):
    split = example_gen_pb2.Input.Split(name="single_split", pattern=pattern)
    range_config = None
    if span is not None:
        range_config = range_config_pb2.RangeConfig(
            static_range=range_config_pb2.StaticRange(start_span_number=span, end_span_number=span))
    try:
        fingerprint, selected, version = example_gen_utils.calculate_splits_fingerprint_span_and_version(
            data_root, [split], range_config=range_config)
    except ValueError as e:
        raise _input_error(data_root, pattern, span, e) from None
    files = sorted(glob.glob(os.path.join(data_root, split.pattern)))  # TFX replaced the specs by values
    for name, number in (("span", selected), ("version", version)):
        if number is not None and number > INT64_MAX:
            raise InputError(files[0] if files else data_root, f"the {name} number {number} is larger than "
                             f"{INT64_MAX}: TFX records {name}s as int64 artifact properties in ML Metadata, "
                             f"so its ExampleGen cannot record it either; number the {name}s within int64",
                             field="input_pattern", received=repr(pattern))
    return files, selected, version, fingerprint


def _input_error(data_root: str, pattern: str, span: Optional[int], error: ValueError) -> InputError:
    """TFX's ValueError about ``pattern``, said with the path and the rule that failed."""
    text = str(error)
    found = _NOT_A_NUMBER.match(text)
    if found:
        spec = "{YYYY}{MM}{DD} date" if found["date"] else "{" + found["spec"].upper() + "}"
        return InputError(found["path"], f"this path matches input pattern {pattern!r} but its {spec} part is "
                          f"not a number; TFX's ExampleGen refuses such a path too: rename it or move it out of "
                          f"{data_root}", field="input_pattern")
    found = _BAD_DATE.match(text)
    if found:
        return InputError(found["path"], f"this path matches input pattern {pattern!r} but its {{YYYY}}{{MM}}{{DD}} "
                          f"part is not a calendar date; TFX's ExampleGen refuses such a path too",
                          field="input_pattern")
    if _NO_MATCH.match(text):
        return InputError(data_root, f"input pattern {pattern!r} selects no files"
                          + (f" for span {span}" if span is not None else ""), field="input_pattern")
    return InputError(data_root, f"input pattern {pattern!r} is not one TFX's ExampleGen accepts",
                      field="input_pattern", received=text)


def select(data_root: str, pattern: str, span_range: Sequence[int] = ()) -> Selection:
    """The files ``pattern`` (relative to ``data_root``) selects: the latest span, or every span in range."""
    arguments.check_span_range("example_gen", list(span_range))
    if span_range and not has_span_spec(pattern):
        raise InputError("example_gen", "a span range needs an input pattern with {SPAN} or {YYYY}{MM}{DD}",
                         field="input_pattern", received=repr(pattern))
    if not span_range:
        files, span, version, fingerprint = _resolve_one(data_root, pattern, None)
        return Selection(files, [span], version, fingerprint)
    files, spans, fingerprints, versions = [], [], [], set()
    for span in range(span_range[0], span_range[1] + 1):
        span_files, selected, version, fingerprint = _resolve_one(data_root, pattern, span)
        files += span_files
        spans.append(selected)
        fingerprints.append(fingerprint)
        versions.add(version)
    return Selection(files, spans, versions.pop() if len(versions) == 1 else None, "\n".join(fingerprints))


def default_pattern(data_root: str, input_format: str) -> str:
    """The glob ExampleGen reads without an input pattern: every CSV, or TFRecords of one extension."""
    if input_format == "csv":
        return "*.csv"
    from tfx_kfp.components.example_gen.validation import TFRECORD_PATTERNS

    files = {p for pattern in TFRECORD_PATTERNS for p in glob.glob(os.path.join(data_root, pattern))}
    extensions = sorted({os.path.splitext(p)[1] for p in files})
    return "*" + extensions[0] if len(extensions) == 1 else "*"


def fingerprint(data_root: str, input_format: str, input_pattern: str = "", span_range: Sequence[int] = ()):
    """(fingerprint, latest span) of what ExampleGen would read now; TFX's fingerprint (paths, sizes, times)."""
    if input_pattern:
        selection = select(data_root, input_pattern, span_range)
        return selection.fingerprint, max(selection.spans)
    files, span, _, fingerprint_text = _resolve_one(data_root, default_pattern(data_root, input_format), None)
    return fingerprint_text, span
