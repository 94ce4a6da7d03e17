"""Project root on sys.path (importlib mode) and the SMTP fixtures for these tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2]))

from tests.fixtures.smtp import smtp_server, smtp_server_session  # noqa: E402, F401
