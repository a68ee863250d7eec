"""Maps the repository's top-level folders into one import namespace.

``components/``, ``pipelines/`` and ``serving/`` install as ``tfx_kfp.components``,
``tfx_kfp.pipelines`` and ``tfx_kfp.serving``: a wheel never puts generic
top-level modules named ``components`` or ``pipelines`` into site-packages.
All other metadata lives in pyproject.toml.
"""

from setuptools import find_packages, setup

PACKAGE_ROOTS = {
    "tfx_kfp": "tfx_kfp",
    "tfx_kfp.components": "components",
    "tfx_kfp.pipelines": "pipelines",
    "tfx_kfp.serving": "serving",
}


def _packages():
    for package, folder in PACKAGE_ROOTS.items():
        yield package
        for sub in find_packages(folder):
            yield f"{package}.{sub}"


setup(
    packages=list(_packages()),
    package_dir=PACKAGE_ROOTS,
    package_data={"": ["*.csv", "data/*.csv", "*.pbtxt", "*.json", "*.yaml", "py.typed"]},
    include_package_data=True,
)
