"""Errors the CLI turns into exit codes, in one place (``tfx_kfp.cli.main``)."""


class UsageError(Exception):
    """The command line is wrong (exit code 2): what was expected and what was received."""
