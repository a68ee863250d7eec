"""The wire protocol shared by the server and the client: TF Serving's REST JSON and tensors.

Owns the typed errors (``errors``), the JSON reader and rapidjson-style writer
(``json_reader``, ``json_writer``), TensorProto <-> numpy (``tensors``), REST request
decoding (``rest_request``, ``rest_examples``) and response rendering
(``rest_response``). Imports nothing from the server side (models, transport).
"""
