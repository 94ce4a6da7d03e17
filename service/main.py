"""ASGI entry point: `uvicorn service.main:app` (and the workers of `python -m service.serve`)."""

import gc

from sqlalchemy.orm import configure_mappers

from service.app import create_app

app = create_app()

# What start-up built (routes, schemas, mappers: some 230,000 objects) lives as long as the process. Frozen out of the
# cycle collector, a full collection no longer walks it: one took ~150 ms here, paid by whatever requests were in
# flight. Tests build their apps with create_app() and are not frozen.
configure_mappers()
gc.collect()
gc.freeze()
