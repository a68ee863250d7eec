"""Placeholders in parameter values reach a local task as the KFP 2.17.0 backend hands them over (issue 24).

driver/resolve.go replaces a constant that is exactly a run placeholder (``{{$.pipeline_job_name}}`` …);
component/launcher_v2.go compileCmdAndArgs replaces input/output placeholders inside the executor input's
JSON (what f-strings compile to); ``{{$.pipeline_root}}`` inside a value is passed through as text.
"""

import json

from kfp import dsl

from tfx_kfp import local

IMAGE = "python:3.11-slim"


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def upstream() -> str:
    return "up"


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def receive(root_in_text: str, job_name: str, job_name_in_text: str, task_name: str, formatted: str,
            mentions_another: str) -> str:
    import json

    return json.dumps([root_in_text, job_name, job_name_in_text, task_name, formatted, mentions_another])


@dsl.pipeline(name="placeholders")
def placeholder_pipeline():
    produced = upstream()
    receive(root_in_text="{{$.pipeline_root}}/data", job_name=dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
            job_name_in_text="run-{{$.pipeline_job_name}}", task_name=dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
            formatted=f"prefix-{produced.output}-suffix",
            mentions_another="see {{$.inputs.parameters['task_name']}}")


def test_placeholders_in_parameter_values_are_resolved_as_the_backend_resolves_them(tmp_path):
    run = local.run_pipeline(placeholder_pipeline, pipeline_root=str(tmp_path))
    values = json.loads(run.tasks["receive"].parameters["Output"])
    root_in_text, job_name, job_name_in_text, task_name, formatted, mentions_another = values
    assert root_in_text == "{{$.pipeline_root}}/data"  # not a driver placeholder, and text around it anyway
    assert job_name == run.run_dir.rsplit("/", 1)[1]
    assert job_name_in_text == "run-{{$.pipeline_job_name}}"  # the driver replaces whole values only
    assert task_name == "receive"
    assert formatted == "prefix-up-suffix"  # the launcher's replacement inside the executor input
    assert mentions_another == "see receive"  # any value naming another input's placeholder is expanded (security.md)


def test_numbers_and_bools_are_written_into_placeholders_as_go_formats_them():
    from tfx_kfp.local import backend

    executor_input = {"inputs": {"parameterValues": {"n": 2.0, "f": 0.1, "big": 1e21, "b": True}},
                      "outputs": {"parameters": {}, "artifacts": {}, "outputFile": "/o"}}
    placeholders = backend.launcher_placeholders(executor_input)
    assert [placeholders[f"{{{{$.inputs.parameters['{k}']}}}}"] for k in ("n", "f", "big", "b")] == [
        "2", "0.1", "1000000000000000000000", "true"]
