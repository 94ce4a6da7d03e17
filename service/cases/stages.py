"""The stage machine: one declarative transition table and its guard."""

from __future__ import annotations

from enum import StrEnum

from service.errors import Conflict


class Stage(StrEnum):
    """Stages of an IOP case."""

    DRAFT = "draft"
    IDENTIFY_NEED = "identify_need"
    DIALOGUE = "dialogue"
    AGREEMENT = "agreement"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


SWEDISH: dict[Stage, str] = {
    Stage.DRAFT: "Utkast",
    Stage.IDENTIFY_NEED: "Behovsidentifiering",
    Stage.DIALOGUE: "Dialog",
    Stage.AGREEMENT: "Överenskommelse",
    Stage.FOLLOW_UP: "Uppföljning",
    Stage.CLOSED: "Avslutat",
    Stage.REJECTED: "Avslaget",
    Stage.WITHDRAWN: "Återkallat",
}

TERMINAL: frozenset[Stage] = frozenset({Stage.CLOSED, Stage.REJECTED, Stage.WITHDRAWN})

# Every allowed move; anything else is a 409. Which action may take which move is in ACTIONS.
ALLOWED: dict[Stage, frozenset[Stage]] = {
    Stage.DRAFT: frozenset({Stage.IDENTIFY_NEED, Stage.WITHDRAWN}),
    Stage.IDENTIFY_NEED: frozenset({Stage.DIALOGUE, Stage.REJECTED, Stage.WITHDRAWN}),
    Stage.DIALOGUE: frozenset({Stage.AGREEMENT, Stage.REJECTED, Stage.WITHDRAWN}),
    Stage.AGREEMENT: frozenset({Stage.FOLLOW_UP, Stage.REJECTED, Stage.WITHDRAWN}),
    Stage.FOLLOW_UP: frozenset({Stage.CLOSED, Stage.REJECTED, Stage.WITHDRAWN}),
    Stage.CLOSED: frozenset(),
    Stage.REJECTED: frozenset(),
    Stage.WITHDRAWN: frozenset(),
}


class Action(StrEnum):
    """The ways a case changes stage."""

    SUBMIT = "submit"
    REVIEW_APPROVE = "review_approve"
    REVIEW_REJECT = "review_reject"
    WITHDRAW = "withdraw"
    TERMINATE = "terminate"


# Which target stages each action may reach (intersected with ALLOWED by the guard).
ACTIONS: dict[Action, frozenset[Stage]] = {
    Action.SUBMIT: frozenset({Stage.IDENTIFY_NEED}),
    Action.REVIEW_APPROVE: frozenset({Stage.DIALOGUE, Stage.AGREEMENT, Stage.FOLLOW_UP, Stage.CLOSED}),
    Action.REVIEW_REJECT: frozenset({Stage.REJECTED}),
    Action.WITHDRAW: frozenset({Stage.WITHDRAWN}),
    Action.TERMINATE: frozenset({Stage.CLOSED}),
}

# Reviews move a case one step forward.
NEXT_BY_REVIEW: dict[Stage, Stage] = {
    Stage.IDENTIFY_NEED: Stage.DIALOGUE,
    Stage.DIALOGUE: Stage.AGREEMENT,
    Stage.AGREEMENT: Stage.FOLLOW_UP,
    Stage.FOLLOW_UP: Stage.CLOSED,
}


def ensure_transition(current: Stage, target: Stage, action: Action | None = None) -> None:
    """Raise 409 naming both stages unless the table allows current -> target (for this action)."""
    # Stage columns are plain String columns: a case loaded from the database carries str, not Stage.
    current, target = Stage(current), Stage(target)
    allowed = target in ALLOWED[current] and (action is None or target in ACTIONS[action])
    if not allowed:
        raise Conflict(
            f"Ärendet kan inte gå från '{SWEDISH[current]}' till '{SWEDISH[target]}' / "
            f"Transition {current.value} -> {target.value} is not allowed",
            current_stage=current.value,
            requested_stage=target.value,
        )
