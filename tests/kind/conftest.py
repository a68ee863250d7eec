"""Fixtures for the kind/cluster tests: repository paths, and a stand-in KFP API.

``kfp_api`` is an HTTP server on 127.0.0.1 that answers the part of the
Kubeflow Pipelines v2beta1 REST API that ``tfx-kfp submit`` uses (healthz,
pipelines, pipeline upload and versions, experiments, runs), with the JSON
shapes of the real API server. The unmodified ``kfp.Client`` talks to it over
real HTTP, so these tests cover our command and kfp's client together; what
they cannot cover is the KFP backend itself (compiling to Argo, running pods),
which the e2e-kind workflow exercises.
"""

import email.parser
import email.policy
import itertools
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]

_TYPES = {"STRING": str, "NUMBER_INTEGER": int, "NUMBER_DOUBLE": (int, float), "BOOLEAN": bool,
          "LIST": list, "STRUCT": dict}


class FakeKfpApi:
    """State and scripted run outcomes of the stand-in API server."""

    def __init__(self):
        self.pipelines, self.versions, self.experiments, self.runs = {}, {}, {}, {}
        self.recurring_runs = {}
        self.requests = []  # (method, path) in order
        self.outcome = "SUCCEEDED"  # final state of the next runs
        self.tasks = ["example-gen", "trainer", "pusher"]
        self._clock = itertools.count(1)
        self.lock = threading.Lock()

    def _time(self) -> str:
        return f"2026-01-01T00:{next(self._clock) % 60:02d}:00Z"

    # -- handlers: (status, body) -------------------------------------------------------------
    def list_pipelines(self, query):
        name = _filter_value(query)
        found = [p for p in self.pipelines.values() if name is None or p["display_name"] == name]
        return 200, ({"pipelines": found, "total_size": len(found)} if found else {})

    def upload(self, query, files, new_version: bool):
        text = files.get("uploadfile")
        if text is None:
            return 400, {"error": "missing uploadfile", "code": 3}
        spec = next(yaml.safe_load_all(text))
        if not isinstance(spec, dict) or "pipelineInfo" not in spec or "root" not in spec:
            return 400, {"error": "invalid pipeline spec", "code": 3}
        name = query.get("name", [None])[0]
        if new_version:
            pipeline_id = query.get("pipelineid", [None])[0]
            if pipeline_id not in self.pipelines:
                return 404, {"error": f"pipeline {pipeline_id} not found", "code": 5}
        else:
            if any(p["display_name"] == name for p in self.pipelines.values()):
                return 409, {"error": f"pipeline {name} already exists", "code": 6}
            pipeline_id = str(uuid.uuid4())
            self.pipelines[pipeline_id] = {"pipeline_id": pipeline_id, "display_name": name,
                                           "description": query.get("description", [""])[0],
                                           "created_at": self._time()}
        version_id = str(uuid.uuid4())
        self.versions[version_id] = {"pipeline_id": pipeline_id, "pipeline_version_id": version_id,
                                     "display_name": name, "created_at": self._time(), "pipeline_spec": spec}
        return 200, (self.versions[version_id] if new_version else self.pipelines[pipeline_id])

    def list_versions(self, pipeline_id, query):
        found = sorted((v for v in self.versions.values() if v["pipeline_id"] == pipeline_id),
                       key=lambda v: v["created_at"], reverse="desc" in query.get("sort_by", [""])[0])
        size = int(query.get("page_size", ["10"])[0])
        return 200, {"pipeline_versions": found[:size], "total_size": len(found)}

    def list_experiments(self, query):
        name = _filter_value(query)
        found = [e for e in self.experiments.values() if name is None or e["display_name"] == name]
        return 200, ({"experiments": found, "total_size": len(found)} if found else {})

    def create_experiment(self, body):
        experiment_id = str(uuid.uuid4())
        self.experiments[experiment_id] = {"experiment_id": experiment_id, "display_name": body["display_name"],
                                           "created_at": self._time(), "storage_state": "AVAILABLE"}
        return 200, self.experiments[experiment_id]

    def create_run(self, body):
        reference = body.get("pipeline_version_reference") or {}
        version = self.versions.get(reference.get("pipeline_version_id"))
        if version is None or version["pipeline_id"] != reference.get("pipeline_id"):
            return 400, {"error": "invalid pipeline version reference", "code": 3}
        if body.get("experiment_id") not in self.experiments:
            return 400, {"error": "invalid experiment", "code": 3}
        declared = version["pipeline_spec"]["root"].get("inputDefinitions", {}).get("parameters", {})
        for key, value in ((body.get("runtime_config") or {}).get("parameters") or {}).items():
            if key not in declared:
                return 400, {"error": f"unknown parameter {key}", "code": 3}
            expected = _TYPES[declared[key]["parameterType"]]
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                return 400, {"error": f"parameter {key}: wrong type {type(value).__name__}", "code": 3}
        run_id = str(uuid.uuid4())
        self.runs[run_id] = {"run": {"run_id": run_id, "display_name": body["display_name"],
                                     "experiment_id": body["experiment_id"],
                                     "pipeline_version_reference": reference,
                                     "runtime_config": body.get("runtime_config"),
                                     "created_at": self._time(), "state": "PENDING"},
                             "polls": 0, "outcome": self.outcome}
        return 200, self.runs[run_id]["run"]

    def create_recurring_run(self, body):
        reference = body.get("pipeline_version_reference") or {}
        if reference.get("pipeline_version_id") not in self.versions:
            return 400, {"error": "invalid pipeline version reference", "code": 3}
        recurring_run_id = str(uuid.uuid4())
        self.recurring_runs[recurring_run_id] = dict(body, recurring_run_id=recurring_run_id, status="ENABLED",
                                                     created_at=self._time())
        return 200, self.recurring_runs[recurring_run_id]

    def get_run(self, run_id):
        entry = self.runs.get(run_id)
        if entry is None:
            return 404, {"error": f"run {run_id} not found", "code": 5}
        entry["polls"] += 1
        run, step = entry["run"], entry["polls"]
        done = min(step - 1, len(self.tasks))  # one more task finishes per poll
        tasks = [{"run_id": run_id, "task_id": "root", "display_name": "root", "state": "RUNNING"}]
        tasks += [{"run_id": run_id, "task_id": f"d{i}", "display_name": f"{n}-driver", "state": "SUCCEEDED"}
                  for i, n in enumerate(self.tasks)]
        for i, name in enumerate(self.tasks):
            if i < done:
                state = entry["outcome"] if (i == len(self.tasks) - 1 and entry["outcome"] != "SUCCEEDED") \
                    else "SUCCEEDED"
            elif i == done:
                state = "RUNNING"
            else:
                continue
            tasks.append({"run_id": run_id, "task_id": f"task{i}", "display_name": name, "state": state})
        run["run_details"] = {"task_details": tasks}
        if step == 1:
            run["state"] = "PENDING"
        elif done < len(self.tasks):
            run["state"] = "RUNNING"
        else:
            run["state"] = entry["outcome"]
            run["finished_at"] = self._time()
            if entry["outcome"] == "FAILED":
                run["error"] = {"code": 2, "message": f"task {self.tasks[-1]} failed"}
        return 200, run


def _filter_value(query):
    raw = query.get("filter", [None])[0]
    if not raw:
        return None
    predicates = json.loads(raw).get("predicates", [])
    for p in predicates:
        if p.get("key") in ("display_name", "name"):
            return p.get("string_value", p.get("stringValue"))
    return None


def _handler(api: FakeKfpApi):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep pytest output quiet
            pass

        def _reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_GET(self):
            url = urlparse(self.path)
            query = parse_qs(url.query)
            with api.lock:
                api.requests.append(("GET", url.path))
                if url.path == "/apis/v2beta1/healthz":
                    return self._reply(200, {"multi_user": False})
                if url.path == "/apis/v2beta1/pipelines":
                    return self._reply(*api.list_pipelines(query))
                m = re.fullmatch(r"/apis/v2beta1/pipelines/([^/]+)/versions", url.path)
                if m:
                    return self._reply(*api.list_versions(m.group(1), query))
                if url.path == "/apis/v2beta1/experiments":
                    return self._reply(*api.list_experiments(query))
                m = re.fullmatch(r"/apis/v2beta1/runs/([^/]+)", url.path)
                if m:
                    return self._reply(*api.get_run(m.group(1)))
            self._reply(404, {"error": f"no route GET {url.path}", "code": 5})

        def do_POST(self):
            url = urlparse(self.path)
            query = parse_qs(url.query)
            raw = self._body()
            with api.lock:
                api.requests.append(("POST", url.path))
                if url.path in ("/apis/v2beta1/pipelines/upload", "/apis/v2beta1/pipelines/upload_version"):
                    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                        f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + raw)
                    files = {part.get_param("name", header="content-disposition"): part.get_content()
                             for part in message.iter_parts()}
                    files = {k: v.decode() if isinstance(v, bytes) else v for k, v in files.items()}
                    return self._reply(*api.upload(query, files, url.path.endswith("upload_version")))
                if url.path == "/apis/v2beta1/experiments":
                    return self._reply(*api.create_experiment(json.loads(raw)))
                if url.path == "/apis/v2beta1/runs":
                    return self._reply(*api.create_run(json.loads(raw)))
                if url.path == "/apis/v2beta1/recurringruns":
                    return self._reply(*api.create_recurring_run(json.loads(raw)))
            self._reply(404, {"error": f"no route POST {url.path}", "code": 5})

    return Handler


@pytest.fixture
def kfp_api():
    """A stand-in KFP API on 127.0.0.1; yields (api state, base URL)."""
    api = FakeKfpApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
