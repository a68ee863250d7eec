"""Sample inputs for the report tests and a writer of kfp.local-style run dirs."""

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Sequence, Tuple, Union

REPO_ROOT = Path(__file__).resolve().parents[2]
PENGUIN_CSV = REPO_ROOT / "pipelines" / "penguin" / "data" / "penguins_processed.csv"
SCREENSHOT_DIR = REPO_ROOT / "docs" / "images" / "reports"
MAX_REPORT_BYTES = 1_000_000
PENGUIN_FEATURES = ("species", "culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g")
SPECIES = ("Adelie", "Chinstrap", "Gentoo")

# An attribute or CSS reference that would make the browser fetch something.
_EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|action|data|poster|srcset|xlink:href)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|url\(\s*["']?\s*(?:https?:)?//|@import|<script|<link\b|<iframe|<object|<embed""",
    re.IGNORECASE,
)

# Text that must come out escaped wherever a report shows it.
EVIL = '<script>alert("x")</script> | *bold* [a](http://evil.example/x.png)'


def external_references(page: str) -> List[str]:
    """Snippets of ``page`` that would load something from elsewhere (or run script)."""
    return [page[max(m.start() - 40, 0) : m.end() + 40] for m in _EXTERNAL.finditer(page)]


class _TableReader(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables: List[Dict] = []
        self._open: List[Dict] = []  # tables being read (a table may sit in another's cell)
        self._cell: List[str] = None
        self._in_caption = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append({"caption": "", "rows": []})
            self._open.append(self.tables[-1])
        elif tag == "tr" and self._open:
            self._open[-1]["rows"].append([])
        elif tag in ("td", "th") and self._open:
            self._cell = []
        elif tag == "caption":
            self._in_caption = True

    def handle_endtag(self, tag):
        if tag == "table" and self._open:
            self._open.pop()
        elif tag in ("td", "th") and self._cell is not None and self._open:
            self._open[-1]["rows"][-1].append(" ".join(self._cell))
            self._cell = None
        elif tag == "caption":
            self._in_caption = False

    def handle_data(self, data):
        text = " ".join(data.split())
        if self._in_caption and self._open:
            self._open[-1]["caption"] += text
        elif self._cell is not None and text:
            self._cell.append(text)


def html_tables(page: str) -> List[Dict]:
    """Every ``<table>`` of an HTML page in document order: ``{"caption": str, "rows": [[cell text]]}``.

    Header rows are included; a cell's text is its text nodes joined by single spaces.
    """
    reader = _TableReader()
    reader.feed(page)
    return reader.tables


def sample_history(epochs: int = 8) -> Dict[str, List[float]]:
    """A plausible Keras history (used where no real training runs)."""
    loss = [1.1 * 0.7**i + 0.1 for i in range(epochs)]
    accuracy = [0.95 - 0.5 * 0.6**i for i in range(epochs)]
    return {
        "loss": loss,
        "sparse_categorical_accuracy": accuracy,
        "val_loss": [v * 1.08 + 0.02 for v in loss],
        "val_sparse_categorical_accuracy": [v - 0.03 for v in accuracy],
    }


def evaluation_kwargs(*, blessed: bool, accuracy: float = 0.94, matrix=None) -> Dict:
    """Arguments for ``render_evaluation_html`` as the evaluator would pass them."""
    matrix = matrix or [[48, 2, 0], [3, 20, 0], [0, 0, 41]]
    per_class = [row[i] / max(sum(row), 1) for i, row in enumerate(matrix)]
    total = sum(sum(row) for row in matrix)
    return {
        "blessed": blessed,
        "overall": {"sparse_categorical_accuracy": accuracy, "example_count": float(total)},
        "per_slice": [("Overall", {"sparse_categorical_accuracy": accuracy, "example_count": float(total)})]
        + [
            (f"species = {i}", {"sparse_categorical_accuracy": per_class[i], "example_count": float(sum(row))})
            for i, row in enumerate(matrix)
        ],
        "thresholds": [
            {
                "metric": "sparse_categorical_accuracy",
                "kind": "lower_bound",
                "threshold": 0.6 if blessed else 0.99,
                "value": accuracy,
                "passed": blessed,
            },
            {
                "metric": "sparse_categorical_accuracy",
                "kind": "change",
                "threshold": -1e-10,
                "value": 0.01,
                "passed": True,
                "direction": "higher_is_better",
            },
        ],
        "confusion_matrix": {"labels": list(SPECIES), "matrix": matrix},
    }


def push_kwargs() -> Dict:
    """Arguments for ``render_push_markdown`` for a pushed penguin model."""
    inputs = {name: {"dtype": "float32", "shape": [-1]} for name in PENGUIN_FEATURES[1:]}
    return {
        "pushed": True,
        "pushed_path": "/serving/penguin/1735689600",
        "version": 1735689600,
        "signatures": {"serving_default": {"inputs": inputs, "outputs": {"output_0": {"dtype": "float32",
                                                                                      "shape": [-1, 3]}}}},
        "reason": "model blessed",
    }


def classification_metadata(labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> Dict:
    """``system.ClassificationMetrics`` metadata as ``log_confusion_matrix`` writes it."""
    return {
        "confusionMatrix": {
            "annotationSpecs": [{"displayName": label} for label in labels],
            "rows": [{"row": list(row)} for row in matrix],
        }
    }


Outputs = Dict[str, Union[str, bytes, Dict]]


def write_local_run(
    root: Path, pipeline: str, tasks: Sequence[Tuple[str, Outputs]], stamp: str = "2025-01-02-03-04-05-123456"
) -> Path:
    """Writes a run the way ``kfp.local`` lays it out.

    Args:
      root: the pipeline root.
      pipeline: pipeline name.
      tasks: ``(task name, outputs)`` in run order. An output that is ``str``
        or ``bytes`` is written as the artifact file (HTML/Markdown reports); a
        ``dict`` is artifact metadata only (``system.Metrics``,
        ``system.ClassificationMetrics``); a name ending in ``/`` makes a
        directory artifact (a TFX artifact) with one file.

    Returns:
      The run directory.
    """
    run_dir = root / f"{pipeline}-{stamp}"
    for order, (task, outputs) in enumerate(tasks):
        task_dir = run_dir / task
        task_dir.mkdir(parents=True)
        artifacts = {}
        for name, value in outputs.items():
            clean = name.rstrip("/")
            path = task_dir / clean
            metadata: Dict = {}
            if name.endswith("/"):
                path.mkdir()
                (path / "data.bin").write_bytes(value if isinstance(value, bytes) else str(value).encode())
            elif isinstance(value, dict):
                metadata = value
            else:
                path.write_bytes(value if isinstance(value, bytes) else value.encode("utf-8"))
            artifacts[clean] = {"artifacts": [{"name": clean, "uri": str(path), "metadata": metadata}]}
        executor_output = task_dir / "executor_output.json"
        executor_output.write_text(json.dumps({"artifacts": artifacts}))
        finished = 1_700_000_000 + 60 * order
        os.utime(executor_output, (finished, finished))
    return run_dir
