"""Typed serving errors shared by the model server and the client.

Each class carries the HTTP status and gRPC code TF Serving answers with (``http_server.cc``),
so the server answers both protocols from one raise and the client raises the same class over
either. Codes are ``grpc.StatusCode`` member names; no TensorFlow or grpc import.
"""

from typing import Dict, Optional, Type

__all__ = [
    "ServingError", "Cancelled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
    "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted",
    "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
    "RequestTooLarge", "error_for_code", "error_for_http_status", "error_for_exception",
]

# google.rpc.Code numbers are the positions in this tuple.
_CODE_NAMES = ("OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
               "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
               "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
               "UNAUTHENTICATED")
_BY_NAME: Dict[str, Type["ServingError"]] = {}


class ServingError(Exception):
    """Base class of every serving failure: ``message`` (TF Serving's wording where it has one),
    ``http_status``, ``grpc_code`` (a ``grpc.StatusCode`` name) and ``code`` (its number)."""

    http_status: int = 500
    grpc_code: str = "UNKNOWN"
    code: int = 2

    def __init_subclass__(cls, http_status: Optional[int] = None, grpc_code: Optional[str] = None,
                          **kwargs):
        super().__init_subclass__(**kwargs)
        if grpc_code is not None:
            cls.http_status, cls.grpc_code = http_status, grpc_code
            cls.code = _CODE_NAMES.index(grpc_code)
            _BY_NAME.setdefault(grpc_code, cls)

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def status_string(self) -> str:
        """Returns ``"CODE: message"``, like ``absl::Status::ToString()``."""
        return f"{self.grpc_code}: {self.message}"


def _status(name: str, http_status: int, grpc_code: str, doc: str,
            base: Type[ServingError] = ServingError) -> Type[ServingError]:
    return type(name, (base,), {"__doc__": doc, "__module__": __name__},
                http_status=http_status, grpc_code=grpc_code)


# TF Serving's status -> HTTP mapping (http_server.cc ToHTTPStatusCode).
Cancelled = _status("Cancelled", 499, "CANCELLED", "The request was cancelled.")
Unknown = _status("Unknown", 500, "UNKNOWN", "An error of unknown kind.")
InvalidArgument = _status("InvalidArgument", 400, "INVALID_ARGUMENT",
                          "The request is malformed or does not fit the model.")
DeadlineExceeded = _status("DeadlineExceeded", 504, "DEADLINE_EXCEEDED",
                           "The deadline passed before the call finished.")
NotFound = _status("NotFound", 404, "NOT_FOUND", "The model, version or label is not served.")
AlreadyExists = _status("AlreadyExists", 409, "ALREADY_EXISTS", "The entity already exists.")
PermissionDenied = _status("PermissionDenied", 403, "PERMISSION_DENIED",
                           "The caller may not do this.")
ResourceExhausted = _status("ResourceExhausted", 429, "RESOURCE_EXHAUSTED",
                            "A resource limit was hit.")
FailedPrecondition = _status("FailedPrecondition", 400, "FAILED_PRECONDITION",
                             "The system is not in a state for this call.")
Aborted = _status("Aborted", 409, "ABORTED", "The call was aborted.")
OutOfRange = _status("OutOfRange", 400, "OUT_OF_RANGE", "A value is out of range.")
Unimplemented = _status("Unimplemented", 501, "UNIMPLEMENTED",
                        "The operation or conversion is not supported.")
Internal = _status("Internal", 500, "INTERNAL", "An internal invariant broke.")
Unavailable = _status("Unavailable", 503, "UNAVAILABLE",
                      "The server or model cannot answer now; retrying may help.")
DataLoss = _status("DataLoss", 500, "DATA_LOSS", "Unrecoverable data loss.")
Unauthenticated = _status("Unauthenticated", 401, "UNAUTHENTICATED",
                          "The caller is not authenticated.")
RequestTooLarge = _status("RequestTooLarge", 413, "RESOURCE_EXHAUSTED",
                          "The request body is larger than the server accepts.",
                          ResourceExhausted)


# HTTP status -> the class a client raises. Where TF Serving maps several codes
# to one status (400, 409, 500) the most common one wins.
_BY_HTTP: Dict[int, Type[ServingError]] = {
    cls.http_status: cls
    for cls in (*_BY_NAME.values(), RequestTooLarge, InvalidArgument, Aborted, Internal)
}


def error_for_code(code, message: str) -> ServingError:
    """The exception for a code: a number (3), a name ("INVALID_ARGUMENT") or a
    ``grpc.StatusCode`` member; ``Unknown`` for codes not recognised."""
    if hasattr(code, "name") and hasattr(code, "value"):  # grpc.StatusCode
        code = code.name
    if not isinstance(code, str):
        code = _CODE_NAMES[int(code)] if 0 < int(code) < len(_CODE_NAMES) else "UNKNOWN"
    return _BY_NAME.get(code.upper(), Unknown)(message)


def error_for_http_status(status: int, message: str) -> ServingError:
    """Builds the exception a REST client raises for an HTTP error status."""
    error = _BY_HTTP.get(status, InvalidArgument if 400 <= status < 500 else Unknown)(message)
    error.http_status = status  # where several statuses share a class
    return error


def error_for_exception(error: BaseException) -> ServingError:
    """What a request that raised ``error`` answers: its status, INVALID_ARGUMENT for bytes that
    are not text where text is needed, else UNKNOWN."""
    if isinstance(error, ServingError):
        return error
    if isinstance(error, UnicodeError):
        return InvalidArgument(f"Invalid UTF-8 in the request: {error}")
    return Unknown(f"{type(error).__name__}: {error}")
