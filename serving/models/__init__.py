"""The served models: ``config`` (TF Serving's rules), ``registry``/``manager`` (versions,
labels, lifecycle), ``servable`` (one version in a TF session), ``inference``/``classify_regress``
and ``proto_handlers`` (running requests), ``warmup``, ``batching``.
"""
