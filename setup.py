"""The repository root is the ``tfx_kfp`` package: top-level folder X is ``tfx_kfp.X``.

``.pkg/tfx_kfp`` is a committed symlink to the repository root, and ``.pkg`` is the
package directory. An editable install is then a plain ``.pth`` entry for ``.pkg``
(no import hook), so Python, Pyright/Pylance and mypy all resolve ``tfx_kfp.X`` to
the folder ``X`` the same way. Only the folders in SUBPACKAGES ship; tests, bench,
docs and cluster files do not. All other metadata lives in pyproject.toml.
"""

from setuptools import find_packages, setup

SUBPACKAGES = ("cli", "components", "local", "pipelines", "reports", "runtime", "serving")


def _packages():
    yield "tfx_kfp"
    for folder in SUBPACKAGES:
        yield f"tfx_kfp.{folder}"
        for sub in find_packages(folder):
            yield f"tfx_kfp.{folder}.{sub}"


setup(
    packages=list(_packages()),
    package_dir={"": ".pkg"},
    package_data={"tfx_kfp.pipelines.penguin": ["data/*.csv"]},
)
