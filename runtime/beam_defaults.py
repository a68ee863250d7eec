"""Beam pipeline options every Beam stage uses unless a pipeline gives its own (no heavy imports)."""

# DirectRunner with one worker process per core.
DEFAULT_BEAM_PIPELINE_ARGS = ["--direct_running_mode=multi_processing", "--direct_num_workers=0"]
