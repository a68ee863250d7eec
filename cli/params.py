"""The one parser of pipeline parameters on the command line: ``KEY=VALUE`` and ``KEY=@FILE``.

Values are typed by the pipeline's declared parameters (KFP parameter types), the
same way for ``compile``, ``run`` and ``submit``; what is then checked (names, types,
required values, values invalid on their face) is ``tfx_kfp.pipelines.argument_checks``.
"""

import json
from typing import Any, Dict, List, Mapping

from tfx_kfp.cli.errors import UsageError
from tfx_kfp.pipelines.argument_checks import KFP_TYPE_OF, KFP_TYPES, UnknownParameter


def kfp_types(python_types: Mapping[str, type]) -> Dict[str, str]:
    """Parameter name -> KFP parameterType, from Python annotations."""
    return {name: KFP_TYPE_OF[t] for name, t in python_types.items()}


def convert(key: str, text: str, parameter_type: str) -> Any:
    expected, described = KFP_TYPES.get(parameter_type, (str, "a string"))
    try:
        if expected is str:
            return text
        if expected is bool:
            lowered = text.strip().lower()
            if lowered not in ("true", "false"):
                raise ValueError
            return lowered == "true"
        if expected in (int, float):
            return expected(text)
        value = json.loads(text)
        if not isinstance(value, expected):
            raise ValueError
        return value
    except ValueError:
        raise UsageError(f"--param {key}: expected {described} ({parameter_type}); received {text!r}") from None


def read_text(option: str, path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError as e:
        raise UsageError(f"{option}: expected a readable file; received {path!r} ({e.strerror})") from None


def declared_types(declared: Mapping[str, Mapping[str, Any]]) -> Dict[str, str]:
    """Parameter name -> KFP parameterType, from a compiled spec's ``root.inputDefinitions.parameters``;
    ``beam_runner`` and its companions too when it declares ``beam_pipeline_args`` (they expand into it)."""
    from tfx_kfp.pipelines import beam_runner

    types = {name: d.get("parameterType", "STRING") for name, d in declared.items()}
    if "beam_pipeline_args" in declared:
        types.update(kfp_types(beam_runner.PARAMETER_TYPES))
    return types


def parse_params(items: List[str], declared: Mapping[str, str]) -> Dict[str, Any]:
    """``KEY=VALUE`` / ``KEY=@FILE`` strings → arguments typed by ``declared`` (name → KFP parameterType)."""
    params: Dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--param: expected KEY=VALUE; received {item!r}")
        if key not in declared:
            raise UsageError(f"--param: {UnknownParameter(key, declared).rule}")
        if text.startswith("@"):
            text = read_text(f"--param {key}=@FILE", text[1:])
        params[key] = convert(key, text, declared[key])
    return params
