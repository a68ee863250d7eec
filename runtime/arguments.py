"""Rules for arguments that are invalid on their face, each written once.

The executors apply them to their own arguments, and ``tfx_kfp.pipelines.argument_checks``
applies them to a run's pipeline arguments before the first stage starts. Standard library
only: compiling and submitting (kfp only) use them too.
"""

import json
from typing import Any

from tfx_kfp.runtime.errors import InputError

INPUT_FORMATS = ("csv", "tfrecord")


def check_integer_at_least(where: str, field: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(where, "must be an integer", field=field, received=repr(value))
    if value < minimum:
        raise InputError(where, f"must be at least {minimum}", field=field, received=repr(value))


def check_steps(where: str, field: str, value: Any) -> None:
    """Training and evaluation steps: at least 1 (0 would mean "until the data ends", which never
    comes for the repeated datasets TFX modules train on)."""
    check_integer_at_least(where, field, value, 1)


def check_fraction(where: str, field: str, value: Any) -> None:
    """A number between 0 and 1, both included (e.g. an accuracy threshold)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise InputError(where, "must be a number between 0 and 1", field=field, received=repr(value))


def check_change(where: str, field: str, value: Any) -> None:
    """A change of a fraction, between -1 and 1 (e.g. ``min_improvement``; negative: a tolerated regression)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1.0 <= value <= 1.0:
        raise InputError(where, "must be a number between -1 and 1 (negative: how much worse the candidate may be)",
                         field=field, received=repr(value))


def check_input_format(where: str, value: Any) -> None:
    if value not in INPUT_FORMATS:
        raise InputError(where, f"must be one of {list(INPUT_FORMATS)}", field="input_format", received=repr(value))


def check_bool(where: str, field: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise InputError(where, "must be true or false", field=field, received=repr(value))


def check_text(where: str, field: str, value: Any, *, required: bool = False) -> None:
    if not isinstance(value, str):
        raise InputError(where, "must be a string", field=field, received=repr(value))
    if required and not value.strip():
        raise InputError(where, "is required", field=field, received="an empty string")


def parse_json(where: str, field: str, text: Any) -> Any:
    """Parses JSON text; InputError naming the field, line and column where it breaks."""
    check_text(where, field, text)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(where, "must be valid JSON", field=field, received=str(e)) from e


def parse_custom_config(where: str, text: Any) -> dict:
    """A ``custom_config``: a JSON object (empty text means ``{}``)."""
    value = parse_json(where, "custom_config", text or "{}")
    if not isinstance(value, dict):
        raise InputError(where, "must be a JSON object", field="custom_config", received=type(value).__name__)
    return value


def check_eval_config_json(where: str, text: Any) -> None:
    """Empty, or a JSON object that parses strictly into TFMA's ``EvalConfig`` proto, as the Evaluator parses it."""
    if text == "":
        return
    value = parse_json(where, "eval_config_json", text)
    if not isinstance(value, dict):
        raise InputError(where, "must be a JSON object (a TFMA EvalConfig)", field="eval_config_json",
                         received=type(value).__name__)
    from tfx_kfp.runtime.tfma_protos import parse_eval_config

    parse_eval_config(where, text)


def check_string_list(where: str, field: str, value: Any) -> None:
    """A list of strings, e.g. ``beam_pipeline_args``."""
    if not isinstance(value, (list, tuple)):
        raise InputError(where, "must be a list of strings", field=field, received=repr(value))
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise InputError(where, f"must be a list of strings; item {index} is a {type(item).__name__}",
                             field=field, received=repr(item))


def check_span_range(where: str, value: Any) -> None:
    """Empty (the latest span) or ``[first, last]``: two non-negative integers, first <= last."""
    if value in ([], ()):
        return
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in value) or value[0] > value[1]):
        raise InputError(where, "must be [] (latest span) or [first, last] with 0 <= first <= last",
                         field="span_range", received=repr(value))
