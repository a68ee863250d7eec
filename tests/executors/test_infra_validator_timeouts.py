"""The InfraValidator gives up on a model whose load hangs (issue 24, item 1): "did not load within N s", not blessed."""

import time

from tests._support import chain, infra

FIX = chain.FIXTURES


def test_a_load_that_hangs_is_stopped_at_the_limit_and_the_model_is_not_blessed(tmp_path):
    infra.save_model_whose_init_op_blocks(str(tmp_path))
    started = time.monotonic()
    blessed, infra_blessing = chain.run_infra_validator(FIX, str(tmp_path), model_root=str(tmp_path),
                                                        load_timeout_seconds=5.0)
    assert time.monotonic() - started < 180  # TensorFlow's import in the loader process, then 5 s
    assert blessed is False and infra_blessing.metadata["blessed"] == 0
    assert infra.outputs(infra_blessing) == {"INFRA_NOT_BLESSED"}
    report = infra.report(tmp_path)
    assert "did not load within 5 s" in report and "No requests were sent." in report


def test_the_load_limit_defaults_to_tfx_maximum_loading_time():
    import inspect

    from tfx.components.infra_validator import executor as tfx_executor

    from tfx_kfp.components.infra_validator import component, executor

    default = inspect.signature(component.infra_validator.python_func).parameters["load_timeout_seconds"].default
    assert default == executor.MAX_LOADING_TIME_S == tfx_executor._DEFAULT_MAX_LOADING_TIME_SEC
