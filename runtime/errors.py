"""Errors a component raises for bad input, each naming what failed and why."""

from typing import Optional


class TfxKfpError(Exception):
    """Base class of every error tfx-kfp raises on purpose."""


class InputError(TfxKfpError):
    """Bad user input: names the file, the field and the rule that failed."""

    def __init__(self, path: str, rule: str, *, field: Optional[str] = None, received: Optional[str] = None):
        self.path = path
        self.field = field
        self.rule = rule
        self.received = received
        where = f"{path}: field {field!r}" if field else path
        message = f"{where}: {rule}"
        if received is not None:
            message += f" (received: {received})"
        super().__init__(message)


class AnomaliesFoundError(TfxKfpError):
    """The example validator found anomalies and was asked to fail on them."""


class UserModuleError(TfxKfpError):
    """The user module file is missing a function or fails to load."""


class PushError(TfxKfpError):
    """A model could not be pushed to the serving directory."""
