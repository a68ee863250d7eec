"""The report helpers: number formatting, Markdown escaping, the external-reference scanner."""

import html

import pytest

from tests._support.report_samples import EVIL, external_references
from tfx_kfp.reports._html import format_number, format_percent
from tfx_kfp.reports._markdown import md_escape
from tfx_kfp.reports.markdown_html import markdown_to_html


def test_markdown_escaping_round_trips_through_the_index_renderer():
    for text in (EVIL, "a_b*c`d|e\\f#g", "&amp; <x>"):
        assert markdown_to_html(md_escape(text)) == f"<p>{html.escape(text, quote=False)}</p>"


@pytest.mark.parametrize(
    "value, text",
    [(None, "—"), (3, "3"), (1234567, "1,234,567"), (0.254545, "0.2545"), (2.0, "2"), (1e-5, "1.000e-05"),
     (float("nan"), "NaN"), (123456.7, "123,457")],
)
def test_format_number(value, text):
    assert format_number(value) == text


def test_format_percent():
    assert [format_percent(f) for f in (0, 0.1, 0.035, 1 / 3, 1)] == ["0 %", "10 %", "3.5 %", "33.3 %", "100 %"]


def test_external_reference_scanner_finds_loads():
    assert external_references('<script src="https://cdn.example/x.js"></script>')
    assert external_references('<div style="background:url(http://x/y.png)">')
    assert external_references('<img src="//x.example/a.png">')
    assert external_references('<a href="#task-1">x</a>') == []
