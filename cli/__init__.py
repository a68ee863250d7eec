"""The ``tfx-kfp`` command line.

Each sub-command lives in its own module under ``tfx_kfp.cli.commands`` and defines
``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``. Modules
are discovered, so adding a command never edits this file. Command modules
import heavy libraries (TensorFlow, TFX) inside ``run`` only, so ``--help`` and
``compile`` stay fast.
"""

import argparse
import importlib
import pkgutil
import sys
from typing import List, Optional

from tfx_kfp import __version__
from tfx_kfp.cli import commands


def _command_modules():
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{commands.__name__}.{info.name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tfx-kfp",
        description="TFX stages as Kubeflow Pipelines v2 components.",
    )
    parser.add_argument("--version", action="version", version=f"tfx-kfp {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        sub = subparsers.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
    return parser


def _exit_codes():
    """Typed errors → exit codes; the one place a command's failure becomes a number."""
    from tfx_kfp.cli.errors import UsageError
    from tfx_kfp.kfp_workarounds import UnsupportedKfpVersion
    from tfx_kfp.local.errors import BackendRejection, TaskFailed, UnsupportedSpec
    from tfx_kfp.pipelines.presets import MissingParameters
    from tfx_kfp.runtime.errors import TfxKfpError

    return ((UsageError, 2), (MissingParameters, 2), (TaskFailed, 1), (BackendRejection, 1), (UnsupportedSpec, 1),
            (TfxKfpError, 1), (UnsupportedKfpVersion, 1))


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    codes = _exit_codes()
    try:
        return int(args._run(args) or 0)
    except tuple(error for error, _ in codes) as e:
        print(f"tfx-kfp {args.command}: {e}", file=sys.stderr)
        return next(code for error, code in codes if isinstance(e, error))


