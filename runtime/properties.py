"""TFX artifact property names that travel in KFP artifact metadata (declared once; re-exported by
``tfx_kfp.components.names``, which the layering keeps above runtime)."""

SPLIT_NAMES = "split_names"
SPAN = "span"
VERSION = "version"
