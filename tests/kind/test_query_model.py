"""scripts/kind/query_model.py (what query.sh runs against TF Serving in kind), run for real.

The server here is tfx-kfp's local TF Serving-compatible model server
(docs/serving.md): it speaks TF Serving's REST and gRPC APIs, on 127.0.0.1.
The model is the penguin SavedModel of the test fixture chain, pushed as
version 7.
"""

import importlib.util
import shutil

import pytest

from tests._support.cluster_files import REPO

pytestmark = pytest.mark.serving

MODEL = REPO / "tests" / "fixtures" / "penguin_chain" / "model" / "Format-Serving"
CSV = REPO / "pipelines" / "penguin" / "data" / "penguins_processed.csv"


def _query_module():
    spec = importlib.util.spec_from_file_location("query_model", REPO / "scripts" / "kind" / "query_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from tfx_kfp.serving import server

    base = tmp_path_factory.mktemp("models") / "penguin"
    shutil.copytree(MODEL, base / "7")
    with server.start("penguin", str(base), rest_port=0, grpc_port=0) as handle:
        handle.wait_until_available(timeout=120)
        yield handle


def test_query_model_over_rest_and_grpc(served, capsys):
    query = _query_module()
    rc = query.main(["--rest", f"http://127.0.0.1:{served.rest_port}", "--grpc", f"127.0.0.1:{served.grpc_port}",
                     "--model", "penguin", "--version", "7", "--csv", str(CSV), "--timeout", "30"])
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    assert "penguin version 7 AVAILABLE" in out
    assert "REST predict -> " in out and "gRPC Predict (version 7) -> " in out
    assert out.strip().splitlines()[-1].startswith("query: ok: penguin version 7 answers REST and gRPC; ")


def test_query_model_fails_plainly_on_the_wrong_version(served, capsys):
    query = _query_module()
    with pytest.raises(SystemExit) as exit_info:
        query.main(["--rest", f"http://127.0.0.1:{served.rest_port}", "--grpc", f"127.0.0.1:{served.grpc_port}",
                    "--model", "penguin", "--version", "8", "--csv", str(CSV), "--timeout", "4"])
    assert "expected version 8 of penguin AVAILABLE" in str(exit_info.value)
