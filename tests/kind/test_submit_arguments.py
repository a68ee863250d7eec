"""``tfx-kfp submit``'s run arguments as the cluster needs them: module files sent as the reference
``compile --target kind`` writes, values escaped for both ``$(VAR)`` expansions, and parameters too large
for ML Metadata on PostgreSQL refused before any request, as are bad parameters, a bad pipeline file and an
unreachable host (stand-in API: conftest.py)."""

import pytest

from tests.kind.test_cluster_parameters import delivered
from tests.kind.test_submit import pipeline_file, submit  # noqa: F401 (pipeline_file is a fixture)
from tfx_kfp.pipelines import compile_pipeline, penguin_pipeline

MODULE_TEXT = ('PRICE = "$$5"  # $(HOME)\ndef preprocessing_fn(inputs):\n    return inputs\n\n'
               'def run_fn(fn_args):\n    pass\n')


@pytest.mark.parametrize("option", ["--module-file", "--param module_source=@"])
def test_a_module_file_is_sent_as_the_reference_compile_writes(kfp_api, pipeline_file, tmp_path, option, capsys):
    """Issue 19 item 8 for submit: the module travels as a reference to modules/<sha256>.py on the model store
    (exactly what `compile --target kind --module-file` writes as the default), never as its text."""
    from tfx_kfp.pipelines import cluster
    from tfx_kfp.runtime import user_module

    api, url = kfp_api
    module = tmp_path / "my_module.py"
    module.write_text(MODULE_TEXT)
    flag = [option, str(module)] if option == "--module-file" else ["--param", f"module_source=@{module}"]
    assert submit("--host", url, "--pipeline-file", pipeline_file, *flag) == 0
    sent = next(iter(api.runs.values()))["run"]["runtime_config"]["parameters"]["module_source"]
    assert sent == cluster.cluster_parameter_values({"module_source": MODULE_TEXT})["module_source"]
    # what the task receives after the backend's two $(VAR) expansions is the reference, which reads the file
    path = f"{cluster.CLUSTER_MODULE_DIR}/{user_module.sha256_of(MODULE_TEXT)}.py"
    assert delivered(sent) == user_module.reference(MODULE_TEXT, cluster.CLUSTER_MODULE_DIR) and path in sent
    assert (f"submit: module_source is sent as a reference to {path} on the model store; the run reads the module "
            f"from there (install it first; on kind: bash scripts/kind/install-module.sh") in capsys.readouterr().out


def test_the_library_sends_values_as_compile_writes_them_and_names_the_module_files(kfp_api, pipeline_file):
    from tfx_kfp import cluster
    from tfx_kfp.pipelines.cluster import CLUSTER_MODULE_DIR, cluster_parameter_values
    from tfx_kfp.runtime import user_module

    api, url = kfp_api
    custom_config = '{"note": "$(KFP_POD_NAME) costs $$5"}'
    given = {"transform_module_source": MODULE_TEXT, "custom_config": custom_config}
    separate = tmp_spec_with_separate_modules(pipeline_file)
    result = cluster.submit(separate, url, given, wait=False)
    assert result.arguments == cluster_parameter_values(given)
    assert api.runs[result.run_id]["run"]["runtime_config"]["parameters"] == result.arguments
    assert delivered(result.arguments["custom_config"]) == custom_config
    assert result.modules == {"transform_module_source":
                              f"{CLUSTER_MODULE_DIR}/{user_module.sha256_of(MODULE_TEXT)}.py"}


def tmp_spec_with_separate_modules(pipeline_file):
    """The penguin kind YAML compiled with a module per component (``separate_modules``)."""
    import os

    from tfx_kfp.pipelines import penguin_pipeline as build

    path = os.path.join(os.path.dirname(pipeline_file), "separate.yaml")
    if not os.path.exists(path):
        compile_pipeline(build("kind", separate_modules=True), path)
    return path


def test_parameters_too_large_for_mlmd_on_postgresql_are_refused_before_any_request(kfp_api, pipeline_file,
                                                                                   capsys):
    """Issue 19 item 8 for submit: the declared defaults with the given values, checked as compile checks them
    (pipelines/cluster.py check_parameter_sizes), with its error naming the largest parameter."""
    from tfx_kfp import cluster
    from tfx_kfp.pipelines.cluster import check_parameter_sizes, cluster_parameter_values
    from tfx_kfp.runtime.errors import InputError

    api, url = kfp_api
    large = '{"notes": "' + "x" * 3000 + '"}'
    spec = cluster.load_pipeline_spec(pipeline_file)
    defaults = {name: d["defaultValue"] for name, d in cluster.declared_parameters(spec).items() if "defaultValue" in d}
    with pytest.raises(InputError) as refused:
        check_parameter_sizes({**defaults, **cluster_parameter_values({"custom_config": large})})
    with pytest.raises(InputError, match="field 'custom_config'") as raised:
        cluster.submit(pipeline_file, url, {"custom_config": large})
    assert str(raised.value) == str(refused.value)  # the shared text, over the same values
    assert "over the 2600 bytes that fit a PostgreSQL index row" in str(raised.value)
    assert submit("--host", url, "--pipeline-file", pipeline_file, "--param", f"custom_config={large}") == 1
    assert "over the 2600 bytes that fit a PostgreSQL index row" in capsys.readouterr().err
    assert api.requests == []


def test_a_yaml_whose_defaults_are_too_large_is_refused_before_any_request(kfp_api, tmp_path):
    """A YAML compiled for the local target carries the module's text as its default: on the cluster the root
    driver would fail to store it (MLMD on PostgreSQL), so submit refuses it up front."""
    from tfx_kfp import cluster
    from tfx_kfp.runtime.errors import InputError

    api, url = kfp_api
    local_yaml = tmp_path / "local.yaml"
    compile_pipeline(penguin_pipeline("local"), str(local_yaml))
    with pytest.raises(InputError, match="Largest: module_source"):
        cluster.submit(str(local_yaml), url)
    assert api.requests == []


@pytest.mark.parametrize("param, message", [
    ("train_steps=many", "--param train_steps: expected an integer (NUMBER_INTEGER); received 'many'"),
    ("fail_on_anomalies=yes", "expected true or false (BOOLEAN); received 'yes'"),
    ("beam_pipeline_args=--x", "expected a JSON array (LIST)"),
    ("no_such=1", "the pipeline has no parameter 'no_such'; expected one of accuracy_threshold"),
    ("train_steps", "expected KEY=VALUE; received 'train_steps'"),
])
def test_bad_params_fail_before_any_request(kfp_api, pipeline_file, param, message, capsys):
    api, url = kfp_api
    assert submit("--host", url, "--pipeline-file", pipeline_file, "--param", param) == 2  # a usage error
    assert message in capsys.readouterr().err
    assert api.requests == []


def test_missing_or_invalid_pipeline_file(kfp_api, tmp_path, capsys):
    api, url = kfp_api
    assert submit("--host", url, "--pipeline-file", str(tmp_path / "none.yaml")) == 1
    assert "expected a compiled pipeline YAML" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Deployment\n")
    assert submit("--host", url, "--pipeline-file", str(bad)) == 1
    assert "expected a KFP PipelineSpec (pipelineInfo, root, ...)" in capsys.readouterr().err
    assert api.requests == []


def test_unreachable_host_fails_fast_and_says_so(pipeline_file, capsys):
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert submit("--host", f"http://127.0.0.1:{port}", "--pipeline-file", pipeline_file) == 1
    err = capsys.readouterr().err
    assert f"expected a Kubeflow Pipelines API at http://127.0.0.1:{port}" in err


def test_params_invalid_on_their_face_fail_before_any_request(kfp_api, pipeline_file, capsys):
    api, url = kfp_api
    assert submit("--host", url, "--pipeline-file", pipeline_file, "--param", "train_steps=0") == 1
    assert "field 'train_steps': must be at least 1" in capsys.readouterr().err
    assert api.requests == []
