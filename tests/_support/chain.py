"""Runs each executor on KFP artifacts in a folder: the checked-in fixture chain and its tests.

``tests/fixtures/penguin_chain/<artifact>/`` holds each stage's output; each
stage's inputs are the previous stages' outputs. ``<artifact>.metadata.json``
holds the KFP artifact metadata (TFX properties). Regenerate with:

    uv run python tests/fixtures/make_penguin_chain.py
"""

import json
import os

from kfp.dsl import HTML, ClassificationMetrics, Markdown, Metrics

from tfx_kfp.components import types

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(REPO, "tests", "fixtures", "penguin_chain")
PENGUIN_DATA = os.path.join(REPO, "pipelines", "penguin", "data")
PENGUIN_MODULE = os.path.join(REPO, "pipelines", "penguin", "penguin_module.py")
BEAM_ARGS = ["--direct_running_mode=in_memory"]

ARTIFACT_TYPES = {
    "examples": types.Examples,
    "statistics": types.ExampleStatistics,
    "schema": types.Schema,
    "anomalies": types.ExampleAnomalies,
    "transform_graph": types.TransformGraph,
    "transformed_examples": types.Examples,
    "model": types.Model,
    "model_run": types.ModelRun,
    "evaluation": types.ModelEvaluation,
    "blessing": types.ModelBlessing,
    "pushed_model": types.PushedModel,
}


def module_source() -> str:
    with open(PENGUIN_MODULE) as f:
        return f.read()


def artifact(root: str, name: str, kind: str = None):
    """A KFP artifact at ``root/name`` with the metadata saved next to it, if any."""
    metadata_file = os.path.join(root, f"{name}.metadata.json")
    metadata = {}
    if os.path.exists(metadata_file):
        with open(metadata_file) as f:
            metadata = json.load(f)
    return ARTIFACT_TYPES[kind or name](uri=os.path.join(root, name), metadata=metadata)


def metrics(root: str, name: str) -> Metrics:
    return Metrics(uri=os.path.join(root, name))


def report(root: str, name: str, kind=HTML):
    """A visual output at ``root/reports/<name>``."""
    os.makedirs(os.path.join(root, "reports"), exist_ok=True)
    return kind(uri=os.path.join(root, "reports", name))


def save_metadata(root: str, name: str, kfp_artifact) -> None:
    with open(os.path.join(root, f"{name}.metadata.json"), "w") as f:
        json.dump(kfp_artifact.metadata, f, indent=1, sort_keys=True)


def run_example_gen(out: str, data_root: str = PENGUIN_DATA, **overrides):
    from tfx_kfp.components.example_gen import executor

    examples = artifact(out, "examples")
    args = dict(data_root=data_root, examples=examples, input_format="csv", label_key="species",
                train_hash_buckets=2, eval_hash_buckets=1, beam_pipeline_args=BEAM_ARGS, input_pattern="",
                span_range=[], input_fingerprint="")
    executor.run(**{**args, **overrides})
    save_metadata(out, "examples", examples)
    return examples


def run_statistics_gen(source: str, out: str, beam_pipeline_args=BEAM_ARGS):
    from tfx_kfp.components.statistics_gen import executor

    statistics = artifact(out, "statistics")
    executor.run(examples=artifact(source, "examples"), statistics=statistics,
                 report=report(out, "statistics.html"), beam_pipeline_args=beam_pipeline_args)
    save_metadata(out, "statistics", statistics)
    return statistics


def run_schema_gen(source: str, out: str):
    from tfx_kfp.components.schema_gen import executor

    schema = artifact(out, "schema")
    executor.infer(statistics=artifact(source, "statistics"), schema=schema, report=report(out, "schema.md", Markdown),
                   infer_feature_shape=True)
    save_metadata(out, "schema", schema)
    return schema


def run_example_validator(source: str, out: str, fail_on_anomalies: bool = True):
    from tfx_kfp.components.example_validator import executor

    anomalies = artifact(out, "anomalies")
    executor.run(statistics=artifact(source, "statistics"), schema=artifact(source, "schema"),
                 anomalies=anomalies, report=report(out, "anomalies.html"), fail_on_anomalies=fail_on_anomalies)
    save_metadata(out, "anomalies", anomalies)
    return anomalies


def run_transform(source: str, out: str, source_text: str = None, beam_args=None):
    from tfx_kfp.components.transform import executor

    graph, transformed = artifact(out, "transform_graph"), artifact(out, "transformed_examples")
    executor.run(examples=artifact(source, "examples"), schema=artifact(source, "schema"),
                 module_source=source_text or module_source(), transform_graph=graph,
                 transformed_examples=transformed, report=report(out, "transform.md", Markdown), custom_config="{}",
                 beam_pipeline_args=BEAM_ARGS if beam_args is None else beam_args)
    save_metadata(out, "transformed_examples", transformed)
    return graph, transformed


def run_trainer(source: str, out: str, train_steps: int = 200):
    from tfx_kfp.components.trainer import executor

    model, run, logged = artifact(out, "model"), artifact(out, "model_run"), metrics(out, "trainer_metrics")
    executor.run(examples=artifact(source, "transformed_examples"), transform_graph=artifact(source, "transform_graph"),
                 schema=artifact(source, "schema"), module_source=module_source(), model=model, model_run=run,
                 metrics=logged, report=report(out, "training.html"), train_steps=train_steps, eval_steps=5,
                 custom_config="{}")
    save_metadata(out, "model", model)
    return model, logged


def run_evaluator(source: str, out: str, accuracy_threshold: float = 0.9, eval_config_json: str = "",
                  beam_args=BEAM_ARGS):
    from tfx_kfp.components.evaluator import executor

    evaluation, blessing, logged = artifact(out, "evaluation"), artifact(out, "blessing"), metrics(out, "eval_metrics")
    blessed = executor.run(examples=artifact(source, "examples"), model=artifact(source, "model"),
                           label_key="species", evaluation=evaluation, blessing=blessing, metrics=logged,
                           confusion_matrix=ClassificationMetrics(uri=os.path.join(out, "confusion_matrix")),
                           report=report(out, "evaluation.html"), baseline_model=None,
                           accuracy_threshold=accuracy_threshold, min_improvement=0.0, slice_features=[],
                           eval_config_json=eval_config_json, beam_pipeline_args=beam_args)
    save_metadata(out, "blessing", blessing)
    return blessed, blessing, logged


def run_pusher(source: str, out: str, serving_base_dir: str):
    from tfx_kfp.components.pusher import executor as push

    pushed = artifact(out, "pushed_model")
    push.run(model=artifact(source, "model"), blessing=artifact(source, "blessing"),
             serving_base_dir=serving_base_dir, pushed_model=pushed, report=report(out, "push.md", Markdown),
             evaluation_metrics=None, source_run="", infra_blessing=None)
    return pushed


def run_infra_validator(source: str, out: str, model_root: str = None, **overrides):
    """Runs the InfraValidator on ``source``'s examples and ``model_root``'s (default: ``source``'s) model."""
    from tfx_kfp.components.infra_validator import executor

    infra_blessing = types.InfraBlessing(uri=os.path.join(out, "infra_blessing"))
    args = dict(model=artifact(model_root or source, "model"), examples=artifact(source, "examples"),
                infra_blessing=infra_blessing, report=report(out, "infra_validation.md", Markdown),
                num_examples=10, request_timeout_s=30.0, max_latency_ms=2000.0, load_timeout_seconds=300.0)
    blessed = executor.run(**{**args, **overrides})
    return blessed, infra_blessing
