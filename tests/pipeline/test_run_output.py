"""What a person sees: `tfx-kfp demo` and a failing `tfx-kfp run`, as real processes without a terminal."""

import os
import re
import subprocess
import sys

from tfx_kfp.pipelines import penguin

STAGES = ["example-gen", "statistics-gen", "schema-gen", "example-validator", "transform", "trainer", "evaluator",
          "pusher"]


def _cli(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "COLUMNS")}
    return subprocess.run([sys.executable, "-m", "tfx_kfp.cli", *args], capture_output=True, text=True,
                           timeout=900, cwd=cwd, env=env)


def test_demo_prints_one_line_per_state_change_and_ends_with_the_result(tmp_path):
    result = _cli("demo", "--workdir", str(tmp_path / "demo"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) <= 30, "\n".join(lines)
    for stage in STAGES:
        assert any(re.search(rf"\b{stage}\s+done\s+\d+(\.\d+)?(ms|s)\b", line) for line in lines), stage
    assert lines[-1].startswith("demo: done: serving version")
    assert not any("tensorflow" in line.lower() or "Traceback" in line for line in lines)
    logs = next((tmp_path / "demo" / "runs").glob("penguin-*")) / "logs"
    assert (logs / "trainer.log").stat().st_size > 0  # the noise went to the task's log


def test_a_failing_transform_module_shows_its_warning_its_error_and_the_log(tmp_path):
    module = tmp_path / "my_module.py"
    module.write_text(penguin.module_source().replace(
        "def preprocessing_fn(inputs):",
        "def preprocessing_fn(inputs):\n"
        "    import warnings\n"
        "    warnings.warn('my module: scaling body mass to kilograms')\n"
        "    raise KeyError('body_mass_kilos is not a feature of this data')\n", 1))
    result = _cli("run", "--local", "--module-file", str(module), "--pipeline-root", str(tmp_path / "runs"),
                  "--param", f"serving_base_dir={tmp_path / 'serving'}", cwd=tmp_path)
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "my module: scaling body mass to kilograms" in output  # the user's own warning still reaches them
    lines = output.strip().splitlines()
    failed_at = next(i for i, line in enumerate(lines) if re.search(r"\btransform\s+failed\b", line))
    failure = lines[failed_at:]
    assert len(failure) < 15, "\n".join(failure)
    text = "\n".join(failure)
    assert "body_mass_kilos is not a feature of this data" in text
    assert "my_module.py" in text
    log = next((tmp_path / "runs").glob("penguin-*")) / "logs" / "transform.log"
    assert str(log) in text
    assert not any(state in output for state in ("trainer            running", "pusher             done"))
