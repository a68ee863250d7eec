"""A tiny Markdown-to-HTML converter for the reports' own Markdown.

Covers what the Markdown reports use: ATX headings, paragraphs, pipe tables,
bullet lists, fenced code, ``**strong**``, ``*emphasis*``, ```code``` and
backslash escapes. Raw HTML is never passed through: all text is escaped.
"""

import html
import re
from typing import List

from tfx_kfp.reports._html import Html, esc, table

_INLINE = re.compile(
    r"\\(?P<escaped>[!-/:-@\[-`{-~])"
    r"|`(?P<code>[^`]*)`"
    r"|\*\*(?P<strong>.+?)\*\*"
    r"|\*(?P<em>[^*\s](?:.*?[^*\s])?)\*"
    r"|\[(?P<link_text>[^\]]*)\]\((?P<link_url>[^)\s]*)\)"
)
_SAFE_LINK = re.compile(r"^(https?:|mailto:|#|[^:]*$)", re.IGNORECASE)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def _text(segment: str) -> str:
    return html.escape(html.unescape(segment), quote=False)


def inline_html(text: str) -> Html:
    """Converts one line of inline Markdown to HTML."""
    out: List[str] = []
    position = 0
    for match in _INLINE.finditer(text):
        out.append(_text(text[position : match.start()]))
        position = match.end()
        if match.group("escaped") is not None:
            out.append(html.escape(match.group("escaped"), quote=False))
        elif match.group("code") is not None:
            out.append("<code>" + html.escape(match.group("code"), quote=False) + "</code>")
        elif match.group("strong") is not None:
            out.append("<strong>" + inline_html(match.group("strong")) + "</strong>")
        elif match.group("em") is not None:
            out.append("<em>" + inline_html(match.group("em")) + "</em>")
        else:
            url = html.unescape(match.group("link_url"))
            label = inline_html(match.group("link_text"))
            out.append(f'<a href="{esc(url)}">{label}</a>' if _SAFE_LINK.match(url) else label)
    out.append(_text(text[position:]))
    return Html("".join(out))


def _cells(line: str) -> List[str]:
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    return [cell.strip() for cell in _CELL_SPLIT.split(body)]


def markdown_to_html(markdown: str, *, heading_offset: int = 0) -> Html:
    """Converts Markdown to an HTML fragment.

    Args:
      markdown: the Markdown text.
      heading_offset: added to each heading level (``#`` with offset 2 is ``<h3>``).

    Returns:
      The HTML fragment; text is escaped, raw HTML in the input shows as text.
    """
    lines = markdown.splitlines()
    blocks: List[str] = []
    paragraph: List[str] = []

    def flush_paragraph() -> None:
        if paragraph:
            blocks.append("<p>" + "<br>".join(inline_html(p) for p in paragraph) + "</p>")
            paragraph.clear()

    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        heading = _HEADING.match(stripped)
        if not stripped:
            flush_paragraph()
            index += 1
        elif stripped.startswith("```"):
            flush_paragraph()
            code: List[str] = []
            index += 1
            while index < len(lines) and not lines[index].strip().startswith("```"):
                code.append(lines[index])
                index += 1
            blocks.append("<pre><code>" + html.escape("\n".join(code), quote=False) + "</code></pre>")
            index += 1
        elif heading:
            flush_paragraph()
            level = min(len(heading.group(1)) + heading_offset, 6)
            blocks.append(f"<h{level}>{inline_html(heading.group(2))}</h{level}>")
            index += 1
        elif stripped.startswith("|") and index + 1 < len(lines) and _TABLE_SEPARATOR.match(lines[index + 1]):
            flush_paragraph()
            headers = [inline_html(c) for c in _cells(stripped)]
            index += 2
            rows = []
            while index < len(lines) and lines[index].strip().startswith("|"):
                cells = [inline_html(c) for c in _cells(lines[index])]
                rows.append((cells + [Html("")] * len(headers))[: len(headers)])
                index += 1
            blocks.append(table(headers, rows))
        elif _BULLET.match(line):
            flush_paragraph()
            items = []
            while index < len(lines) and _BULLET.match(lines[index]):
                items.append("<li>" + inline_html(_BULLET.match(lines[index]).group(1)) + "</li>")
                index += 1
            blocks.append("<ul>" + "".join(items) + "</ul>")
        else:
            paragraph.append(stripped)
            index += 1
    flush_paragraph()
    return Html("\n".join(blocks))
