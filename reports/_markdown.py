"""Markdown building blocks: escaping and GitHub-style pipe tables.

User text is escaped so it can neither format nor inject HTML: Markdown
punctuation gets a backslash, ``<``, ``>`` and ``&`` become entities, and line
breaks become spaces (a table row is one line).
"""

import re
from typing import Iterable, Sequence

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def md_escape(text: object) -> str:
    """Escapes ``text`` for use anywhere in Markdown, table cells included."""
    value = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = " ".join(value.split())
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", value)


def md_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A pipe table; cells must already be Markdown (see :func:`md_escape`)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(cell if cell != "" else " " for cell in row) + " |")
    return "\n".join(lines)
