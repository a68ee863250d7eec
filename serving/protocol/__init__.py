"""The wire protocol shared by server and client: ``errors``, TF Serving's JSON rules
(``json_codec``), TensorProto <-> numpy (``tensors``), REST bodies (``rest_request``,
``rest_examples``, ``rest_response``). Imports nothing from the server side.
"""
