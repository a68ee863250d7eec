"""Pipeline arguments that are invalid on their face fail before the first stage runs.

The rules are the executors' own (``tfx_kfp.runtime.arguments``), applied to a run's
arguments up front: ``train_steps=0`` is refused when the run is started, not after four
stages. Only what can be judged without the data is checked here (a ``data_root`` on a
cluster volume, for example, is checked by ExampleGen).
"""

from typing import Any, Callable, Dict, Iterable, Mapping

from tfx_kfp.pipelines import beam_runner
from tfx_kfp.runtime import arguments as rules, user_module
from tfx_kfp.runtime.errors import InputError, UserModuleError

WHERE = "pipeline arguments"

# KFP parameterType -> (Python type, what the user is told): how a compiled pipeline's declared
# parameters type their arguments, for compile, run and submit alike.
KFP_TYPES = {
    "STRING": (str, "a string"),
    "NUMBER_INTEGER": (int, "an integer"),
    "NUMBER_DOUBLE": (float, "a number"),
    "BOOLEAN": (bool, "true or false"),
    "LIST": (list, "a JSON array"),
    "STRUCT": (dict, "a JSON object"),
}
KFP_TYPE_OF = {python_type: name for name, (python_type, _) in KFP_TYPES.items()}


class MissingParameters(ValueError):
    """The pipeline has required parameters without a value."""

    def __init__(self, pipeline: str, missing: Iterable[str]):
        self.missing = list(missing)
        super().__init__(f"{pipeline} pipeline: missing required parameters: {', '.join(self.missing)}; "
                         "pass --param KEY=VALUE")


class UnknownParameter(InputError):
    """An argument for a parameter the pipeline does not declare."""

    def __init__(self, name: str, declared: Iterable[str]):
        super().__init__(WHERE, f"the pipeline has no parameter {name!r}; expected one of "
                         f"{', '.join(sorted(declared)) or '(none)'}", field=name)


def _module(field: str, *functions: str) -> Callable[[Any], None]:
    """A module's source: Python text defining ``functions`` at top level."""
    def check(value: Any) -> None:
        rules.check_text(WHERE, field, value, required=True)
        for function in functions:
            try:
                user_module.check_source(value, function, origin=field)
            except UserModuleError as e:
                raise InputError(WHERE, str(e), field=field) from e
    return check


CHECKS: Dict[str, Callable[[Any], None]] = {
    "data_root": lambda value: rules.check_text(WHERE, "data_root", value, required=True),
    "module_source": _module("module_source", "preprocessing_fn", "run_fn"),
    "transform_module_source": _module("transform_module_source", "preprocessing_fn"),
    "trainer_module_source": _module("trainer_module_source", "run_fn"),
    "label_key": lambda value: rules.check_text(WHERE, "label_key", value),
    "serving_base_dir": lambda value: rules.check_text(WHERE, "serving_base_dir", value, required=True),
    "input_format": lambda value: rules.check_input_format(WHERE, value),
    "train_steps": lambda value: rules.check_steps(WHERE, "train_steps", value),
    "eval_steps": lambda value: rules.check_steps(WHERE, "eval_steps", value),
    "accuracy_threshold": lambda value: rules.check_fraction(WHERE, "accuracy_threshold", value),
    "min_improvement": lambda value: rules.check_change(WHERE, "min_improvement", value),
    "fail_on_anomalies": lambda value: rules.check_bool(WHERE, "fail_on_anomalies", value),
    "custom_config": lambda value: rules.parse_custom_config(WHERE, value),
    "eval_config_json": lambda value: rules.check_eval_config_json(WHERE, value),
    "beam_pipeline_args": lambda value: rules.check_string_list(WHERE, "beam_pipeline_args", value),
    "schema_pbtxt": lambda value: rules.check_text(WHERE, "schema_pbtxt", value, required=True),
    "input_pattern": lambda value: rules.check_text(WHERE, "input_pattern", value),
    "span_range": lambda value: rules.check_span_range(WHERE, value),
    # beam_runner and its companions (compile/submit time): strings here; beam_runner.expand checks them together.
    **{name: (lambda value, name=name: rules.check_text(WHERE, name, value)) for name in beam_runner.HELP},
}


def check_arguments(arguments: Mapping[str, Any]) -> None:
    """Raises ``InputError`` naming the first parameter that breaks its rule, and the rule.

    Args:
        arguments: Pipeline parameter name → value (Python values, after parsing), for the
            parameters of ``tfx_kfp.pipelines.training.PARAMETERS`` (and ``schema_pbtxt``,
            ``transform_module_source``, ``trainer_module_source``).
            Parameters left out take their defaults, which are valid; names without a rule
            are left to the pipeline's signature.
    """
    for name, value in arguments.items():
        check = CHECKS.get(name)
        if check is not None:
            check(value)
    if "label_key" in arguments and not arguments["label_key"] and not arguments.get("eval_config_json"):
        raise InputError(WHERE, "is required unless eval_config_json is set (the Evaluator needs the label)",
                         field="label_key", received="an empty string")


def _has_type(value: Any, parameter_type: str) -> bool:
    expected = KFP_TYPES.get(parameter_type, (str, ""))[0]
    if expected is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def check_run_arguments(pipeline: str, declared: Mapping[str, Mapping[str, Any]],
                        arguments: Mapping[str, Any]) -> Dict[str, Any]:
    """A compiled pipeline's run arguments, checked as ``compile``, ``run --local`` and ``submit`` all check them.

    ``beam_runner`` and its companions expand into ``beam_pipeline_args`` (when the pipeline declares it);
    every name must be declared, every value of its declared KFP type, every required parameter given,
    and every value valid on its face (:func:`check_arguments`).

    Args:
        pipeline: The pipeline's name (for the error).
        declared: ``root.inputDefinitions.parameters`` of the compiled spec: name -> ``{parameterType,
            defaultValue?, isOptional?}``.
        arguments: Parameter name -> Python value.

    Returns:
        The arguments to run with (``beam_*`` expanded).

    Raises:
        UnknownParameter, InputError (a value of the wrong type or invalid on its face), MissingParameters.
    """
    arguments = dict(arguments)
    if "beam_pipeline_args" in declared:
        arguments = beam_runner.expand(arguments)
    for name, value in arguments.items():
        if name not in declared:
            raise UnknownParameter(name, declared)
        parameter_type = declared[name].get("parameterType", "STRING")
        if not _has_type(value, parameter_type):
            raise InputError(WHERE, f"expected {KFP_TYPES.get(parameter_type, (str, 'a string'))[1]} "
                             f"({parameter_type})", received=repr(value), field=name)
    missing = [name for name, d in declared.items()
               if name not in arguments and "defaultValue" not in d and not d.get("isOptional")]
    if missing:
        raise MissingParameters(pipeline, missing)
    check_arguments(arguments)
    return arguments
