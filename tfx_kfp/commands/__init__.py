"""Sub-commands of the tfx-kfp CLI; see tfx_kfp.cli."""
