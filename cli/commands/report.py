"""``tfx-kfp report``: an index page of every report of a local run."""

import argparse
import pathlib
import sys
import webbrowser
from typing import Optional, Union

NAME = "report"
HELP = (
    "Write an HTML index linking every report (HTML, Markdown, metrics, confusion matrix) of a local "
    "kfp.local pipeline run, so you see what the Kubeflow UI would show."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the command's arguments."""
    parser.add_argument(
        "run_dir",
        metavar="RUN_DIR",
        help="a kfp.local run directory (<pipeline root>/<pipeline>-<timestamp>) or a pipeline root, "
        "whose newest run is used",
    )
    parser.add_argument(
        "-o", "--output", metavar="INDEX", help="where to write the index (default: RUN_DIR/index.html)"
    )
    parser.add_argument("--open", action="store_true", help="open the index in the default web browser")


def write_index(run_dir: Union[str, pathlib.Path], output: Optional[str] = None) -> pathlib.Path:
    """Writes the HTML index of a finished run and returns its path (what a run's end line points at).

    Args:
        run_dir: The run's directory (or a pipeline root: its newest run).
        output: Where to write the index (default: RUN_DIR/index.html).

    Raises:
        tfx_kfp.reports.run_scan.RunNotFoundError: ``run_dir`` holds no run.
    """
    from tfx_kfp.reports import run_index  # light: no TensorFlow/TFX imports

    return run_index.write_run_index(run_dir, output)


def open_in_browser(index: Union[str, pathlib.Path]) -> bool:
    """Opens the index in the user's web browser (``$BROWSER`` or the desktop default); False if none."""
    return webbrowser.open(pathlib.Path(index).resolve().as_uri())


def run(args: argparse.Namespace) -> int:
    """Writes the index and prints its path; returns the exit status."""
    from tfx_kfp.reports import run_scan

    try:
        run_dir = run_scan.resolve_run_dir(args.run_dir)
    except run_scan.RunNotFoundError as error:
        print(f"tfx-kfp report: error: {error}", file=sys.stderr)
        return 2
    if run_dir.resolve() != pathlib.Path(args.run_dir).resolve():
        count = len(run_scan.list_runs(args.run_dir))
        print(f"tfx-kfp report: {count} run(s) in {args.run_dir}; indexing the newest, {run_dir.name}", file=sys.stderr)
    index = write_index(run_dir, args.output)
    print(index)
    if args.open and not open_in_browser(index):
        print(f"tfx-kfp report: no web browser found to open {index}; open it yourself", file=sys.stderr)
    return 0
