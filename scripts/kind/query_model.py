"""Queries the penguin model served by TF Serving over REST and gRPC.

    python scripts/kind/query_model.py --rest http://localhost:8501 --grpc localhost:8500 \
        --model penguin --version 1795397432 --csv .kind/model-store/data/penguin/penguins_processed.csv

Waits until the model reports the expected version AVAILABLE, sends the first
rows of the CSV (one per species) to that version's ``serving_default``
signature (four float features in, ``scores`` out) by both protocols through
``tfx_kfp.serving.client.ServingClient``, prints the predictions, and exits
non-zero when a call fails or REST and gRPC disagree. Used by
scripts/kind/query.sh.
"""

import argparse
import csv
import sys
import time
from typing import Dict, List, Tuple
from urllib.parse import urlsplit

from tfx_kfp.serving.client import ServingClient
from tfx_kfp.serving.protocol.errors import ServingError

FEATURES = ["culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g"]
LABEL = "species"


def sample_rows(csv_path: str, per_class: int = 1) -> Tuple[List[Dict[str, float]], List[int]]:
    """The first ``per_class`` rows of each species, as feature dicts and labels."""
    instances, labels, seen = [], [], {}
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            label = int(row[LABEL])
            if seen.get(label, 0) < per_class:
                seen[label] = seen.get(label, 0) + 1
                instances.append({k: float(row[k]) for k in FEATURES})
                labels.append(label)
    if not instances:
        raise SystemExit(f"query: expected rows with {FEATURES + [LABEL]} in {csv_path}; found none")
    return instances, labels


def clients(rest: str, grpc: str, timeout: float = 30.0) -> Tuple[ServingClient, ServingClient]:
    """A REST and a gRPC client from ``http://host:port`` and ``host:port``."""
    url = urlsplit(rest)
    host, _, grpc_port = grpc.rpartition(":")
    return (ServingClient(url.hostname, rest_port=url.port or 80, protocol="rest", timeout=timeout),
            ServingClient(host, grpc_port=int(grpc_port), protocol="grpc", timeout=timeout))


def wait_for_version(client: ServingClient, model: str, version: str, timeout: float) -> None:
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            status = client.status(model)["model_version_status"]
            last = status
            if any(str(s["version"]) == version and s["state"] == "AVAILABLE" for s in status):
                print(f"query: {model} version {version} AVAILABLE")
                return
        except ServingError as error:
            last = error
        time.sleep(3)
    raise SystemExit(f"query: expected version {version} of {model} AVAILABLE within {timeout:.0f} s; "
                     f"last answer: {last}")


def scores(client: ServingClient, model: str, version: str, instances) -> List[List[float]]:
    answer = client.predict(model, instances=instances, signature_name="serving_default", version=int(version))
    return [p["scores"] if isinstance(p, dict) else p for p in answer["predictions"]]


def argmax(values: List[float]) -> int:
    return max(range(len(values)), key=values.__getitem__)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rest", required=True, help="TF Serving REST base URL, e.g. http://localhost:8501")
    parser.add_argument("--grpc", required=True, help="TF Serving gRPC target, e.g. localhost:8500")
    parser.add_argument("--model", default="penguin")
    parser.add_argument("--version", required=True, help="the model version expected to be served")
    parser.add_argument("--csv", required=True, help="penguin CSV to take example rows from")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the version")
    args = parser.parse_args(argv)

    instances, labels = sample_rows(args.csv)
    rest, grpc = clients(args.rest, args.grpc)
    with rest, grpc:
        wait_for_version(rest, args.model, args.version, args.timeout)
        try:
            rest_scores = scores(rest, args.model, args.version, instances)
            print(f"query: REST predict -> {[argmax(s) for s in rest_scores]} (labels {labels})")
            grpc_scores = scores(grpc, args.model, args.version, instances)
            print(f"query: gRPC Predict (version {args.version}) -> {[argmax(s) for s in grpc_scores]} "
                  f"(labels {labels})")
        except ServingError as error:
            print(f"query: expected predictions from version {args.version}; the server answered {error}",
                  file=sys.stderr)
            return 1
    if len(rest_scores) != len(instances) or any(
            abs(a - b) > 1e-4 for r, g in zip(rest_scores, grpc_scores) for a, b in zip(r, g)):
        print(f"query: expected REST and gRPC to return the same scores; received {rest_scores} and {grpc_scores}",
              file=sys.stderr)
        return 1
    correct = sum(argmax(s) == y for s, y in zip(rest_scores, labels))
    print(f"query: ok: {args.model} version {args.version} answers REST and gRPC; {correct}/{len(labels)} correct")
    return 0


if __name__ == "__main__":
    sys.exit(main())
