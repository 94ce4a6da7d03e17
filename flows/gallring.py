"""gallring_sweep: the daily gallring list for the registrar, and the executions whose object lock has ended.

One flow run per sweep. It only proposes: what the informationshanteringsplan makes due is put on the open proposed
list and the registrars are notified; nothing is deleted until a registrar approves it (service/retention). Approved
decisions whose waiting items' lock has ended get their execution emitted to the outbox again, which deletes after
this run's commit (process_outbox, kicked on commit).
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger

from flows.runtime import session_factory
from service.retention import service as retention


@flow(name="gallring_sweep", log_prints=False)
async def gallring_sweep(now: datetime | None = None) -> dict[str, int | None]:
    """List what is due for gallring on the registrar's proposed list; resume executions whose lock has ended."""
    with session_factory()() as s, s.begin():
        decision, added = retention.propose(s, now)
        resumed = retention.resume_waiting(s, now)
        summary = {"decision_id": decision.id if decision else None, "added": added, "resumed": len(resumed)}
    get_run_logger().info("gallring: %s", summary)
    return summary
