"""Swedish working-day calendar and deadline/reminder time arithmetic (Europe/Stockholm).

Conventions (all datetimes are timezone-aware; naive input raises ``ValueError``; every
returned datetime is in UTC):

* Non-working days: Saturdays, Sundays, Swedish public holidays by law (lag 1989:253) and the
  de facto non-working days :data:`DE_FACTO_NON_WORKING` (midsommarafton, julafton, nyårsafton;
  semesterlagen 1977:480 §7), both from the ``holidays`` package (country ``SE``, categories
  ``public`` and ``de_facto``), and any extra dates a calendar is configured with (e.g. a
  municipality's klämdagar). Years before 1953 (the package's first) have no holidays.
* ``add_working_days(d, 0)`` returns ``d`` if it is a working day, else the next working day,
  so "0 working days" from a Saturday submission means Monday.
* Counting starts *after* the start day: 1 working day after Thursday is Friday; the start day
  itself never counts, whether it is a working day or not.
* A deadline "N working days from X" is due at the end of that working day in local time,
  23:59:59 Europe/Stockholm (:data:`END_OF_DAY`); overdue means ``now > due_at``.
* Reminders go out at 08:00 local time (:data:`REMINDER_TIME`) on the reminder day.
* Calendar-day arithmetic keeps the local wall-clock time across DST changes, so adding one
  day to 10:00 the day before spring-forward gives 10:00 local (23 h later in UTC).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from threading import Lock
from typing import Final
from zoneinfo import ZoneInfo

import holidays

DEFAULT_TZ: Final = ZoneInfo("Europe/Stockholm")

# Deadlines end at the last second of the local day: "senast den 23 november" means the whole day.
END_OF_DAY: Final = time(23, 59, 59)

# Reminders are sent at the start of office hours, not at midnight, so they are read the same day.
REMINDER_TIME: Final = time(8, 0)

# Not public holidays by law, but Swedish municipalities are closed (and the Annual Leave Act,
# SFS 1977:480 §7, treats them like Sundays): the SE ``de_facto`` category of the holidays package.
# Their Swedish names as the package gives them.
DE_FACTO_NON_WORKING: Final[tuple[str, ...]] = ("Midsommarafton", "Julafton", "Nyårsafton")

# Saturday=5, Sunday=6: never working days, independent of what the holidays package reports.
_WEEKEND: Final = frozenset({5, 6})

# A year's worth of calendar days: bounds the search for the next/previous working day so a
# misconfigured extra_non_working set cannot spin forever.
_MAX_SCAN_DAYS: Final = 366


def _require_aware(value: datetime, name: str = "datetime") -> None:
    """Reject naive datetimes: their meaning depends on the server's clock setting."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


class WorkingCalendar:
    """Swedish working days in one timezone, with per-year cached holiday sets."""

    def __init__(
        self,
        tz: ZoneInfo | str = DEFAULT_TZ,
        extra_non_working: Iterable[date] = (),
        *,
        include_de_facto: bool = True,
    ) -> None:
        """Create a calendar; extra_non_working adds local closing days (klämdagar etc.)."""
        self.tz: ZoneInfo = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.extra_non_working: frozenset[date] = frozenset(extra_non_working)
        self.include_de_facto = include_de_facto
        self._years: dict[int, dict[date, str]] = {}
        self._lock = Lock()

    # -- holiday data -------------------------------------------------------------------------

    def holidays_in(self, year: int) -> dict[date, str]:
        """Named non-working days of a year (public + de facto + extra), Swedish names."""
        cached = self._years.get(year)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._years.get(year)
            if cached is None:
                cached = self._build_year(year)
                self._years[year] = cached
        return cached

    def _build_year(self, year: int) -> dict[date, str]:
        """Compute one year's named non-working days."""
        # language="sv": without it the names come back in English despite SE's default. Sundays are
        # not asked for (include_sundays defaults to False): weekends are handled by weekday.
        categories = (holidays.PUBLIC, holidays.DE_FACTO) if self.include_de_facto else (holidays.PUBLIC,)
        named = holidays.country_holidays("SE", years=year, language="sv", categories=categories)
        days: dict[date, str] = {d: str(name) for d, name in named.items() if d.year == year}
        for d in self.extra_non_working:
            if d.year == year:
                days.setdefault(d, "Extra ledig dag")
        return days

    def holiday_name(self, d: date) -> str | None:
        """Swedish name of the holiday on d, or None (weekends are not named)."""
        return self.holidays_in(d.year).get(d)

    # -- dates ----------------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        """True unless d is a weekend, public holiday, de facto holiday or extra closing day."""
        if isinstance(d, datetime):
            # A datetime is a date subclass; its calendar day depends on the zone, so be explicit.
            raise TypeError("is_working_day takes a date; use local_date(dt) for datetimes")
        return d.weekday() not in _WEEKEND and d not in self.holidays_in(d.year)

    def next_working_day(self, d: date) -> date:
        """First working day strictly after d."""
        return self._scan(d, 1)

    def previous_working_day(self, d: date) -> date:
        """Last working day strictly before d."""
        return self._scan(d, -1)

    def _scan(self, d: date, step: int) -> date:
        """Walk one day at a time in direction step until a working day is found."""
        candidate = d
        for _ in range(_MAX_SCAN_DAYS):
            candidate += timedelta(days=step)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {_MAX_SCAN_DAYS} days of {d}")

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after start (before it if n < 0); n=0 rolls to a working day.

        The start day never counts. n=0 returns start if it is a working day, else the next
        working day.
        """
        if n == 0:
            return start if self.is_working_day(start) else self.next_working_day(start)
        step = 1 if n > 0 else -1
        d = start
        for _ in range(abs(n)):
            d = self._scan(d, step)
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """Signed working-day steps from a to b: +count in (a, b], or -count in [b, a) if b < a.

        Mirrors add_working_days: for any a and any working day b,
        ``add_working_days(a, working_days_between(a, b)) == b``, and for n != 0
        ``working_days_between(a, add_working_days(a, n)) == n``.
        """
        if b >= a:
            lo, hi, sign = a + timedelta(days=1), b, 1
        else:
            lo, hi, sign = b, a - timedelta(days=1), -1
        count = 0
        d = lo
        while d <= hi:
            if self.is_working_day(d):
                count += 1
            d += timedelta(days=1)
        return sign * count

    # -- datetimes ------------------------------------------------------------------------------

    def local(self, value: datetime) -> datetime:
        """value converted to this calendar's local timezone (value must be aware)."""
        _require_aware(value)
        return value.astimezone(self.tz)

    def local_date(self, value: datetime) -> date:
        """The local calendar day that value falls on."""
        return self.local(value).date()

    def at_local(self, d: date, at: time) -> datetime:
        """The instant of local wall-clock time `at` on day d, as aware UTC.

        A wall time skipped by spring-forward (02:00–03:00) resolves to the instant one hour
        later in local time; an ambiguous fall-back time resolves to its first occurrence.
        """
        if at.tzinfo is not None:
            raise ValueError("at must be a naive wall-clock time; the calendar supplies the zone")
        # fold=0 picks the pre-transition offset for both skipped and repeated wall times.
        return datetime.combine(d, at.replace(fold=0), tzinfo=self.tz).astimezone(UTC)

    def due_at(self, start: datetime, working_days: int, at: time = END_OF_DAY) -> datetime:
        """Due instant N working days after start's local day, at local `at` (default 23:59:59)."""
        due_day = self.add_working_days(self.local_date(start), working_days)
        return self.at_local(due_day, at)

    def add_days(self, start: datetime, days: int) -> datetime:
        """start plus calendar days, keeping the local wall-clock time across DST (UTC result)."""
        local = self.local(start)
        return self.at_local(local.date() + timedelta(days=days), local.time())

    def due_after_days(
        self, start: datetime, days: int, at: time = END_OF_DAY, *, roll_forward: bool = True
    ) -> datetime:
        """Due instant `days` calendar days after start's local day, at local time `at`.

        With roll_forward (the rule of lag 1930:173 for statutory periods), a due day that is
        not a working day moves to the next working day.
        """
        due_day = self.local_date(start) + timedelta(days=days)
        if roll_forward and not self.is_working_day(due_day):
            due_day = self.next_working_day(due_day)
        return self.at_local(due_day, at)

    def shift_by_working_days(self, due: datetime, n: int) -> datetime:
        """Move due by n working days keeping its local time-of-day (suspension resume).

        n=0 returns due unchanged (in UTC); otherwise the local day moves with
        add_working_days, so a due day on a non-working day counts from that day.
        """
        local = self.local(due)
        if n == 0:
            return due.astimezone(UTC)
        return self.at_local(self.add_working_days(local.date(), n), local.time())

    def reminder_time(
        self,
        due: datetime,
        offset_working_days: int | None = None,
        offset_days: int | None = None,
        at: time = REMINDER_TIME,
    ) -> datetime:
        """When to send a reminder for due: at 08:00 local on the offset day.

        Offsets are signed ("−2 wd" is offset_working_days=-2, "−7 d" is offset_days=-7);
        with neither given the reminder is on the due day itself. Calendar-day offsets are
        literal and may land on a weekend. A reminder at or before the due day that would come
        after due (a due time before 08:00) is sent at due instead; positive offsets (after
        due, e.g. escalation "+1 wd") are not clamped.
        """
        if offset_working_days is not None and offset_days is not None:
            raise ValueError("give offset_working_days or offset_days, not both")
        due_day = self.local_date(due)
        if offset_working_days is not None:
            # A 0 offset means the due day itself, even if that is a weekend (no roll-forward).
            day = due_day if offset_working_days == 0 else self.add_working_days(
                due_day, offset_working_days
            )
        elif offset_days is not None:
            day = due_day + timedelta(days=offset_days)
        else:
            day = due_day
        when = self.at_local(day, at)
        due_utc = due.astimezone(UTC)
        offset = offset_working_days if offset_working_days is not None else offset_days
        if (offset is None or offset <= 0) and when > due_utc:
            # A reminder arriving after the deadline is useless; send it at the deadline.
            return due_utc
        return when


@lru_cache(maxsize=8)
def calendar_for(tz_name: str = "Europe/Stockholm") -> WorkingCalendar:
    """Shared calendar for a timezone name (holiday cache reused across callers)."""
    return WorkingCalendar(ZoneInfo(tz_name))


def default_calendar() -> WorkingCalendar:
    """The shared Europe/Stockholm calendar without extra closing days."""
    return calendar_for("Europe/Stockholm")
