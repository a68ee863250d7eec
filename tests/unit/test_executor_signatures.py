"""Each component's executor entry point takes exactly the component's parameters, with the same types.

Read with ``ast`` (executors import TFX at the top, which the unit tier must not): every
``@dsl.component`` in ``components/*/component.py`` hands its parameters to one executor
function; that function must be keyword-only, typed like the component, without defaults of
its own (the component declares them once), and receive each parameter under its own name.
"""

import ast
import glob
import os

import pytest

from tests._support.chain import REPO

COMPONENT_FILES = sorted(glob.glob(os.path.join(REPO, "components", "*", "component.py")))


def _is_component(function: ast.FunctionDef) -> bool:
    return any("component" in ast.unparse(decorator) for decorator in function.decorator_list)


def _components():
    for path in COMPONENT_FILES:
        tree = ast.parse(open(path).read(), path)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and _is_component(node):
                yield pytest.param(path, node, id=node.name)


def _entry_point(component: ast.FunctionDef):
    """(module file, function name, the call) of the executor function the component body calls."""
    modules = {}
    for node in ast.walk(component):
        if isinstance(node, ast.ImportFrom) and node.module.startswith("tfx_kfp.components."):
            for alias in node.names:
                package = node.module[len("tfx_kfp."):].replace(".", os.sep)
                modules[alias.asname or alias.name] = os.path.join(REPO, package, f"{alias.name}.py")
    calls = [node for node in ast.walk(component) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
             and node.func.value.id in modules and node.keywords]  # the parameters go by name
    assert len(calls) == 1, f"{component.name}: expected one executor call, found {len(calls)}"
    (call,) = calls
    return modules[call.func.value.id], call.func.attr, call


def _function(path: str, name: str) -> ast.FunctionDef:
    tree = ast.parse(open(path).read(), path)
    found = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == name]
    assert found, f"{path}: no top-level function {name!r}"
    return found[0]


@pytest.mark.parametrize("path,component", list(_components()))
def test_executor_entry_point_matches_the_component_signature(path, component):
    module, name, call = _entry_point(component)
    entry = _function(module, name)
    where = f"{os.path.relpath(module, REPO)}:{name}"
    expected = [(arg.arg, ast.unparse(arg.annotation)) for arg in component.args.args]
    assert entry.args.args == [] and entry.args.vararg is None and entry.args.kwarg is None, \
        f"{where}: parameters must be keyword-only"
    found = [(arg.arg, ast.unparse(arg.annotation) if arg.annotation else None) for arg in entry.args.kwonlyargs]
    assert found == expected, f"{where} does not match the component {component.name!r}"
    assert all(default is None for default in entry.args.kw_defaults), \
        f"{where}: defaults belong to the component signature only"
    assert entry.returns is not None, f"{where}: the return type must be annotated"
    assert ast.get_docstring(entry), f"{where}: needs a docstring"
    passed = {keyword.arg: ast.unparse(keyword.value) for keyword in call.keywords}
    assert passed == {arg: arg for arg, _ in expected}, f"{component.name}: must pass each parameter by its own name"


def test_every_component_module_was_inspected():
    names = {param.id for param in _components()}
    assert {"example_gen", "statistics_gen", "schema_gen", "import_schema", "example_validator", "transform",
            "trainer", "evaluator", "pusher", "infra_validator"} <= names
