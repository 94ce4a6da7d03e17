"""The agreement form's goals and indicators: stored goals as form fields, the form's fields as the terms' goals.

Field names: goals-G-title, goals-G-indicators-I-(name|unit|baseline|target|how_measured), and one checkbox per report of
the form's follow-up schedule, goals-G-indicators-I-periods-K, whose value is that report's due date. The rules (units,
values, periods) are the terms' own (service.agreements.goals); this module only moves values between form and terms.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from service.agreements.goals import UNIT_LABELS
from service.web.deps import digits, optional, text

COLUMNS = ("name", "unit", "baseline", "target", "how_measured")
MAX_GOALS, MAX_INDICATORS = 50, 20
UNIT_OPTIONS = [(unit.value, label) for unit, label in UNIT_LABELS.items()]


def _number(value: Any) -> str:
    """A stored value as a Swede types it: 1200, 12,5."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace(".", ",")


def _schedule_dates(values: dict[str, Any]) -> list[tuple[int, str]]:
    """The follow-up schedule's rows in the form (row number, due date as typed), those with a date."""
    rows = []
    for key, value in values.items():
        parts = key.split("-")
        if len(parts) == 3 and parts[0] == "followup_schedule" and parts[2] == "due_on" and digits(parts[1]) and len(parts[1]) <= 3 and value:
            rows.append((int(parts[1]), str(value)))
    return sorted(rows)


def values(terms: dict[str, Any], form_values: dict[str, Any]) -> dict[str, Any]:
    """Stored goals as form values (the periods ticked against the schedule rows in ``form_values``)."""
    out: dict[str, Any] = {}
    schedule = _schedule_dates(form_values)
    for g, goal in enumerate(terms.get("goals") or []):
        goal = {"title": goal} if isinstance(goal, str) else goal
        out[f"goals-{g}-title"] = goal.get("title") or ""
        for i, ind in enumerate(goal.get("indicators") or []):
            base = f"goals-{g}-indicators-{i}"
            for col in COLUMNS:
                v = ind.get(col)
                out[f"{base}-{col}"] = _number(v) if col in ("baseline", "target") else ("" if v is None else str(v))
            for k, day in schedule:
                if day in (ind.get("periods") or []):
                    out[f"{base}-periods-{k}"] = day
    return out


def _index(part: str, limit: int) -> int | None:
    return int(part) if digits(part) and len(part) <= 3 and int(part) < limit else None


def rows(form_values: dict[str, Any]) -> list[int]:
    """How many indicator rows each goal row shows: those filled in and one spare, and one spare goal."""
    used: dict[int, int] = {}
    for key, value in form_values.items():
        parts = key.split("-")
        if parts[0] != "goals" or len(parts) < 3 or not value:
            continue
        g = _index(parts[1], MAX_GOALS)
        if g is None:
            continue
        used.setdefault(g, 0)
        if len(parts) >= 5 and parts[2] == "indicators" and (i := _index(parts[3], MAX_INDICATORS)) is not None:
            used[g] = max(used[g], i + 1)
    n = (max(used) + 1 if used else 0) + 1
    return [min(used.get(g, 0) + 1, MAX_INDICATORS) for g in range(min(n, MAX_GOALS))]


def fields(goal_rows: list[int], schedule_rows: int) -> list[str]:
    """Every goal field of the form, in its order (the error summary follows it)."""
    out = ["goals"]
    for g, n in enumerate(goal_rows):
        out.append(f"goals-{g}-title")
        for i in range(n):
            out += [f"goals-{g}-indicators-{i}-{c}" for c in COLUMNS]
            out += [f"goals-{g}-indicators-{i}-periods", *(f"goals-{g}-indicators-{i}-periods-{k}" for k in range(schedule_rows))]
    return out


def parse(form: FormData) -> tuple[list[dict[str, Any]] | None, dict[str, str]]:
    """The goals as far as the form fills them in (blank rows skipped), and aliases from payload places back to form fields."""
    posted = {k for k in form.keys() if k.startswith("goals-")}
    goal_rows = sorted({g for k in posted if (g := _index(k.split("-")[1], MAX_GOALS)) is not None})
    goals: list[dict[str, Any]] = []
    aliases: dict[str, str] = {"goals": "goals"}
    for g in goal_rows:
        indicators: list[dict[str, Any]] = []
        rows_i = sorted({i for k in posted if (p := k.split("-"))[1] == str(g) and len(p) >= 5 and p[2] == "indicators"
                         and (i := _index(p[3], MAX_INDICATORS)) is not None})
        at = len(goals)
        for i in rows_i:
            base = f"goals-{g}-indicators-{i}"
            ind: dict[str, Any] = {c: optional(form, f"{base}-{c}") for c in COLUMNS}
            ticked = sorted({text(form, k) for k in posted if k.startswith(f"{base}-periods-") and text(form, k)})
            if not any(ind.values()):
                continue  # an untouched spare row (its ticks alone say nothing)
            ind["periods"] = ticked
            place = f"goals-{at}-indicators-{len(indicators)}"
            for c in (*COLUMNS, "periods"):
                aliases[f"{place}-{c}"] = f"{base}-{c}"
            aliases[place] = f"{base}-name"
            indicators.append(ind)
        title = optional(form, f"goals-{g}-title")
        if title is None and not indicators:
            continue
        aliases[f"goals-{at}-title"] = aliases[f"goals-{at}"] = f"goals-{g}-title"
        goals.append({"title": title, "indicators": indicators})
    aliases |= {k.replace("-", "."): v for k, v in aliases.items()}
    return goals or None, aliases
