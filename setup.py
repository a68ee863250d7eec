"""The repository root is the ``tfx_kfp`` package: top-level folder X is ``tfx_kfp.X``.

``.pkg/tfx_kfp`` is a committed symlink to the repository root, and ``.pkg`` is the
package directory. An editable install is then a plain ``.pth`` entry for ``.pkg``
(no import hook), so Python, Pyright/Pylance and mypy all resolve ``tfx_kfp.X`` to
the folder ``X`` the same way, and tracebacks show repository paths. The alternatives
considered: ``package_dir={"tfx_kfp": "."}`` without the link makes setuptools' editable
install a meta-path finder (setuptools documents this for package folders whose name differs
from the package's), which Pyright and mypy do not follow (both document that static analysis
cannot see import hooks); a ``src/tfx_kfp`` folder would break the root layout the design asks
for. This is the one place that says why the link exists.

SUBPACKAGES is the one list of the package's top-level folders: only they ship (with the
root's ``__init__.py`` and ``kfp_workarounds.py``; never this file); tests, bench, docs and
cluster files do not. Every other place that names the folders (.importlinter, the
Dockerfile and .dockerignore, the e2e workflow's path filter, the image's source digest)
is checked against it by tests/unit/test_package_folders.py. All other metadata lives in
pyproject.toml.
"""

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

SUBPACKAGES = ("cli", "cluster", "components", "local", "pipelines", "reports", "runtime", "serving")
# Top-level folders of Python that never ship: importable (tfx_kfp.tests, tfx_kfp.bench) in a checkout,
# and stand-alone scripts.
DEVELOPMENT_FOLDERS = ("tests", "bench")
SCRIPT_FOLDERS = ("scripts", "tools")


def _packages():
    yield "tfx_kfp"
    for folder in SUBPACKAGES:
        yield f"tfx_kfp.{folder}"
        for sub in find_packages(folder):
            yield f"tfx_kfp.{folder}.{sub}"


class BuildPyWithoutSetup(build_py):
    """The root is the package, so setuptools would ship this file as ``tfx_kfp/setup.py``."""

    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        return [m for m in modules if (m[0], m[1]) != ("tfx_kfp", "setup")]


setup(
    packages=list(_packages()),
    package_dir={"": ".pkg"},
    package_data={"tfx_kfp.pipelines.penguin": ["data/*.csv"]},
    cmdclass={"build_py": BuildPyWithoutSetup},
)
