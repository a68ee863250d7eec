"""A user module that calls sys.exit fails its task, naming the module, in the real TFX executors (issue 14, item 2)."""

import os
import shutil

import pytest
from kfp.dsl import HTML, Markdown, Metrics

from tests._support import chain
from tfx_kfp.runtime.errors import UserModuleError


def _inputs(tmp_path, *artifacts):
    for name in artifacts:
        shutil.copytree(os.path.join(chain.FIXTURES, name), tmp_path / name)
        metadata = os.path.join(chain.FIXTURES, f"{name}.metadata.json")
        if os.path.exists(metadata):
            shutil.copy(metadata, tmp_path / f"{name}.metadata.json")
    return str(tmp_path)


def test_run_fn_exiting_with_code_0_fails_the_trainer(tmp_path):
    from tfx_kfp.components.trainer import executor

    source = _inputs(tmp_path, "transformed_examples", "transform_graph", "schema")
    exiting = chain.module_source() + "\n\ndef run_fn(fn_args):\n    import sys\n    sys.exit(0)\n"
    with pytest.raises(UserModuleError) as error:
        executor.run(examples=chain.artifact(source, "transformed_examples"),
                     transform_graph=chain.artifact(source, "transform_graph"), schema=chain.artifact(source, "schema"),
                     module_source=exiting, model=chain.artifact(source, "model"),
                     model_run=chain.artifact(source, "model_run"), metrics=Metrics(uri=str(tmp_path / "metrics")),
                     report=HTML(uri=str(tmp_path / "training.html")), train_steps=5, eval_steps=1,
                     custom_config="{}")
    assert "module_source (user_module_" in str(error.value)
    assert "called sys.exit(0) in run_fn" in str(error.value)
    assert not (tmp_path / "model").exists()


def test_run_fn_calling_os_exit_0_fails_the_trainer_instead_of_ending_the_process(tmp_path):
    """os._exit skips every handler; while the user module runs it raises instead (issue 24, item 3)."""
    from tfx_kfp.components.trainer import executor

    source = _inputs(tmp_path, "transformed_examples", "transform_graph", "schema")
    exiting = chain.module_source() + "\n\ndef run_fn(fn_args):\n    import os\n    os._exit(0)\n"
    with pytest.raises(UserModuleError) as error:
        executor.run(examples=chain.artifact(source, "transformed_examples"),
                     transform_graph=chain.artifact(source, "transform_graph"), schema=chain.artifact(source, "schema"),
                     module_source=exiting, model=chain.artifact(source, "model"),
                     model_run=chain.artifact(source, "model_run"), metrics=Metrics(uri=str(tmp_path / "metrics")),
                     report=HTML(uri=str(tmp_path / "training.html")), train_steps=5, eval_steps=1,
                     custom_config="{}")
    assert "module_source (user_module_" in str(error.value)
    assert "called os._exit(0) in run_fn" in str(error.value)
    assert not (tmp_path / "model").exists()
    import os as real_os

    assert real_os._exit.__name__ == "_exit"  # restored once the module is done


def test_module_exiting_at_import_fails_the_transform(tmp_path):
    from tfx_kfp.components.transform import executor

    source = _inputs(tmp_path, "examples", "schema")
    exiting = "import sys\nsys.exit(2)\n\n\ndef preprocessing_fn(inputs):\n    return inputs\n"
    with pytest.raises(UserModuleError, match=r"called sys.exit\(2\) at import \(line 2\)"):
        executor.run(examples=chain.artifact(source, "examples"), schema=chain.artifact(source, "schema"),
                     module_source=exiting, transform_graph=chain.artifact(source, "transform_graph"),
                     transformed_examples=chain.artifact(source, "transformed_examples"),
                     report=Markdown(uri=str(tmp_path / "transform.md")), custom_config="{}",
                     beam_pipeline_args=chain.BEAM_ARGS)
    assert not (tmp_path / "transform_graph").exists()
