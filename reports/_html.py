"""Small HTML building blocks shared by the HTML reports.

Every report is one self-contained page: inline CSS, inline SVG, no scripts and
no external URL. A Content-Security-Policy ``<meta>`` tag makes the browser
refuse any external load even if one slipped in.

Escaping is by type: plain ``str`` values are always HTML-escaped; only values
wrapped in :class:`Html` (built by this package) are inserted as they are.
"""

import html
import math
from typing import Iterable, Optional, Sequence, Union

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

# Okabe-Ito colours, distinguishable with colour-blindness; text always repeats
# what a colour says.
SERIES_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9")

BASE_CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  margin: 0; color: #1b1f24; background: #fff; font-size: 14px; line-height: 1.45; }
main { padding: 16px 24px 32px; max-width: 1200px; }
h1 { font-size: 22px; margin: 4px 0 12px; }
h2 { font-size: 18px; margin: 24px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
table { border-collapse: collapse; margin: 6px 0 12px; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: #f3f5f7; }
th[scope=row] { font-weight: 600; background: #fafbfc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.muted { color: #57606a; }
.small { font-size: 12px; }
.tag { display: inline-block; border: 1px solid #8c959f; border-radius: 10px; padding: 0 7px;
  font-size: 11px; font-weight: 600; color: #424a53; vertical-align: middle; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 6px; vertical-align: baseline; }
.status { border-radius: 6px; padding: 10px 14px; margin: 8px 0 16px; font-size: 16px;
  font-weight: 600; border: 2px solid; }
.status.good { background: #e6f4ea; border-color: #1a7f37; color: #0f5323; }
.status.bad { background: #fdecea; border-color: #cf222e; color: #82071e; }
.status.warn { background: #fff8e1; border-color: #9a6700; color: #6b4700; }
.pass { color: #0f5323; font-weight: 600; }
.fail { color: #82071e; font-weight: 600; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
svg text { font-family: inherit; }
"""


class Html(str):
    """A string of trusted HTML, inserted without escaping."""


def esc(value: object) -> Html:
    """Returns ``value`` as HTML: escaped unless it already is :class:`Html`."""
    if isinstance(value, Html):
        return value
    return Html(html.escape(str(value), quote=True))


def join(parts: Iterable[object], sep: str = "\n") -> Html:
    """Joins fragments, escaping those that are plain strings."""
    return Html(sep.join(esc(part) for part in parts))


def tag(name: str, content: object = "", **attrs: Optional[object]) -> Html:
    """Builds ``<name attrs>content</name>``; attribute ``class_`` means ``class``.

    Attributes whose value is ``None`` are left out; names drop a trailing
    underscore and turn other underscores into hyphens (``aria_label``).
    """
    rendered = []
    for key, value in attrs.items():
        if value is None:
            continue
        attr = key.rstrip("_").replace("_", "-")
        rendered.append(f' {attr}="{esc(value)}"')
    return Html(f"<{name}{''.join(rendered)}>{esc(content)}</{name}>")


def format_number(value: Union[int, float, None]) -> str:
    """Formats a number for tables: grouped integers, 4 significant digits."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1e5:
        return f"{value:,.0f}"
    if abs(value) < 1e-3:
        return f"{value:.3e}"
    return f"{value:.4g}"


def format_percent(fraction: Optional[float]) -> str:
    """Formats a fraction in [0, 1] as a percentage."""
    if fraction is None or math.isnan(fraction):
        return "—"
    percent = 100.0 * fraction
    if percent == 0 or percent >= 10 or percent == int(percent):
        return f"{percent:.0f} %" if percent == int(percent) else f"{percent:.1f} %"
    return f"{percent:.2g} %"


def num_cell(value: Union[int, float, None, str]) -> Html:
    """A right-aligned numeric ``<td>``."""
    text = value if isinstance(value, str) else format_number(value)
    return tag("td", text, class_="num")


def table(
    headers: Sequence[object],
    rows: Iterable[Sequence[object]],
    *,
    caption: object = None,
    row_headers: bool = True,
    class_: Optional[str] = None,
    caption_hidden: bool = False,
) -> Html:
    """Builds an accessible table.

    Args:
      headers: column titles (``<th scope="col">``).
      rows: cells per row. A cell that already is a ``<td>``/``<th>`` fragment
        (see :func:`num_cell`) is used as is; anything else becomes a ``<td>``.
      caption: table caption, announced by screen readers.
      row_headers: whether the first cell of each row is a ``<th scope="row">``.
      class_: CSS class of the table.
      caption_hidden: keeps the caption for screen readers only.

    Returns:
      The table HTML.
    """
    parts = ["<table" + (f' class="{esc(class_)}"' if class_ else "") + ">"]
    if caption is not None:
        parts.append(tag("caption", caption, class_="visually-hidden" if caption_hidden else None))
    parts.append("<thead><tr>" + "".join(tag("th", h, scope="col") for h in headers) + "</tr></thead>")
    parts.append("<tbody>")
    for row in rows:
        cells = []
        for index, cell in enumerate(row):
            if isinstance(cell, Html) and (cell.startswith("<td") or cell.startswith("<th")):
                cells.append(cell)
            elif index == 0 and row_headers:
                cells.append(tag("th", cell, scope="row"))
            else:
                cells.append(tag("td", cell))
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    return Html("".join(parts))


def swatch(colour: str) -> Html:
    """A small colour square; always put text next to it."""
    return Html(f'<span class="swatch" style="background:{esc(colour)}" aria-hidden="true"></span>')


def document(title: str, body: object, *, css: str = "") -> str:
    """Wraps a body into a complete, self-contained HTML page.

    Args:
      title: page title (escaped).
      body: page content; plain strings are escaped.
      css: extra inline CSS for this page.

    Returns:
      The page, starting with ``<!DOCTYPE html>``.
    """
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{BASE_CSS}{css}</style>\n</head>\n"
        f"<body>\n<main>\n{esc(body)}\n</main>\n</body>\n</html>\n"
    )
