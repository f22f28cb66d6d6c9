"""``python -m forcemlp``: see forcemlp.cli."""
import sys

from .cli import main

sys.exit(main())
