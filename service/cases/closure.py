"""When a case was closed: the one reading of the stage history that retention (and anyone else) counts from."""

from __future__ import annotations

from sqlalchemy import Subquery, func, select

from service.cases.models import Case, StageChange
from service.cases.stages import TERMINAL


def closures() -> Subquery:
    """(case_id, closed_at) of every case now in a terminal stage: when it last entered closed, rejected or withdrawn.

    From the stage history (case_stage_changes), not `stage_entered_at`, which the next change would overwrite; a case
    reopened in the future would only count from its last closure.
    """
    terminal = [s.value for s in TERMINAL]
    return (select(StageChange.case_id.label("case_id"), func.max(StageChange.at).label("closed_at"))
            .join(Case, Case.id == StageChange.case_id)
            .where(StageChange.to_stage.in_(terminal), Case.stage.in_(terminal))
            .group_by(StageChange.case_id).subquery("closures"))
