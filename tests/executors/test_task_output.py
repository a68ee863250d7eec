"""A real Transform whose user module warns and then raises, run under capture_task_output in a child process.

What the user's terminal shows is exactly what the child writes to its real fds
1 and 2 (pipes read here): the module's warning and the failure summary, nothing
from TensorFlow, Beam, absl or TFX, which all go to the task's log file.
"""

import os
import shutil
import subprocess
import sys
import textwrap

from tests._support.chain import FIXTURES

USER_MODULE = '''\
import warnings

import tensorflow as tf


def preprocessing_fn(inputs):
    warnings.warn("my module: body_mass_g is in grams, scaling it", UserWarning)
    return {"body_mass_kg": tf.cast(inputs["body_mass_kilos"], tf.float32) / 1000.0}
'''

CHILD = textwrap.dedent("""
    import sys
    from tfx_kfp.local.failures import summarize_failure
    from tfx_kfp.local.logs import capture_task_output, tf_cpp_logs_to_task_files
    from tfx_kfp.runtime.user_module import materialize

    source, out, module_file, log_path = sys.argv[1:5]
    tf_cpp_logs_to_task_files()
    with open(module_file) as f:
        module_text = f.read()
    names = {materialize(module_text, "preprocessing_fn"): module_file}  # the copy TFX loads -> the user's file
    print("runner: transform running")
    try:
        with capture_task_output(log_path, module_names=names):
            from tests._support import chain
            chain.run_transform(source, out, source_text=module_text)
    except Exception as error:
        print(summarize_failure("transform", error, log_path, module_names=names), file=sys.stderr)
        sys.exit(1)
""")


def test_a_failing_user_module_shows_its_warning_and_error_and_nothing_else(tmp_path):
    for name in ("examples", "schema"):
        shutil.copytree(os.path.join(FIXTURES, name), tmp_path / name)
        if os.path.exists(os.path.join(FIXTURES, f"{name}.metadata.json")):
            shutil.copy(os.path.join(FIXTURES, f"{name}.metadata.json"), tmp_path / f"{name}.metadata.json")
    module = tmp_path / "my_module.py"
    module.write_text(USER_MODULE)
    log_path = tmp_path / "logs" / "transform.log"
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), str(tmp_path / "out"), str(module),
                             str(log_path)], capture_output=True, text=True, timeout=600, env=env,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    log = log_path.read_text()
    assert result.returncode == 1, result.stderr
    assert result.stdout == "runner: transform running\n"
    err = result.stderr.splitlines()
    warning = [line for line in err if "UserWarning: my module: body_mass_g is in grams" in line]
    summary = err[err.index(next(line for line in err if line.startswith("transform failed:"))):]
    assert warning == [f"{module}:7: UserWarning: my module: body_mass_g is in grams, scaling it"]
    assert len(summary) < 15
    assert summary[0] == "transform failed: KeyError: 'body_mass_kilos'"
    assert "    my_module.py, line 8, in preprocessing_fn" in summary
    assert summary[-1] == f"  full log: {log_path}"
    assert len(err) == len(summary) + 2  # the warning (2 lines: where, and the source line) and the summary
    assert "my module: body_mass_g is in grams" in log and "Traceback" not in result.stderr
    assert "tensorflow" in log.lower()  # TF/TFX's own output went to the log
