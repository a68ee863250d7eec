"""What TF Serving counts as a model version directory name.

TF Serving (tensorflow_serving/sources/storage_path/file_system_storage_path_source.cc
at tag 2.16.1, ``ParseVersionNumber``) parses every child of a model's base path with
``strings::safe_strto64`` (tsl/platform/numbers.cc in TensorFlow 2.16) and skips the
children it cannot parse.  That parser is hand-mirrored here because Python's ``int()``
differs from it (``int()`` accepts ``+``, ``_`` separators, non-ASCII digits and
arbitrarily large values; ``safe_strto64`` accepts none of these).  Its rule:

* leading and trailing C ``isspace`` characters (space, \\t, \\n, \\v, \\f, \\r) are skipped;
* an optional single ``-`` (no ``+``);
* then at least one ASCII digit and nothing but ASCII digits;
* the value must fit in a signed 64-bit integer, else the name is not a version.

So ``"00012"`` is version 12, ``"9223372036854775807"`` (19 digits) is a version, and
``"1.0"``, ``"v1"``, ``"+1"``, ``"1_000"`` and ``"9223372036854775808"`` are not.
"""

from typing import Optional

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
_C_SPACES = " \t\n\v\f\r"
_ASCII_DIGITS = frozenset("0123456789")


def parse_version(name: str) -> Optional[int]:
    """Returns the version number TF Serving reads from a directory name, else None.

    Args:
        name: A child name of a model's base path (no path separators).

    Returns:
        The signed 64-bit version number, or None when TF Serving ignores the name.
    """
    text = name.strip(_C_SPACES)
    digits = text[1:] if text.startswith("-") else text
    if not digits or not set(digits) <= _ASCII_DIGITS:
        return None
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        return None
    return value
