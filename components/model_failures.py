"""A model that fails on the data, said plainly: the TensorFlow error itself, and the features that have
no value in some examples (blank CSV cells) with the remedy TFX's own taxi example uses.

TFMA retries a failed batch one example at a time; when that retry fails too (e.g. "too many positional
arguments"), the error raised is the retry's and the model's own error is only in its context
(tensorflow_model_analysis/utils/model_util.py, TFMA 0.47: ``BatchReducibleBatchedDoFnWithModels``).
"""

import contextlib
import glob
import os
import re
from typing import Dict, Iterator, List, Optional, Tuple

from tfx_kfp.components import names
from tfx_kfp.reports import missing_values
from tfx_kfp.runtime.errors import TfxKfpError

SCANNED_EXAMPLES = 10_000  # examples read from the eval split after a failure, to name features without values
MESSAGE_LINES = 4
LINE_CHARS = 240


class ModelDataError(TfxKfpError):
    """The model failed on the examples; names the TensorFlow error and the features without values."""


def exception_chain(error: BaseException) -> List[BaseException]:
    """``error`` and every exception it was raised from or while handling (both links: a retry raised
    ``from`` its own cause still holds the first failure as its context), outermost first."""
    chain: List[BaseException] = []
    pending: List[BaseException] = [error]
    while pending:
        current = pending.pop(0)
        if any(current is seen for seen in chain):
            continue
        chain.append(current)
        pending += [linked for linked in (current.__cause__, current.__context__) if linked is not None]
    return chain


def tensorflow_error(error: BaseException) -> Optional[BaseException]:
    """The earliest TensorFlow op error in ``error``'s chain (what the model itself raised), if any."""
    found = [e for e in exception_chain(error)
             if type(e).__module__.startswith("tensorflow.") and hasattr(e, "error_code")]
    return found[-1] if found else None


def features_in_schema_metadata(schema_metadata: Dict) -> List[str]:
    """The features schema_gen found without values in some examples (from its Schema output's metadata)."""
    return list(schema_metadata.get(names.META_FEATURES_WITHOUT_VALUES) or [])


def features_without_values_in_examples(examples_path: str, split: str = "eval",
                                        limit: int = SCANNED_EXAMPLES) -> Tuple[Dict[str, int], int]:
    """(feature -> examples where it is absent or empty, examples read) over the first ``limit`` examples."""
    import tensorflow as tf

    files = sorted(glob.glob(os.path.join(examples_path, f"Split-{split}", "*")))
    counts: Dict[str, int] = {}
    seen = 0
    present_per_example: List[set] = []
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP").take(limit) if files else []:
        example = tf.train.Example.FromString(record.numpy())
        with_value = set()
        for name, feature in example.features.feature.items():
            kind = feature.WhichOneof("kind")
            if kind and len(getattr(feature, kind).value):
                with_value.add(name)
            counts.setdefault(name, 0)
        present_per_example.append(with_value)
        seen += 1
    for name in counts:
        counts[name] = sum(1 for with_value in present_per_example if name not in with_value)
    return {name: count for name, count in sorted(counts.items()) if count}, seen


# Lines of a TF op error's message that say where, not what (TF 2.16's graph execution errors).
_WHERE_LINES = re.compile(r"^(Graph execution error:|Detected at node .*|<stack traces unavailable>|\s*\[\[.*\]\].*"
                          r"|\s*File \".*|\s*(\(most recent call last\):?))\s*$")


def _message_lines(error: BaseException, keep_where: bool = False) -> List[str]:
    """The message's lines that say what failed, clipped; all of them where none would be left."""
    lines = [line.rstrip() for line in str(getattr(error, "message", None) or error).splitlines() if line.strip()]
    what = lines if keep_where else [line for line in lines if not _WHERE_LINES.match(line)] or lines
    return [line if len(line) <= LINE_CHARS else line[:LINE_CHARS - 1] + "…" for line in what] or ["(no message)"]


def explain(stage: str, error: BaseException, features: List[str], where: str = "") -> Optional[str]:
    """The message of the ModelDataError ``error`` becomes; None where no TensorFlow op failed.

    The first lines carry what a short failure summary shows: the TF error's own words, the features
    without values and the remedy; the rest of the TF message and the exception raised follow.
    """
    model_error = tensorflow_error(error)
    if model_error is None:
        return None
    message = _message_lines(model_error)
    lines = [f"{stage}: the model failed on the examples: {type(model_error).__name__}: {message[0]}"]
    if features:
        lines += [f"features with no value in some examples{where}: {', '.join(map(repr, features))}.",
                  missing_values.FILL_IN_MISSING_HINT + "."]
    lines += message[1:MESSAGE_LINES]
    if model_error is not error:
        lines.append(f"(raised as {type(error).__name__}: {_message_lines(error, keep_where=True)[0]})")
    return "\n  ".join(lines)


@contextlib.contextmanager
def explained(stage: str, *, schema_metadata: Optional[Dict] = None, examples_path: str = "") -> Iterator[None]:
    """Turns a failure of the model on the data into a ModelDataError that says what happened and why.

    Args:
        stage: The task's name, for the message.
        schema_metadata: The Schema artifact's metadata (schema_gen records the features without values).
        examples_path: Examples to scan (eval split) for features without values, where no schema is at hand.
    """
    try:
        yield
    except TfxKfpError:
        raise
    except Exception as error:  # noqa: BLE001 - re-raised, with what it means
        if tensorflow_error(error) is None:
            raise
        features, where = features_in_schema_metadata(schema_metadata or {}), ""
        if not features and examples_path:
            counts, seen = features_without_values_in_examples(examples_path)
            features = list(counts)
            where = f" (in {seen:,} eval examples read: " + ", ".join(f"{n} {c:,}" for n, c in counts.items()) + ")"
        raise ModelDataError(explain(stage, error, features, where)) from error
