"""``tfx-kfp report``: the index path a run's end line points at, and ``--open`` through the real webbrowser."""

import os
import subprocess
import sys

from tests._support.report_samples import write_local_run
from tfx_kfp.cli.commands.report import write_index


def sample_run(tmp_path):
    return write_local_run(tmp_path / "root", "penguin", [
        ("example-gen", {"examples/": b"x"}),
        ("evaluator", {"metrics": {"sparse_categorical_accuracy": 0.97}, "report": "<h2>Evaluation</h2>"}),
    ])


def test_write_index_returns_the_html_index_of_the_run_or_of_the_newest_run_under_a_root(tmp_path):
    run_dir = sample_run(tmp_path)
    index = write_index(run_dir)
    assert index == run_dir / "index.html" and "evaluator" in index.read_text()
    assert write_index(tmp_path / "root") == index


def test_open_hands_the_index_to_the_users_browser(tmp_path):
    run_dir = sample_run(tmp_path)
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"  # a "browser" that writes down the URL it was given
    browser.write_text(f"#!{sys.executable}\nimport sys\nopen({str(opened)!r}, 'w').write(sys.argv[1])\n")
    browser.chmod(0o755)
    env = dict(os.environ, BROWSER=f"{browser} %s", DISPLAY="", WAYLAND_DISPLAY="")
    result = subprocess.run([sys.executable, "-m", "tfx_kfp.cli", "report", str(run_dir), "--open"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(run_dir / "index.html")
    assert opened.read_text() == (run_dir / "index.html").as_uri()


def test_open_without_any_browser_says_so(tmp_path):
    run_dir = sample_run(tmp_path)
    env = dict(os.environ, BROWSER="/nonexistent-browser %s", DISPLAY="", WAYLAND_DISPLAY="", PATH="/nonexistent")
    result = subprocess.run([sys.executable, "-m", "tfx_kfp.cli", "report", str(run_dir), "--open"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0
    assert "no web browser found to open" in result.stderr
