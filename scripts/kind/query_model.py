"""Queries the penguin model served by TF Serving over REST and gRPC.

    python scripts/kind/query_model.py --rest http://localhost:8501 --grpc localhost:8500 \
        --model penguin --version 1795397432 --csv .kind/model-store/data/penguin/penguins_processed.csv

Checks that the model reports the expected version AVAILABLE, sends the first
rows of the CSV (one per species) to the ``serving_default`` signature (four
float features in, ``scores`` out) by both protocols, prints the predictions,
and exits non-zero when a call fails, the versions differ, or REST and gRPC
disagree. Used by scripts/kind/query.sh.
"""

import argparse
import csv
import json
import sys
import time
import urllib.error
import urllib.request
from typing import Dict, List, Tuple

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


def rest_request(url: str, body=None, timeout: float = 30.0):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def wait_for_version(rest: str, model: str, version: str, timeout: float) -> None:
    url = f"{rest}/v1/models/{model}"
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            status = rest_request(url)["model_version_status"]
            last = status
            if any(s["version"] == version and s["state"] == "AVAILABLE" for s in status):
                print(f"query: GET {url}: version {version} AVAILABLE")
                return
        except (urllib.error.URLError, KeyError, ConnectionError) as e:
            last = e
        time.sleep(3)
    raise SystemExit(f"query: expected version {version} of {model} AVAILABLE at {url} within {timeout:.0f} s; "
                     f"last answer: {last}")


def predict_rest(rest: str, model: str, instances) -> List[List[float]]:
    url = f"{rest}/v1/models/{model}:predict"
    answer = rest_request(url, {"signature_name": "serving_default", "instances": instances})
    return [p["scores"] if isinstance(p, dict) else p for p in answer["predictions"]]


def predict_grpc(target: str, model: str, instances, timeout: float = 30.0) -> Tuple[List[List[float]], int]:
    import grpc
    from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = "serving_default"
    for key in FEATURES:
        request.inputs[key].CopyFrom(tensor_pb2.TensorProto(
            dtype=types_pb2.DT_FLOAT,
            tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=len(instances))]),
            float_val=[row[key] for row in instances],
        ))
    with grpc.insecure_channel(target) as channel:
        response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=timeout)
    scores = response.outputs["scores"]
    width = scores.tensor_shape.dim[1].size
    values = list(scores.float_val)
    return [values[i:i + width] for i in range(0, len(values), width)], response.model_spec.version.value


def argmax(scores: List[float]) -> int:
    return max(range(len(scores)), key=scores.__getitem__)


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
    wait_for_version(args.rest, args.model, args.version, args.timeout)
    rest_scores = predict_rest(args.rest, args.model, instances)
    print(f"query: REST predict -> {[argmax(s) for s in rest_scores]} (labels {labels})")
    grpc_scores, grpc_version = predict_grpc(args.grpc, args.model, instances)
    print(f"query: gRPC Predict (version {grpc_version}) -> {[argmax(s) for s in grpc_scores]} (labels {labels})")
    if str(grpc_version) != args.version:
        print(f"query: expected gRPC to answer with version {args.version}; received {grpc_version}", file=sys.stderr)
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
