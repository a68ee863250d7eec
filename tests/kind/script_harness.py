"""Runs scripts/kind/*.sh for real, in a copy of the repository, with stand-ins for the cluster tools.

The scripts run unchanged (bash, curl, sha256sum, chmod, chown are real); only
what needs a cluster or Docker Hub is replaced by small executables on PATH:
``docker`` (``exec NODE CMD...`` runs CMD here, ``cp SRC NODE:DEST`` copies
here), ``kind``, ``kubectl``, and the tfx-kfp CLI (``$TFX_KFP``). versions.env
in the copy points the model store's node folder at the host folder it is
bind-mounted from, and the tool downloads at a loopback HTTP server.
"""

import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Dict, Optional

from tests._support.cluster_files import REPO

DOCKER = """#!/usr/bin/env bash
case "$1" in
  exec) shift 2; exec "$@" ;;
  cp) cp "$2" "${3#*:}" ;;
  info) echo "${DOCKER_CGROUP_VERSION:-2}" ;;
  image) printf '%s\n' "${DOCKER_REPO_DIGESTS:-}" ;;
  save)
    echo "docker $*" >>"${TOOL_LOG:-/dev/null}"
    [[ -n "${DOCKER_SAVE_REFUSES:-}" && "$*" == *"$DOCKER_SAVE_REFUSES"* ]] && exit 1
    while [[ $# -gt 0 ]]; do [[ "$1" == -o ]] && echo archive >"$2"; shift; done ;;
  *) exit 0 ;;
esac
"""
# project_python (common.sh) runs `uv run ... python ARGS`: here, this interpreter with ARGS.
UV = """#!/usr/bin/env bash
while [[ $# -gt 0 && "$1" != python ]]; do shift; done
shift
exec "{python}" "$@"
"""
KIND = """#!/usr/bin/env bash
[[ "$1 $2" == "get clusters" ]] && echo tfx-kfp
if [[ "$1" == load ]]; then
  echo "kind $*" >>"${TOOL_LOG:-/dev/null}"
  [[ "$2" == docker-image ]] && exit "${KIND_LOAD_DOCKER_IMAGE_RC:-0}"
  [[ "$2" == image-archive && -s "$3" ]] || exit 1
fi
exit 0
"""


class Sandbox:
    """A copy of scripts/kind, pipelines' CSV and kind-cluster.yaml under ``root``."""

    def __init__(self, root: Path, overrides: Optional[Dict[str, str]] = None):
        self.root, self.bin = root, root / "shims"
        (root / "scripts").mkdir(parents=True)
        shutil.copytree(REPO / "scripts" / "kind", root / "scripts" / "kind")
        (root / "pipelines" / "penguin" / "data").mkdir(parents=True)
        shutil.copy(REPO / "pipelines/penguin/data/penguins_processed.csv", root / "pipelines/penguin/data/")
        shutil.copy(REPO / "pipelines/penguin/penguin_module.py", root / "pipelines/penguin/")
        shutil.copy(REPO / "kind-cluster.yaml", root)
        # The node's folder is the host's model store (a bind mount, kind-cluster.yaml extraMounts).
        self.node_store = root / ".kind" / "model-store"
        self.set_versions({"MODEL_STORE_NODE_DIR": str(self.node_store), "PIPELINE_UID": str(os.getuid()),
                           **(overrides or {})})
        self.bin.mkdir()
        for name, text in {"docker": DOCKER, "kind": KIND, "kubectl": "#!/usr/bin/env bash\nexit 0\n",
                           "uv": UV.replace("{python}", sys.executable)}.items():
            self.shim(name, text)

    def set_versions(self, values: Dict[str, str]) -> None:
        path = self.root / "scripts" / "kind" / "versions.env"
        lines = path.read_text().splitlines()
        for key, value in values.items():
            lines = [f"{key}={value}" if line.startswith(f"{key}=") else line for line in lines]
        path.write_text("\n".join(lines) + "\n")

    def shim(self, name: str, text: str) -> Path:
        path = self.bin / name
        path.write_text(text)
        path.chmod(0o755)
        return path

    def run(self, script: str, *args: str, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
        environment = {**os.environ, "PATH": f"{self.bin}:{os.environ['PATH']}", **(env or {})}
        return subprocess.run(["bash", str(self.root / "scripts" / "kind" / script), *args], cwd=self.root,
                              env=environment, capture_output=True, text=True, timeout=120)


class FileServer:
    """Serves ``files`` ({url path: bytes}) on 127.0.0.1; anything else is 404."""

    def __init__(self, files: Dict[str, bytes]):
        self.files, self.requested = files, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requested.append(self.path)
                body = server.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
