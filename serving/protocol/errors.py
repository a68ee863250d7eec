"""Typed serving errors shared by the model server and the client.

Every failure has one exception class that carries the HTTP status and the
gRPC status code TF Serving uses for it (the mapping in TF Serving's
``model_servers/http_server.cc``), so the server answers both protocols from
one raise, and the client raises the same class whichever protocol it used.

This module imports neither TensorFlow nor grpc: codes are kept as the names of
``grpc.StatusCode`` members (``"INVALID_ARGUMENT"``), and numbers as in
``google.rpc.Code`` / ``tensorflow.error.Code``.
"""

from typing import Dict, Optional, Type

__all__ = [
    "ServingError", "Cancelled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
    "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted",
    "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
    "RequestTooLarge", "error_for_code", "error_for_http_status",
]


# google.rpc.Code numbers are the positions in this tuple.
_CODE_NAMES = ("OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
               "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
               "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
               "UNAUTHENTICATED")
_BY_NAME: Dict[str, Type["ServingError"]] = {}


class ServingError(Exception):
    """Base class of every serving failure.

    A subclass names its statuses in the class statement,
    ``class NotFound(ServingError, http_status=404, grpc_code="NOT_FOUND")``.

    Attributes:
        message: The error message, as TF Serving words it where it defines one.
        http_status: HTTP status the REST API answers with.
        grpc_code: Name of the ``grpc.StatusCode`` member the gRPC API answers with.
        code: Numeric status code (``google.rpc.Code``), e.g. 3 for INVALID_ARGUMENT.
    """

    http_status: int = 500
    grpc_code: str = "UNKNOWN"
    code: int = 2

    def __init_subclass__(cls, http_status: Optional[int] = None,
                          grpc_code: Optional[str] = None, **kwargs):
        super().__init_subclass__(**kwargs)
        if http_status is not None:
            cls.http_status = http_status
        if grpc_code is not None:
            cls.grpc_code, cls.code = grpc_code, _CODE_NAMES.index(grpc_code)
            _BY_NAME.setdefault(grpc_code, cls)

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def status_string(self) -> str:
        """Returns ``"CODE: message"``, like ``absl::Status::ToString()``."""
        return f"{self.grpc_code}: {self.message}"


class Cancelled(ServingError, http_status=499, grpc_code="CANCELLED"):
    """The request was cancelled."""


class Unknown(ServingError, http_status=500, grpc_code="UNKNOWN"):
    """An error of unknown kind."""


class InvalidArgument(ServingError, http_status=400, grpc_code="INVALID_ARGUMENT"):
    """The request is malformed or does not fit the model."""


class DeadlineExceeded(ServingError, http_status=504, grpc_code="DEADLINE_EXCEEDED"):
    """The deadline passed before the call finished."""


class NotFound(ServingError, http_status=404, grpc_code="NOT_FOUND"):
    """The model, version or label is not served."""


class AlreadyExists(ServingError, http_status=409, grpc_code="ALREADY_EXISTS"):
    """The entity already exists."""


class PermissionDenied(ServingError, http_status=403, grpc_code="PERMISSION_DENIED"):
    """The caller may not do this."""


class ResourceExhausted(ServingError, http_status=429, grpc_code="RESOURCE_EXHAUSTED"):
    """A resource limit was hit."""


class FailedPrecondition(ServingError, http_status=400, grpc_code="FAILED_PRECONDITION"):
    """The system is not in a state for this call."""


class Aborted(ServingError, http_status=409, grpc_code="ABORTED"):
    """The call was aborted."""


class OutOfRange(ServingError, http_status=400, grpc_code="OUT_OF_RANGE"):
    """A value is out of range."""


class Unimplemented(ServingError, http_status=501, grpc_code="UNIMPLEMENTED"):
    """The operation or conversion is not supported."""


class Internal(ServingError, http_status=500, grpc_code="INTERNAL"):
    """An internal invariant broke."""


class Unavailable(ServingError, http_status=503, grpc_code="UNAVAILABLE"):
    """The server or model cannot answer now; retrying may help."""


class DataLoss(ServingError, http_status=500, grpc_code="DATA_LOSS"):
    """Unrecoverable data loss."""


class Unauthenticated(ServingError, http_status=401, grpc_code="UNAUTHENTICATED"):
    """The caller is not authenticated."""


class RequestTooLarge(ResourceExhausted, http_status=413):
    """The request body is larger than the server accepts."""


# HTTP status -> the class a client raises. Where TF Serving maps several codes
# to one status (400, 409, 500) the most common one wins.
_BY_HTTP: Dict[int, Type[ServingError]] = {
    cls.http_status: cls
    for cls in (*_BY_NAME.values(), RequestTooLarge, InvalidArgument, Aborted, Internal)
}


def error_for_code(code, message: str) -> ServingError:
    """Builds the exception for a status code.

    Args:
        code: A numeric code (3), a code name ("INVALID_ARGUMENT"), or a
            ``grpc.StatusCode`` member.
        message: The error message.

    Returns:
        An instance of the matching ``ServingError`` subclass (``Unknown`` when
        the code is not recognised).
    """
    if hasattr(code, "name") and hasattr(code, "value"):  # grpc.StatusCode
        code = code.name
    if not isinstance(code, str):
        code = _CODE_NAMES[int(code)] if 0 < int(code) < len(_CODE_NAMES) else "UNKNOWN"
    return _BY_NAME.get(code.upper(), Unknown)(message)


def error_for_http_status(status: int, message: str) -> ServingError:
    """Builds the exception a REST client raises for an HTTP error status."""
    cls: Optional[Type[ServingError]] = _BY_HTTP.get(status)
    if cls is None:
        cls = InvalidArgument if 400 <= status < 500 else Unknown
    error = cls(message)
    if error.http_status != status:
        error.http_status = status
    return error
