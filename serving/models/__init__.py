"""The served models: config, versions on storage, loading, warmup, batching, running requests.

``config`` parses and validates ``ModelServerConfig`` (TF Serving's rules),
``registry`` and ``manager`` keep versions and labels and drive their lifecycle,
``servable`` loads one version into a TF session, ``inference``/``classify_regress``
run requests on it (``proto_handlers`` answers PredictionService/ModelService
requests on protos, for gRPC and warmup), ``warmup`` and ``batching`` as TF Serving does.
"""
