"""How requests reach the models: ``rest_app`` (ASGI on uvicorn) with ``rest_limits``,
``rest_api`` (TF Serving's REST routes), ``grpc_service``, ``metrics``.
"""
