"""Deadline defaults from the SPEC's table, overridable per department."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from service.deadlines.models import DeadlineKind

# due: how the due time is computed from the start; reminders: signed offsets from the due time;
# escalation: who is told when it is missed, and how long after the due time.
DEFAULTS: dict[DeadlineKind, dict[str, Any]] = {
    DeadlineKind.TRIAGE: {
        "due": {"working_days": 5},
        "reminders": [{"working_days": -2}, {"working_days": 0}],
        "escalation": "approvers",
        "escalation_delay": {"working_days": 1},
    },
    DeadlineKind.REVIEW: {
        "due": {"working_days": 10},
        "reminders": [{"working_days": -3}, {"working_days": -1}, {"working_days": 0}],
        "escalation": "manager",
        "escalation_delay": {"working_days": 1},
    },
    DeadlineKind.DIALOGUE: {
        "due": {"days": 60},
        "reminders": [{"days": -7}],
        "escalation": "officer+approver",
        "escalation_delay": {"days": 0},
    },
    DeadlineKind.AGREEMENT_SIGNATURE: {
        "due": {"days": 30},
        "reminders": [{"days": -7}, {"days": -1}],
        "escalation": "officer",
        "escalation_delay": {"days": 0},
    },
    DeadlineKind.FOLLOWUP_REPORT: {
        "reminders": [{"days": -30}, {"days": -7}, {"days": 0}],
        "escalation": "officer",
        "escalation_delay": {"days": 7},
    },
    DeadlineKind.AGREEMENT_EXPIRY: {
        "reminders": [{"days": -90}, {"days": -30}],
        "escalation": "officer",
        "escalation_delay": {"days": 0},
    },
    DeadlineKind.PAYMENT_INSTALMENT: {
        "reminders": [{"days": -7}],
        "escalation": "officer",
        "escalation_delay": {"days": 0},
    },
}


def policy_for(kind: DeadlineKind, department_settings: dict[str, Any] | None) -> dict[str, Any]:
    """The SPEC default for a kind with the department's overrides applied key by key."""
    merged = deepcopy(DEFAULTS[kind])
    merged.update((department_settings or {}).get(kind.value, {}))
    return merged


def offset_key(offset: dict[str, int]) -> str:
    """Stable name of a reminder offset, part of the reminder's dedupe key."""
    if "working_days" in offset:
        return f"wd{offset['working_days']:+d}"
    return f"d{offset.get('days', 0):+d}"


# Deadlines the organisation itself must meet; the only ones shown to its members.
ORG_DEADLINES = frozenset({DeadlineKind.FOLLOWUP_REPORT, DeadlineKind.AGREEMENT_SIGNATURE})
