"""serving/'s sub-packages keep their layering: the client shares only the protocol with the server.

protocol (errors, JSON, tensors) <- client; protocol <- models <- transport <- server.
The client must import nothing from the server side, so client and server can change apart.
Checked statically on the import graph (grimp, import-linter's engine), no import runs.
"""

import pytest

pytestmark = pytest.mark.unit

SERVER_SIDE = ("tfx_kfp.serving.models", "tfx_kfp.serving.transport", "tfx_kfp.serving.server",
               "tfx_kfp.serving.model_server", "tfx_kfp.serving.flags", "tfx_kfp.serving.smoke")


@pytest.fixture(scope="module")
def graph():
    import grimp

    return grimp.build_graph("tfx_kfp", include_external_packages=False, cache_dir=None)


@pytest.mark.parametrize("importer, forbidden", [
    ("tfx_kfp.serving.client", SERVER_SIDE),
    ("tfx_kfp.serving.protocol", SERVER_SIDE + ("tfx_kfp.serving.client",)),
    ("tfx_kfp.serving.models", ("tfx_kfp.serving.transport", "tfx_kfp.serving.client",
                                "tfx_kfp.serving.server")),
])
def test_no_import_chain_crosses_the_layers(graph, importer, forbidden):
    crossing = [target for target in forbidden
                if graph.chain_exists(importer, target, as_packages=True)]
    chains = [" -> ".join(chain) for target in crossing
              for chain in graph.find_shortest_chains(importer, target, as_packages=True)]
    assert not crossing, f"{importer} imports the server side: {chains}"
