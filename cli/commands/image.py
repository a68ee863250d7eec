"""``tfx-kfp image``: build the runtime image every component runs in.

    tfx-kfp image build [--stack 1.16|current] [--variant cpu|gpu] [--context DIR] [--network host]
    tfx-kfp image tag [--stack 1.16|current] [--variant cpu|gpu]   # print the tag the pipeline uses
    tfx-kfp image tag --digest-only            # print only the source digest

The tag comes from :func:`tfx_kfp.components.image.image_tag` (package version and a
digest of the source the image is built from, never ``:latest``), which is also what the
compiled pipeline references. The build records the digest in the image.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional

NAME = "image"
HELP = "Build the runtime image (Dockerfile) or print its tag."

_STEP = re.compile(r"^(Step \d+/\d+ : |#\d+ \[)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="image_action", metavar="ACTION")
    build = actions.add_parser("build", help="docker build the runtime image, tagged from the package version")
    tag = actions.add_parser("tag", help="print the image reference the compiled pipeline uses")
    for sub in (build, tag):
        sub.add_argument("--variant", choices=("cpu", "gpu"), default="cpu",
                         help="cpu (tensorflow-cpu, default) or gpu (tensorflow[and-cuda])")
        sub.add_argument("--stack", choices=("1.16", "current"), default=None,
                         help="1.16 (TFX 1.16, KFP 2.13, Debian 12) or current (TFX 1.21, KFP 2.17, "
                              "Debian 13); default: the stack this installation runs")
    tag.add_argument("--digest-only", action="store_true",
                     help="print only the digest of the source the image is built from")
    build.add_argument("--context", type=Path, default=None,
                       help="source tree holding the Dockerfile (default: the nearest folder at or above "
                            "the current one that has a Dockerfile and pyproject.toml)")
    build.add_argument("--network", default="host",
                       help="network for RUN steps (default: host; 'default' for Docker's own)")
    build.add_argument("--docker", default=os.environ.get("DOCKER", "docker"),
                       help="docker executable (default: $DOCKER or docker)")
    build.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE",
                       help="extra docker build argument, repeatable (e.g. PYTHON_IMAGE=...)")
    build.add_argument("--verbose", action="store_true", help="print every line docker prints")
    build.add_argument("--dry-run", action="store_true", help="print the docker command and exit")


def find_context(start: Optional[Path] = None) -> Optional[Path]:
    """The nearest folder at or above ``start`` with a Dockerfile and pyproject.toml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Dockerfile").is_file() and (folder / "pyproject.toml").is_file():
            return folder
    return None


def stack_build_args(stack: str) -> List[str]:
    """The Dockerfile arguments that select a stack (components/image.py STACKS)."""
    from tfx_kfp.components.image import STACKS

    args = [f"STACK={stack}", f"STACK_LOCK={STACKS[stack].lock_dir}"]
    base = STACKS[stack].base_image
    return args + ([f"PYTHON_IMAGE={base}"] if base else [])


def build_command(docker: str, tag: str, variant: str, context: Path, network: str,
                  build_args: List[str], version: str, source_digest: str, stack: str = "1.16") -> List[str]:
    """The ``docker build`` command line for one variant of one stack."""
    cmd = [docker, "build", "--tag", tag, "--build-arg", f"VARIANT={variant}",
           "--build-arg", f"SOURCE_DIGEST={source_digest}",
           "--label", f"org.opencontainers.image.version={version}",
           "--label", f"io.tfx-kfp.source-digest={source_digest}",
           "--file", str(context / "Dockerfile")]
    if network and network != "default":
        cmd += ["--network", network]
    user_keys = {arg.split("=", 1)[0] for arg in build_args}
    for arg in stack_build_args(stack):
        if arg.split("=", 1)[0] not in user_keys:
            cmd += ["--build-arg", arg]
    for arg in build_args:
        if "=" not in arg:
            raise ValueError(f"--build-arg expects KEY=VALUE, got {arg!r}")
        cmd += ["--build-arg", arg]
    return cmd + [str(context)]


def pinned_base(context: Path) -> Optional[str]:
    """The Dockerfile's default base image reference (``ARG PYTHON_IMAGE=...``)."""
    match = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", (context / "Dockerfile").read_text(), re.M)
    return match.group(1) if match else None


def local_base_override(docker: str, context: Path, build_args: List[str]) -> List[str]:
    """``PYTHON_IMAGE=<tag>`` when the pinned base's tag names a locally built image.

    A machine without registry access builds its own base under the tag (our build machines
    do: no Docker Hub). Such an image has no registry digest, so the pinned ``tag@digest``
    cannot match it; say so and build from the local image.
    """
    base = pinned_base(context)
    if not base or "@" not in base or any(a.startswith("PYTHON_IMAGE=") for a in build_args):
        return []
    tag = base.split("@", 1)[0]
    out = subprocess.run([docker, "image", "inspect", "--format", "{{len .RepoDigests}}", tag],
                         capture_output=True, text=True)
    if out.returncode != 0 or out.stdout.strip() != "0":
        return []
    print(f"tfx-kfp image build: note: {tag} here is a locally built image (no registry digest); "
          f"building FROM it instead of the pinned {base}", flush=True)
    return [f"PYTHON_IMAGE={tag}"]


def image_size_bytes(docker: str, tag: str) -> Optional[int]:
    out = subprocess.run([docker, "image", "inspect", "--format", "{{.Size}}", tag],
                         capture_output=True, text=True)
    return int(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip().isdigit() else None


def _fmt_size(n: Optional[int]) -> str:
    return "size unknown" if n is None else f"{n / 1e9:.2f} GB"


def _fmt_time(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _build(args: argparse.Namespace) -> int:
    from tfx_kfp import __version__
    from tfx_kfp.components.image import STACKS, compute_source_digest, image_tag, running_stack

    context = args.context.resolve() if args.context else find_context()
    if context is None or not (context / "Dockerfile").is_file():
        where = context or Path.cwd()
        print(f"tfx-kfp image build: expected a Dockerfile in the tfx-kfp source tree; "
              f"none found at or above {where}. Run from the repository or pass --context.",
              file=sys.stderr)
        return 2
    stack = args.stack or running_stack()
    digest = compute_source_digest(context)
    tag = image_tag(args.variant, digest, stack)
    if tag != image_tag(args.variant, stack=stack):
        print(f"tfx-kfp image build: note: {context} differs from this installation's source; "
              f"its pipelines name {image_tag(args.variant, stack=stack)}, not {tag}", file=sys.stderr)
    if not (context / STACKS[stack].lock_dir / "uv.lock").is_file():
        print(f"tfx-kfp image build: expected the {stack} stack's lock at "
              f"{context / STACKS[stack].lock_dir / 'uv.lock'}; found none.", file=sys.stderr)
        return 2
    try:
        cmd = build_command(args.docker, tag, args.variant, context, args.network,
                            args.build_arg, __version__, digest, stack)
    except ValueError as error:
        print(f"tfx-kfp image build: {error}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(" ".join(cmd))
        return 0
    if shutil.which(args.docker) is None:
        print(f"tfx-kfp image build: expected a docker executable ({args.docker!r}) on PATH; found none.",
              file=sys.stderr)
        return 2
    info = subprocess.run([args.docker, "info", "--format", "{{.ServerVersion}}"],
                          capture_output=True, text=True)
    if info.returncode != 0:
        print("tfx-kfp image build: expected a running Docker engine; `docker info` said: "
              f"{(info.stderr or info.stdout).strip().splitlines()[-1:] or ['nothing']}", file=sys.stderr)
        return 2
    if STACKS[stack].base_image is None:
        for arg in local_base_override(args.docker, context, args.build_arg):
            cmd[-1:-1] = ["--build-arg", arg]

    print(f"tfx-kfp image build: building {tag} ({args.variant}, stack {stack}) from {context} "
          f"with Docker {info.stdout.strip()}", flush=True)
    started = time.monotonic()
    log_fd, log_name = tempfile.mkstemp(prefix="tfx-kfp-image-build-", suffix=".log")
    tail: List[str] = []
    with os.fdopen(log_fd, "w") as log, subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            errors="replace", bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            line = line.rstrip()
            tail = (tail + [line])[-40:]
            if args.verbose:
                print(line, flush=True)
            elif _STEP.match(line):
                print(f"  [{_fmt_time(time.monotonic() - started):>6}] {line[:150]}", flush=True)
        returncode = proc.wait()
    elapsed = _fmt_time(time.monotonic() - started)
    if returncode != 0:
        if not args.verbose:
            print("\n".join(tail), file=sys.stderr)
        print(f"tfx-kfp image build: docker build failed (exit {returncode}) after {elapsed}; "
              f"full log: {log_name}", file=sys.stderr)
        return 1
    os.unlink(log_name)
    print(f"built {tag} ({args.variant}, {_fmt_size(image_size_bytes(args.docker, tag))}) in {elapsed}")
    return 0


def run(args: argparse.Namespace) -> int:
    action = getattr(args, "image_action", None)
    if action == "tag":
        from tfx_kfp.components.image import image_tag, source_digest

        print((source_digest() or "") if args.digest_only else image_tag(args.variant, stack=args.stack))
        return 0
    if action == "build":
        return _build(args)
    print("tfx-kfp image: expected an action, 'build' or 'tag'; got none. See `tfx-kfp image --help`.",
          file=sys.stderr)
    return 2
