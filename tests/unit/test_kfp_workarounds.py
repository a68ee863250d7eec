"""Each KFP workaround: what upstream still does wrong (these fail once KFP fixes or moves it), that ours
fixes it inside its scope only, and that a KFP release line without an entry is refused. They run
against the installed KFP: 2.13 on the 1.16 stack, 2.17 on the current one (in its image)."""

import pytest
from kfp.compiler import pipeline_spec_builder
from kfp.dsl.types import type_utils

from tfx_kfp import kfp_workarounds

MULTI_LINE_DEFAULT_SPEC = {
    "pipelineInfo": {"name": "p"},
    "root": {"inputDefinitions": {"parameters": {
        "module_source": {"parameterType": "STRING", "defaultValue": "def run_fn(fn_args):\n    pass\n"}}}},
}


def test_kfp_rejects_the_tfx_namespace_and_the_scope_allows_it_only_inside():
    with pytest.raises(TypeError, match="`system` or `google` namespace"):
        type_utils.validate_schema_title("tfx.Examples")  # upstream still refuses it
    with kfp_workarounds.tfx_artifact_namespace():
        type_utils.validate_schema_title("tfx.Examples")
        with pytest.raises(TypeError):
            type_utils.validate_schema_title("other.Examples")  # only ``tfx`` is added
    with pytest.raises(TypeError):
        type_utils.validate_schema_title("tfx.Examples")  # restored on exit


def test_kfp_leaves_multi_line_defaults_uncommented_and_the_scope_comments_every_line():
    header = pipeline_spec_builder.extract_comments_from_pipeline_spec(MULTI_LINE_DEFAULT_SPEC, "d")
    assert any(line and not line.startswith("#") for line in header.splitlines())  # upstream still breaks YAML
    with kfp_workarounds.commented_yaml_header():
        header = pipeline_spec_builder.extract_comments_from_pipeline_spec(MULTI_LINE_DEFAULT_SPEC, "d")
    assert all(line.startswith("#") for line in header.splitlines() if line)
    assert not getattr(pipeline_spec_builder.extract_comments_from_pipeline_spec, "__wrapped__", None)


def test_importing_our_components_leaves_kfp_unpatched():
    import tfx_kfp.components  # noqa: F401  (defines every interface inside defining_components())

    assert not hasattr(type_utils.validate_schema_title, "__wrapped__")
    with pytest.raises(TypeError):
        type_utils.validate_schema_title("tfx.Examples")


def test_the_installed_kfp_needs_both_workarounds_these_tests_prove_it_still_needs():
    assert set(kfp_workarounds.check_kfp_version()) == {"tfx_artifact_namespace", "commented_yaml_header"}


@pytest.mark.parametrize("version", ["2.13.0", "2.17.3"])
def test_each_supported_kfp_line_is_accepted(version):
    assert kfp_workarounds.check_kfp_version(version)


@pytest.mark.parametrize("version", ["2.14.0", "2.18.0", "3.0.0"])
def test_another_kfp_version_is_refused(version):
    with pytest.raises(kfp_workarounds.UnsupportedKfpVersion,
                       match=rf"expect kfp 2\.13\.x or 2\.17\.x, got {version}"):
        kfp_workarounds.check_kfp_version(version)
