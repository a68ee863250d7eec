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
    "ServingError",
    "Cancelled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
    "RequestTooLarge",
    "error_for_code",
    "error_for_http_status",
]


class ServingError(Exception):
    """Base class of every serving failure.

    Attributes:
        message: The error message, as TF Serving words it where it defines one.
        http_status: HTTP status the REST API answers with.
        grpc_code: Name of the ``grpc.StatusCode`` member the gRPC API answers with.
        code: Numeric status code (``google.rpc.Code``), e.g. 3 for INVALID_ARGUMENT.
    """

    http_status: int = 500
    grpc_code: str = "UNKNOWN"
    code: int = 2

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def status_string(self) -> str:
        """Returns ``"CODE: message"``, like ``absl::Status::ToString()``."""
        return f"{self.grpc_code}: {self.message}"


class Cancelled(ServingError):
    """The request was cancelled (HTTP 499, CANCELLED)."""

    http_status, grpc_code, code = 499, "CANCELLED", 1


class Unknown(ServingError):
    """An error of unknown kind (HTTP 500, UNKNOWN)."""

    http_status, grpc_code, code = 500, "UNKNOWN", 2


class InvalidArgument(ServingError):
    """The request is malformed or does not fit the model (HTTP 400, INVALID_ARGUMENT)."""

    http_status, grpc_code, code = 400, "INVALID_ARGUMENT", 3


class DeadlineExceeded(ServingError):
    """The deadline passed before the call finished (HTTP 504, DEADLINE_EXCEEDED)."""

    http_status, grpc_code, code = 504, "DEADLINE_EXCEEDED", 4


class NotFound(ServingError):
    """The model, version or label is not served (HTTP 404, NOT_FOUND)."""

    http_status, grpc_code, code = 404, "NOT_FOUND", 5


class AlreadyExists(ServingError):
    """The entity already exists (HTTP 409, ALREADY_EXISTS)."""

    http_status, grpc_code, code = 409, "ALREADY_EXISTS", 6


class PermissionDenied(ServingError):
    """The caller may not do this (HTTP 403, PERMISSION_DENIED)."""

    http_status, grpc_code, code = 403, "PERMISSION_DENIED", 7


class ResourceExhausted(ServingError):
    """A resource limit was hit (HTTP 429, RESOURCE_EXHAUSTED)."""

    http_status, grpc_code, code = 429, "RESOURCE_EXHAUSTED", 8


class FailedPrecondition(ServingError):
    """The system is not in a state for this call (HTTP 400, FAILED_PRECONDITION)."""

    http_status, grpc_code, code = 400, "FAILED_PRECONDITION", 9


class Aborted(ServingError):
    """The call was aborted (HTTP 409, ABORTED)."""

    http_status, grpc_code, code = 409, "ABORTED", 10


class OutOfRange(ServingError):
    """A value is out of range (HTTP 400, OUT_OF_RANGE)."""

    http_status, grpc_code, code = 400, "OUT_OF_RANGE", 11


class Unimplemented(ServingError):
    """The operation or conversion is not supported (HTTP 501, UNIMPLEMENTED)."""

    http_status, grpc_code, code = 501, "UNIMPLEMENTED", 12


class Internal(ServingError):
    """An internal invariant broke (HTTP 500, INTERNAL)."""

    http_status, grpc_code, code = 500, "INTERNAL", 13


class Unavailable(ServingError):
    """The server or model cannot answer now; retrying may help (HTTP 503, UNAVAILABLE)."""

    http_status, grpc_code, code = 503, "UNAVAILABLE", 14


class DataLoss(ServingError):
    """Unrecoverable data loss (HTTP 500, DATA_LOSS)."""

    http_status, grpc_code, code = 500, "DATA_LOSS", 15


class Unauthenticated(ServingError):
    """The caller is not authenticated (HTTP 401, UNAUTHENTICATED)."""

    http_status, grpc_code, code = 401, "UNAUTHENTICATED", 16


class RequestTooLarge(ResourceExhausted):
    """The request body is larger than the server accepts (HTTP 413, RESOURCE_EXHAUSTED)."""

    http_status = 413


_BY_CODE: Dict[int, Type[ServingError]] = {
    cls.code: cls
    for cls in (
        Cancelled, Unknown, InvalidArgument, DeadlineExceeded, NotFound, AlreadyExists,
        PermissionDenied, ResourceExhausted, FailedPrecondition, Aborted, OutOfRange,
        Unimplemented, Internal, Unavailable, DataLoss, Unauthenticated,
    )
}
_BY_NAME: Dict[str, Type[ServingError]] = {cls.grpc_code: cls for cls in _BY_CODE.values()}

# HTTP status -> the class a client raises. Where TF Serving maps several codes
# to one status (400, 409, 500) the most common one wins.
_BY_HTTP: Dict[int, Type[ServingError]] = {
    400: InvalidArgument,
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    409: Aborted,
    413: RequestTooLarge,
    429: ResourceExhausted,
    499: Cancelled,
    500: Internal,
    501: Unimplemented,
    503: Unavailable,
    504: DeadlineExceeded,
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
    if isinstance(code, str):
        cls = _BY_NAME.get(code.upper(), Unknown)
    else:
        cls = _BY_CODE.get(int(code), Unknown)
    return cls(message)


def error_for_http_status(status: int, message: str) -> ServingError:
    """Builds the exception a REST client raises for an HTTP error status."""
    cls: Optional[Type[ServingError]] = _BY_HTTP.get(status)
    if cls is None:
        cls = InvalidArgument if 400 <= status < 500 else Unknown
    error = cls(message)
    if error.http_status != status:
        error.http_status = status
    return error
