"""``python -m convnext_dense COMMAND ...``: the ``convnext-dense`` console script."""
import sys

from .cli import main

sys.exit(main())
