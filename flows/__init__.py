"""Prefect 3 flows: thin wrappers that call service functions with ids."""

import os

# Never phone home, whoever imports the flows.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
