"""Make the project root importable under --import-mode=importlib (no root conftest yet)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2]))
