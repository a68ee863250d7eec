"""Every task runs on Keras 2, as TFX's stack expects, unless the caller explicitly asks otherwise (issue 18).

TensorFlow reads TF_USE_LEGACY_KERAS once, when it is first imported: each check runs a
one-task pipeline in a fresh Python process whose environment does not set it.
"""

import json
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import json, sys
    from kfp import dsl
    from tfx_kfp import local
    from tfx_kfp.components.image import RUNTIME_IMAGE
    from tfx_kfp.runtime import task_env

    @dsl.component(base_image=RUNTIME_IMAGE, install_kfp_package=False)
    def keras_version() -> str:
        import tensorflow as tf
        return tf.keras.__name__  # tf_keras.… (Keras 2) or keras.… (Keras 3)

    @dsl.pipeline(name="keras-version")
    def pipeline():
        task_env.set_on(keras_version())

    run = local.run_pipeline(pipeline, runner=sys.argv[1], pipeline_root=sys.argv[2])
    record = run.tasks["keras-version"]
    print(json.dumps({"version": record.parameters["Output"], "state": record.state}))
''')


def _run(tmp_path, runner, **env):
    environ = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    script = tmp_path / "keras_version_pipeline.py"  # KFP reads the component's source from its file
    script.write_text(SCRIPT)
    completed = subprocess.run([sys.executable, str(script), runner, str(tmp_path / "runs")], capture_output=True,
                               text=True, env={**environ, **env}, cwd=os.getcwd(), check=False, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_tasks_run_on_keras_2_in_process_and_an_explicit_value_wins_and_misses_the_cache(tmp_path):
    in_process = _run(tmp_path, "inprocess")
    assert in_process == {"version": in_process["version"], "state": "done"}
    assert in_process["version"].startswith("tf_keras."), "Keras 2 (tf_keras) in the runner's own process"
    keras3 = _run(tmp_path, "subprocess", TF_USE_LEGACY_KERAS="0")
    assert keras3["state"] == "done", "the environment is part of the cache key: not the Keras 2 run's entry"
    assert keras3["version"].startswith("keras.")
