"""Shared test settings.

Tiers: unmarked tests are fast (no TensorFlow import); ``slow`` tests run real
TFX/TF/Beam work; ``docker`` tests build or run the runtime image. Select with
``-m "not slow"`` for the quick tier.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
