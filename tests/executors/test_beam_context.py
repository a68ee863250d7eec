"""The Beam context TFX's executors get (``tfx_bridge.beam_context``): no TFX package for in-process workers."""

import pytest

from tfx_kfp.runtime import beam_defaults, tfx_bridge


def _executor(args):
    from tfx.components.statistics_gen import executor

    return executor.Executor(tfx_bridge.beam_context(args))


def test_in_memory_workers_get_the_args_through_tfxs_pipeline_hook_and_no_tfx_package():
    from apache_beam.options.pipeline_options import DirectOptions

    executor = _executor(beam_defaults.IN_MEMORY_ARGS + ["--direct_num_workers=1"])
    assert not any("extra_package" in a for a in executor._beam_pipeline_args)  # TFX built no sdist of itself
    pipeline = executor._make_beam_pipeline()
    assert pipeline.options.view_as(DirectOptions).direct_running_mode == "in_memory"
    assert pipeline.options.view_as(DirectOptions).direct_num_workers == 1


def test_multi_processing_workers_get_the_args_through_the_hook_too():
    """The DirectRunner's subprocess workers run this environment: no TFX sdist is built for them."""
    from apache_beam.options.pipeline_options import DirectOptions

    executor = _executor(beam_defaults.multi_processing_args(2))
    assert executor._beam_pipeline_args == []  # TFX adds --extra_package=<its sdist> to these when given
    options = executor._make_beam_pipeline().options.view_as(DirectOptions)
    assert (options.direct_running_mode, options.direct_num_workers) == ("multi_processing", 2)


def test_remote_workers_get_tfxs_own_handling_of_the_args():
    args = ["--runner=PortableRunner", "--job_endpoint=localhost:1", "--sdk_container_image=image"]
    executor = _executor(args)
    assert executor._beam_pipeline_args[:len(args)] == args


def test_the_rule_for_workers_in_this_process():
    assert beam_defaults.workers_on_this_machine(beam_defaults.multi_processing_args(2))
    assert not beam_defaults.workers_on_this_machine(["--runner=FlinkRunner"])
    assert beam_defaults.workers_in_this_process([])
    assert beam_defaults.workers_in_this_process(["--runner=DirectRunner", "--direct_running_mode=in_memory"])
    assert not beam_defaults.workers_in_this_process(["--direct_running_mode=multi_threading"])
    assert not beam_defaults.workers_in_this_process(["--runner=FlinkRunner"])
