"""How requests reach the models: the REST app (uvicorn), the gRPC services, limits, metrics.

``rest_app`` (ASGI on uvicorn) and ``rest_limits`` bound what a client can hold;
``rest_api`` routes TF Serving's REST paths; ``grpc_service`` registers TF Serving's
gRPC services; ``metrics`` exports TF Serving's Prometheus names. Requests are run by
:mod:`tfx_kfp.serving.models`.
"""
