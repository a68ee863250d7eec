"""kfp.local's DockerRunner, with the host folders a TFX pipeline needs.

kfp.local (KFP 2.13) bind-mounts only the pipeline root. A TFX pipeline also
reads its data folder and writes to the TF Serving model base path, so while
active this adds those bind mounts (at the same paths), and runs the container
as the calling user so files written to the host stay the user's and the
image's non-root user is not locked out of host folders.
"""

import contextlib
import os
from typing import Dict, Iterator, List

from kfp.local import docker_task_handler


def _run_docker_container(client, image: str, command: List[str], volumes: Dict, *, extra_volumes: Dict) -> int:
    image = docker_task_handler.add_latest_tag_if_not_present(image)
    if not any(image in existing.tags for existing in client.images.list()):
        raise RuntimeError(
            f"Docker image {image!r} is not present locally: build it first with `tfx-kfp image build`"
        )
    container = client.containers.run(
        image=image,
        command=command,
        detach=True,
        stdout=True,
        stderr=True,
        volumes={**volumes, **extra_volumes},
        user=f"{os.getuid()}:{os.getgid()}",
        environment={"HOME": "/tmp"},
    )
    try:
        for line in container.logs(stream=True):
            print(line.decode(), end="")
        return container.wait()["StatusCode"]
    finally:
        container.remove(force=True)


@contextlib.contextmanager
def docker_mounts(read_only: List[str], read_write: List[str]) -> Iterator[None]:
    """While active, DockerRunner tasks also mount these host folders at the same paths."""
    extra = {os.path.abspath(p): {"bind": os.path.abspath(p), "mode": "ro"} for p in read_only}
    extra.update({os.path.abspath(p): {"bind": os.path.abspath(p), "mode": "rw"} for p in read_write})
    original = docker_task_handler.run_docker_container

    def run(client, image, command, volumes):
        return _run_docker_container(client, image, command, volumes, extra_volumes=extra)

    docker_task_handler.run_docker_container = run
    try:
        yield
    finally:
        docker_task_handler.run_docker_container = original
