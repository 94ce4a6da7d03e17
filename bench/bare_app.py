"""The baseline: a bare FastAPI app answering a case-sized JSON document, no database, no auth.

Served by the same uvicorn command line as the real API (`uvicorn bench.bare_app:app ...`).
The payload is a real `GET /api/v1/cases/{id}` body captured by the benchmark (path in
IOP_BENCH_BARE_PAYLOAD), so both servers serialise the same amount of JSON. The handler is a
plain `def` like the service's handlers, so both pay for FastAPI's thread pool hop.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI

_path = os.environ.get("IOP_BENCH_BARE_PAYLOAD")
PAYLOAD: dict[str, Any] = json.loads(Path(_path).read_text()) if _path else {"id": 0, "title": "x" * 1000}

app = FastAPI(title="bare", docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/bare/{item_id}")
def bare(item_id: int) -> dict[str, Any]:
    """The captured case document with the requested id."""
    return {**PAYLOAD, "id": item_id}


@app.get("/health")
def health() -> dict[str, str]:
    """Readiness probe for the benchmark."""
    return {"status": "ok"}
