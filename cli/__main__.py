"""``python -m tfx_kfp.cli``: the same as the ``tfx-kfp`` command."""

import sys

from tfx_kfp.cli import main

sys.exit(main())
