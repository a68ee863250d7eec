"""The one parser of pipeline parameters on the command line: ``KEY=VALUE`` and ``KEY=@FILE``.

Values are typed by the pipeline's declared parameters (KFP parameter types), the
same way for ``compile``, ``run`` and ``submit``.
"""

import json
from typing import Any, Dict, List, Mapping

from tfx_kfp.cli.errors import UsageError

# KFP parameterType -> (Python type, what the user is told)
KFP_TYPES = {
    "STRING": (str, "a string"),
    "NUMBER_INTEGER": (int, "an integer"),
    "NUMBER_DOUBLE": (float, "a number"),
    "BOOLEAN": (bool, "true or false"),
    "LIST": (list, "a JSON array"),
    "STRUCT": (dict, "a JSON object"),
}
KFP_TYPE_OF = {python_type: name for name, (python_type, _) in KFP_TYPES.items()}


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


def parse_params(items: List[str], declared: Mapping[str, str]) -> Dict[str, Any]:
    """``KEY=VALUE`` / ``KEY=@FILE`` strings → arguments typed by ``declared`` (name → KFP parameterType)."""
    params: Dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--param: expected KEY=VALUE; received {item!r}")
        if key not in declared:
            raise UsageError(f"--param: the pipeline has no parameter {key!r}; expected one of "
                             f"{', '.join(sorted(declared)) or '(none)'}")
        if text.startswith("@"):
            text = read_text(f"--param {key}=@FILE", text[1:])
        params[key] = convert(key, text, declared[key])
    return params
