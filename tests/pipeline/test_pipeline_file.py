"""The YAML a user uploads is what runs: ``tfx-kfp compile`` then ``tfx-kfp run --local --pipeline-file``,
and a pipeline wired by hand from our components and compiled with the KFP SDK."""

import os

from kfp import dsl

from tfx_kfp.cli import main
from tfx_kfp.components.example_gen.component import example_gen
from tfx_kfp.components.resolve_inputs.component import resolve_inputs
from tfx_kfp.pipelines import compile_pipeline, penguin


def test_the_compiled_penguin_yaml_runs_locally_and_pushes_a_version(tmp_path, capsys):
    """The default compile (for the kind cluster: data, models and the module file on its volume), run here
    unchanged with run arguments pointing at this machine's folders and module file, as `submit` would."""
    yaml_path, store = tmp_path / "p.yaml", tmp_path / "serving"
    assert main(["compile", "--pipeline", "penguin", "-o", str(yaml_path)]) == 0
    assert main(["run", "--local", "--pipeline-file", str(yaml_path), "--pipeline-root", str(tmp_path / "runs"),
                 "--param", f"data_root={penguin.DATA_DIR}", "--param", f"serving_base_dir={store}",
                 "--module-file", penguin.MODULE_FILE]) == 0
    versions = [v for v in os.listdir(store) if v.isdigit()]
    assert len(versions) == 1 and os.path.isfile(store / versions[0] / "saved_model.pb")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "succeeded" in last and f"pushed version {versions[0]}" in last


@dsl.pipeline(name="two-stages")
def two_stages(data_root: str):
    resolved = resolve_inputs(data_root=data_root)
    example_gen(data_root=data_root, input_fingerprint=resolved.outputs["fingerprint"],
                beam_pipeline_args=["--direct_running_mode=in_memory"])


def test_a_pipeline_wired_by_hand_from_our_components_runs(tmp_path):
    yaml_path = tmp_path / "two.yaml"
    compile_pipeline(two_stages, str(yaml_path))  # the KFP SDK's compiler (with the tfx. type namespace allowed)
    assert main(["run", "--local", "--pipeline-file", str(yaml_path), "--pipeline-root", str(tmp_path / "runs"),
                 "--param", f"data_root={penguin.DATA_DIR}"]) == 0
    (run_dir,) = [d for d in os.listdir(tmp_path / "runs") if d.startswith("two-stages-")]
    examples = os.path.join(tmp_path, "runs", run_dir, "example-gen")
    written = [f for _, _, files in os.walk(examples) for f in files if f.endswith(".gz")]
    assert len(written) >= 2  # Split-train and Split-eval
