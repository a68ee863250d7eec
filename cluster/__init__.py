"""Cluster runs as a library: a compiled pipeline to Kubeflow Pipelines, run, followed or scheduled.

    from tfx_kfp import cluster

    result = cluster.submit("pipeline.yaml", "http://localhost:8888", {"train_steps": 300})
    print(result.state, result.link)

``tfx-kfp submit`` is a thin command over :func:`submit`. Only ``kfp`` is needed (the base
install): importing this package never imports TensorFlow, TFX or Beam.
"""

from tfx_kfp.cluster.client import (ClusterError, check_reachable, connect, cron_expression, experiment_id, follow,
                                    run_link, schedule, start_run, upload_version)
from tfx_kfp.cluster.submit import Submission, declared_parameters, load_pipeline_spec, run_arguments, submit
from tfx_kfp.cluster.tasks import SpecTask, SystemFailure, spec_tasks, system_failures, task_events

__all__ = ["ClusterError", "SpecTask", "Submission", "SystemFailure", "check_reachable", "connect",
           "cron_expression", "declared_parameters", "experiment_id", "follow", "load_pipeline_spec",
           "run_arguments", "run_link", "schedule", "spec_tasks", "start_run", "submit", "system_failures",
           "task_events", "upload_version"]
