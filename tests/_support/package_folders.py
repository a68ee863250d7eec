"""The one list of the package's top-level folders (setup.py's SUBPACKAGES), read without running setup.py."""

import ast
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _setup_constant(name: str) -> tuple:
    with open(os.path.join(REPO, "setup.py")) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    raise LookupError(f"setup.py defines no {name}")


SUBPACKAGES = _setup_constant("SUBPACKAGES")
DEVELOPMENT_FOLDERS = _setup_constant("DEVELOPMENT_FOLDERS")
SCRIPT_FOLDERS = _setup_constant("SCRIPT_FOLDERS")
