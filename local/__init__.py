"""Local pipeline runs on kfp.local: in-process, in subprocesses, or in Docker."""

from tfx_kfp.local.runner import RUNNERS, LocalRun, run_pipeline

__all__ = ["RUNNERS", "LocalRun", "run_pipeline"]
