"""Benchmark-only workaround for tfx-kfp tasks run as separate processes (``--runner subprocess``).

KFP runs a lightweight component's task with ``_KFP_RUNTIME=true``, and in that mode
``kfp.dsl`` (KFP 2.13) does not export ``component``. The ephemeral module KFP generates
for our components starts with ``from tfx_kfp.components.types import ...``, which first
runs ``tfx_kfp/components/__init__.py``; that imports every ``component.py``, whose
``@dsl.component`` then raises ``AttributeError: module 'kfp.dsl' has no attribute
'component'`` and the task fails (a tfx-kfp bug, reported, not fixed here).

``bench/pipeline_bench.py`` puts this folder on ``PYTHONPATH`` for the subprocess-runner
configuration only. In a task process it re-exports the real decorator from
``kfp.dsl.component_decorator`` (about 0.3 s of imports; ``kfp.client`` and its
Kubernetes imports stay out, as in a fixed tfx-kfp). Other processes are untouched.
"""

import os

if os.environ.get("_KFP_RUNTIME") == "true":
    import kfp.dsl
    from kfp.dsl.component_decorator import component as _component

    if not hasattr(kfp.dsl, "component"):
        kfp.dsl.component = _component
