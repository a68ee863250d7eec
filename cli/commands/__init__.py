"""The tfx-kfp sub-commands, one module each (discovered by tfx_kfp.cli)."""
