"""What TF Serving counts as a model version directory name.

TF Serving (``file_system_storage_path_source.cc`` ``ParseVersionNumber``, 2.16.1) parses each
child of a base path with ``strings::safe_strto64`` and skips those it cannot parse: C spaces
around, an optional ``-``, ASCII digits only, within int64. Python's ``int()`` accepts more
(``+``, ``_``, non-ASCII digits, any size), hence this mirror: ``"00012"`` is version 12,
``"1.0"``, ``"v1"``, ``"+1"``, ``"1_000"`` and ``"9223372036854775808"`` are not versions.
"""

from typing import Optional

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
_C_SPACES = " \t\n\v\f\r"
_ASCII_DIGITS = frozenset("0123456789")


def parse_version(name: str) -> Optional[int]:
    """The version number TF Serving reads from a child name of a base path, else None."""
    text = name.strip(_C_SPACES)
    digits = text[1:] if text.startswith("-") else text
    if not digits or not set(digits) <= _ASCII_DIGITS:
        return None
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        return None
    return value
