"""The package's folders are listed once (setup.py's SUBPACKAGES); every other place that names them agrees.

Adding a top-level folder of Python code fails here until it is listed, as a shipped package or as a
development folder, and every copy of the list (layering contracts, image build, CI path filter,
package docstring, README layout) names it.
"""

import configparser
import os
import re

from tests._support.package_folders import DEVELOPMENT_FOLDERS, REPO, SCRIPT_FOLDERS, SUBPACKAGES


def _python_folders() -> set:
    return {entry for entry in os.listdir(REPO)
            if not entry.startswith(".") and os.path.isdir(os.path.join(REPO, entry)) and entry != "build"
            and any(name.endswith(".py") for _, _, files in os.walk(os.path.join(REPO, entry)) for name in files)}


def _read(path: str) -> str:
    with open(os.path.join(REPO, path)) as f:
        return f.read()


def test_every_top_level_folder_of_python_is_listed_once():
    listed = [*SUBPACKAGES, *DEVELOPMENT_FOLDERS, *SCRIPT_FOLDERS]
    assert _python_folders() <= set(listed), sorted(_python_folders() - set(listed))
    assert len(set(listed)) == len(listed)
    for folder in SUBPACKAGES:
        assert os.path.isfile(os.path.join(REPO, folder, "__init__.py")), f"{folder}/ is listed but is no package"


def test_the_layering_contracts_name_every_package():
    config = configparser.ConfigParser()
    config.read(os.path.join(REPO, ".importlinter"))
    layers = config["importlinter:contract:layers"]["layers"]
    named = {m for line in layers.split("\n") for m in re.findall(r"tfx_kfp\.(\w+)", line)}
    assert named == set(SUBPACKAGES) - {"serving"} | {"kfp_workarounds"}
    forbidden = config["importlinter:contract:serving-independent"]["forbidden_modules"].split()
    assert {m.split(".")[1] for m in forbidden} == set(SUBPACKAGES) - {"serving"} | {"kfp_workarounds"}


def test_the_image_is_built_from_every_package():
    from tfx_kfp.components.image import BUILD_INPUTS

    assert set(SUBPACKAGES) <= set(BUILD_INPUTS)
    admitted = {line[1:].rstrip("/") for line in _read(".dockerignore").splitlines() if line.startswith("!")}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", _read("Dockerfile"), re.M))
    assert set(SUBPACKAGES) <= admitted and set(SUBPACKAGES) == copied


def test_the_e2e_workflow_runs_when_any_package_changes():
    paths = re.search(r"pull_request:\s*\n\s*paths:\n((?:\s+(?:- |#).*\n)+)", _read(".github/workflows/e2e-kind.yml"))
    filters = {line.strip()[2:].strip().strip('"') for line in paths.group(1).splitlines()
               if line.strip().startswith("- ")}
    assert {f"{folder}/**" for folder in SUBPACKAGES} <= filters


def test_the_package_docstring_and_readme_layout_list_every_package():
    docstring = _read("__init__.py")
    layout = _read("README.md").split("## Layout", 1)[1].split("```")[1]
    for folder in SUBPACKAGES:
        assert re.search(rf"^  {folder}\s", docstring, re.M), f"__init__.py does not describe {folder}"
        assert re.search(rf"^{folder}/\s", layout, re.M), f"README's layout does not list {folder}/"
