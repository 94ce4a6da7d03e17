"""Swedish working-day calendar against real 2025–2027 dates, DST changes and round trips."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from service.deadlines.calendar import (
    DE_FACTO_NON_WORKING,
    DEFAULT_TZ,
    END_OF_DAY,
    REMINDER_TIME,
    WorkingCalendar,
    calendar_for,
    default_calendar,
)

STHLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def cal() -> WorkingCalendar:
    """A fresh calendar, so per-year caches do not leak between tests."""
    return WorkingCalendar()


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    """Aware Europe/Stockholm wall-clock datetime."""
    return datetime(y, m, d, hh, mm, ss, tzinfo=STHLM)


def utc(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    """Aware UTC datetime."""
    return datetime(y, m, d, hh, mm, ss, tzinfo=UTC)


def days(start: date, end: date) -> list[date]:
    """Every date from start to end inclusive."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# -- which days are working days --------------------------------------------------------------

NON_WORKING_WEEKDAYS = [
    date(2026, 1, 1),  # nyårsdagen, Thursday
    date(2026, 1, 6),  # trettondedag jul, Tuesday
    date(2026, 4, 3),  # långfredagen
    date(2026, 4, 6),  # annandag påsk
    date(2026, 5, 1),  # första maj, Friday
    date(2026, 5, 14),  # Kristi himmelsfärdsdag, Thursday
    date(2026, 6, 19),  # midsommarafton (de facto), Friday
    date(2026, 12, 24),  # julafton (de facto), Thursday
    date(2026, 12, 25),  # juldagen, Friday
    date(2026, 12, 31),  # nyårsafton (de facto), Thursday
    date(2027, 1, 1),  # nyårsdagen, Friday
    date(2027, 1, 6),  # trettondedag jul, Wednesday
    date(2027, 3, 26),  # långfredagen
    date(2027, 3, 29),  # annandag påsk
    date(2027, 5, 6),  # Kristi himmelsfärdsdag
    date(2027, 6, 25),  # midsommarafton 2027 (19 June is a Saturday)
    date(2025, 6, 6),  # nationaldagen on a Friday
]

WORKING_DAYS = [
    date(2026, 6, 18),  # Thursday before midsommar
    date(2026, 6, 22),  # Monday after midsommar
    date(2026, 12, 23),  # lillejulafton is an ordinary day
    date(2026, 12, 28),
    date(2026, 12, 30),
    date(2027, 1, 5),  # trettondagsafton is an ordinary day
    date(2027, 1, 7),
    date(2027, 3, 25),  # skärtorsdagen is an ordinary day
    date(2027, 3, 30),
    date(2026, 5, 15),  # klämdag: working unless configured as extra
    date(2025, 6, 9),  # annandag pingst is no holiday since 2005
    date(2026, 6, 5),  # the day before a Saturday nationaldag
]


@pytest.mark.parametrize("d", NON_WORKING_WEEKDAYS, ids=str)
def test_holidays_on_weekdays_are_not_working_days(cal: WorkingCalendar, d: date) -> None:
    assert d.weekday() < 5, "fixture must be a weekday to prove the holiday matters"
    assert not cal.is_working_day(d)
    assert cal.holiday_name(d)


@pytest.mark.parametrize("d", WORKING_DAYS, ids=str)
def test_ordinary_weekdays_are_working_days(cal: WorkingCalendar, d: date) -> None:
    assert cal.is_working_day(d)
    assert cal.holiday_name(d) is None


def test_no_weekend_day_is_a_working_day(cal: WorkingCalendar) -> None:
    weekend = [d for d in days(date(2025, 1, 1), date(2027, 12, 31)) if d.weekday() >= 5]
    assert len(weekend) == 312  # 104 per year: 2025, 2026 and 2027 each start mid-week
    assert not any(cal.is_working_day(d) for d in weekend)


def test_working_day_counts_per_year_match_hand_count(cal: WorkingCalendar) -> None:
    # 2026: 365 days − 104 weekend days − 10 weekday holidays (see NON_WORKING_WEEKDAYS) = 251.
    # 2027: 365 − 104 − 8 (1/1, 6/1, 26/3, 29/3, 6/5, 25/6, 24/12, 31/12) = 253.
    for year, expected in ((2026, 251), (2027, 253)):
        working = [d for d in days(date(year, 1, 1), date(year, 12, 31)) if cal.is_working_day(d)]
        assert len(working) == expected, year


def test_swedish_holiday_names(cal: WorkingCalendar) -> None:
    assert cal.holiday_name(date(2026, 6, 19)) == "Midsommarafton"
    assert cal.holiday_name(date(2026, 6, 20)) == "Midsommardagen"
    assert cal.holiday_name(date(2026, 12, 24)) == "Julafton"
    assert cal.holiday_name(date(2026, 12, 31)) == "Nyårsafton"
    assert cal.holiday_name(date(2027, 3, 26)) == "Långfredagen"
    assert cal.holiday_name(date(2025, 6, 6)) == "Nationaldagen"
    # Plain weekends are not "holidays", even though some holidays releases list Sundays.
    assert cal.holiday_name(date(2026, 6, 21)) is None


def test_non_working_days_are_the_packages_public_and_de_facto_days(cal: WorkingCalendar) -> None:
    """One source: nothing hand-computed beside the package (before 1953 it knows no holidays, nor do we)."""
    for year in range(1948, 2101):
        theirs = holidays.country_holidays("SE", years=year, language="sv", categories=("public", "de_facto"))
        assert cal.holidays_in(year) == {d: str(n) for d, n in theirs.items()}, year
        de_facto = {d for d, n in cal.holidays_in(year).items() if n in DE_FACTO_NON_WORKING}
        assert de_facto == set(holidays.country_holidays("SE", years=year, categories=("de_facto",))), year
    assert len(cal.holidays_in(2026)) == 16 and not cal.holidays_in(1950)


def test_holidays_dependency_is_pinned_to_a_working_range() -> None:
    """holidays 0.108 rejects the SE keyword the calendar once passed; the range is bounded above."""
    import tomllib
    from importlib.metadata import version
    from pathlib import Path

    from packaging.requirements import Requirement

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    (req,) = [Requirement(r) for r in pyproject["project"]["dependencies"] if Requirement(r).name == "holidays"]
    assert str(req.specifier) in ("<1,>=0.109", ">=0.109,<1")
    assert not req.specifier.contains("0.108") and not req.specifier.contains("1.0")
    assert req.specifier.contains(version("holidays"))


def test_de_facto_days_can_be_turned_off() -> None:
    strict = WorkingCalendar(include_de_facto=False)
    assert strict.is_working_day(date(2026, 6, 19))
    assert strict.is_working_day(date(2026, 12, 24))
    assert not strict.is_working_day(date(2026, 12, 25))


def test_extra_non_working_dates() -> None:
    klamdag = date(2026, 5, 15)  # Friday after Kristi himmelsfärd
    cal = WorkingCalendar(extra_non_working=[klamdag])
    assert not cal.is_working_day(klamdag)
    assert cal.add_working_days(date(2026, 5, 13), 1) == date(2026, 5, 18)
    assert WorkingCalendar().add_working_days(date(2026, 5, 13), 1) == klamdag


def test_datetime_is_refused_where_a_date_is_meant(cal: WorkingCalendar) -> None:
    with pytest.raises(TypeError):
        cal.is_working_day(local(2026, 6, 18, 12))


# -- add_working_days / next / previous -------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # midsommar 2026: Fri 19 midsommarafton, Sat 20 midsommardagen
        (date(2026, 6, 18), 1, date(2026, 6, 22)),
        (date(2026, 6, 15), 5, date(2026, 6, 23)),
        # jul/nyår 2026/27: 24, 25 holidays, 26–27 weekend, 31, 1/1 holidays, 6/1 trettondedag
        (date(2026, 12, 23), 1, date(2026, 12, 28)),
        (date(2026, 12, 23), 3, date(2026, 12, 30)),
        (date(2026, 12, 23), 4, date(2027, 1, 4)),
        (date(2026, 12, 23), 5, date(2027, 1, 5)),
        (date(2026, 12, 23), 6, date(2027, 1, 7)),
        # påsk 2027: långfredag 26/3, annandag påsk 29/3
        (date(2027, 3, 25), 1, date(2027, 3, 30)),
        (date(2027, 3, 23), 5, date(2027, 4, 1)),
        # Kristi himmelsfärd 2026-05-14
        (date(2026, 5, 11), 5, date(2026, 5, 19)),
        # nationaldagen 2025-06-06 (Friday)
        (date(2025, 6, 2), 5, date(2025, 6, 10)),
        # counting from a non-working start: the first working day after it is day 1
        (date(2026, 3, 7), 1, date(2026, 3, 9)),
        (date(2026, 6, 19), 1, date(2026, 6, 22)),
        # backwards
        (date(2026, 6, 22), -1, date(2026, 6, 18)),
        (date(2027, 1, 7), -1, date(2027, 1, 5)),
        (date(2026, 12, 28), -1, date(2026, 12, 23)),
        (date(2027, 4, 1), -5, date(2027, 3, 23)),
        (date(2026, 3, 8), -1, date(2026, 3, 6)),
    ],
)
def test_add_working_days(cal: WorkingCalendar, start: date, n: int, expected: date) -> None:
    assert cal.add_working_days(start, n) == expected


def test_zero_working_days_rolls_forward_only_from_non_working_days(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2026, 6, 18), 0) == date(2026, 6, 18)
    assert cal.add_working_days(date(2026, 6, 19), 0) == date(2026, 6, 22)  # midsommarafton
    assert cal.add_working_days(date(2026, 6, 20), 0) == date(2026, 6, 22)  # Saturday
    assert cal.add_working_days(date(2026, 12, 24), 0) == date(2026, 12, 28)


def test_next_and_previous_working_day_are_strict(cal: WorkingCalendar) -> None:
    assert cal.next_working_day(date(2026, 12, 30)) == date(2027, 1, 4)
    assert cal.next_working_day(date(2026, 6, 22)) == date(2026, 6, 23)
    assert cal.previous_working_day(date(2027, 1, 7)) == date(2027, 1, 5)
    assert cal.previous_working_day(date(2027, 3, 30)) == date(2027, 3, 25)


def test_calendar_without_any_working_day_fails_instead_of_looping() -> None:
    closed = WorkingCalendar(extra_non_working=days(date(2026, 1, 1), date(2027, 12, 31)))
    with pytest.raises(ValueError, match="no working day"):
        closed.next_working_day(date(2026, 1, 1))


# -- working_days_between ---------------------------------------------------------------------


def test_working_days_between_known_spans(cal: WorkingCalendar) -> None:
    assert cal.working_days_between(date(2026, 6, 18), date(2026, 6, 22)) == 1
    assert cal.working_days_between(date(2026, 12, 23), date(2027, 1, 7)) == 6
    assert cal.working_days_between(date(2027, 1, 7), date(2026, 12, 23)) == -6
    assert cal.working_days_between(date(2026, 6, 18), date(2026, 6, 18)) == 0
    assert cal.working_days_between(date(2026, 6, 19), date(2026, 6, 21)) == 0  # all non-working
    # (a, b] forwards: Sunday → Monday counts Monday
    assert cal.working_days_between(date(2026, 3, 8), date(2026, 3, 9)) == 1
    # [b, a) backwards: Sunday → Friday counts Friday, mirroring add_working_days(Sun, -1)
    assert cal.working_days_between(date(2026, 3, 8), date(2026, 3, 6)) == -1


def test_working_days_between_inverts_add_working_days_for_every_start() -> None:
    # Exhaustive over 2026–2027 rather than sampled: every start day, every offset up to ±15.
    cal = WorkingCalendar()
    for a in days(date(2026, 1, 1), date(2027, 12, 31)):
        for n in range(-15, 16):
            if n == 0:
                continue
            b = cal.add_working_days(a, n)
            assert cal.is_working_day(b), (a, n)
            assert cal.working_days_between(a, b) == n, (a, n, b)


def test_add_working_days_reaches_every_working_target() -> None:
    cal = WorkingCalendar()
    for a in days(date(2026, 1, 1), date(2027, 12, 31))[::3]:
        for delta in range(-30, 31):
            b = a + timedelta(days=delta)
            if cal.is_working_day(b):
                assert cal.add_working_days(a, cal.working_days_between(a, b)) == b, (a, b)


def test_working_days_between_is_antisymmetric_on_working_days() -> None:
    cal = WorkingCalendar()
    working = [d for d in days(date(2026, 11, 1), date(2027, 2, 28)) if cal.is_working_day(d)]
    for a in working[::4]:
        for b in working:
            assert cal.working_days_between(a, b) == -cal.working_days_between(b, a)


# -- datetimes: due dates, DST, reminders, suspension -----------------------------------------


def test_due_at_is_end_of_local_working_day_in_utc(cal: WorkingCalendar) -> None:
    due = cal.due_at(local(2026, 6, 18, 14, 0), 1)
    assert due == local(2026, 6, 22, 23, 59, 59)
    assert due.tzinfo is UTC
    assert due == utc(2026, 6, 22, 21, 59, 59)  # CEST is UTC+2
    assert END_OF_DAY == time(23, 59, 59)


def test_due_at_triage_across_christmas_in_winter_time(cal: WorkingCalendar) -> None:
    # 5 working days from Fri 18 Dec: 21, 22, 23, (24, 25 holidays, weekend), 28, 29
    due = cal.due_at(local(2026, 12, 18, 16, 30), 5)
    assert due == utc(2026, 12, 29, 22, 59, 59)  # CET is UTC+1


def test_due_at_uses_the_local_day_not_the_utc_day(cal: WorkingCalendar) -> None:
    # 23:30 UTC Thursday is already Friday 00:30 in Stockholm.
    start = utc(2026, 3, 5, 23, 30)
    assert cal.due_at(start, 1) == local(2026, 3, 9, 23, 59, 59)
    assert cal.due_at(start, 1, at=time(12, 0)) == local(2026, 3, 9, 12, 0)


def test_naive_datetimes_are_rejected(cal: WorkingCalendar) -> None:
    naive = datetime(2026, 6, 18, 12, 0)
    for call in (
        lambda: cal.due_at(naive, 1),
        lambda: cal.add_days(naive, 1),
        lambda: cal.shift_by_working_days(naive, 1),
        lambda: cal.reminder_time(naive, offset_days=-7),
        lambda: cal.due_after_days(naive, 30),
    ):
        with pytest.raises(ValueError, match="timezone-aware"):
            call()


def test_add_days_keeps_wall_clock_over_spring_forward(cal: WorkingCalendar) -> None:
    start = local(2026, 3, 28, 10, 0)  # Saturday, CET
    result = cal.add_days(start, 1)
    assert result.tzinfo is UTC
    assert result.astimezone(STHLM).replace(tzinfo=None) == datetime(2026, 3, 29, 10, 0)
    assert result - start == timedelta(hours=23)


def test_add_days_keeps_wall_clock_over_fall_back(cal: WorkingCalendar) -> None:
    start = local(2026, 10, 24, 10, 0)  # CEST
    result = cal.add_days(start, 1)
    assert result.astimezone(STHLM).replace(tzinfo=None) == datetime(2026, 10, 25, 10, 0)
    assert result - start == timedelta(hours=25)
    assert cal.add_days(result, -1) == start


def test_add_days_into_the_skipped_hour_moves_one_hour_later(cal: WorkingCalendar) -> None:
    # 02:30 does not exist on 2026-03-29 in Stockholm; it resolves to 03:30 CEST.
    result = cal.add_days(local(2026, 3, 28, 2, 30), 1)
    assert result == utc(2026, 3, 29, 1, 30)
    assert result.astimezone(STHLM).hour == 3


def test_add_days_accepts_any_aware_zone(cal: WorkingCalendar) -> None:
    # 09:00 UTC on 28 March is 10:00 Stockholm; +1 day keeps 10:00 Stockholm.
    assert cal.add_days(utc(2026, 3, 28, 9, 0), 1) == utc(2026, 3, 29, 8, 0)


def test_due_after_days_rolls_to_next_working_day(cal: WorkingCalendar) -> None:
    # 30 days from Sun 2026-05-24 lands on Tue 23 June: a working day, unchanged.
    assert cal.due_after_days(local(2026, 5, 24, 9), 30) == local(2026, 6, 23, 23, 59, 59)
    # 30 days from Wed 2026-05-20 lands on Fri 19 June (midsommarafton) → Mon 22 June.
    assert cal.due_after_days(local(2026, 5, 20, 9), 30) == local(2026, 6, 22, 23, 59, 59)
    assert cal.due_after_days(local(2026, 5, 20, 9), 30, roll_forward=False) == local(
        2026, 6, 19, 23, 59, 59
    )


def test_reminder_minus_seven_days_across_dst_keeps_08_local(cal: WorkingCalendar) -> None:
    due = local(2026, 4, 2, 23, 59, 59)  # Thursday, CEST
    reminder = cal.reminder_time(due, offset_days=-7)
    assert reminder == local(2026, 3, 26, 8, 0)
    assert reminder == utc(2026, 3, 26, 7, 0)  # still CET a week earlier
    assert reminder.tzinfo is UTC
    assert REMINDER_TIME == time(8, 0)


def test_reminder_minus_thirty_days_across_fall_back(cal: WorkingCalendar) -> None:
    due = local(2026, 11, 10, 23, 59, 59)  # CET
    assert cal.reminder_time(due, offset_days=-30) == utc(2026, 10, 11, 6, 0)  # 08:00 CEST


def test_reminder_in_working_days_skips_easter(cal: WorkingCalendar) -> None:
    due = local(2026, 4, 7, 23, 59, 59)  # Tuesday after annandag påsk
    assert cal.reminder_time(due, offset_working_days=-1) == local(2026, 4, 2, 8, 0)
    assert cal.reminder_time(due, offset_working_days=-2) == local(2026, 4, 1, 8, 0)


def test_due_day_reminder_is_08_local_on_the_due_date(cal: WorkingCalendar) -> None:
    due = local(2026, 12, 29, 23, 59, 59)
    assert cal.reminder_time(due) == local(2026, 12, 29, 8, 0)
    assert cal.reminder_time(due, offset_working_days=0) == local(2026, 12, 29, 8, 0)
    assert cal.reminder_time(due, offset_days=0) == local(2026, 12, 29, 8, 0)


def test_reminder_never_after_an_early_due_time(cal: WorkingCalendar) -> None:
    due = local(2026, 6, 22, 7, 0)
    assert cal.reminder_time(due) == due
    # Positive offsets (escalation after due) are not clamped.
    assert cal.reminder_time(due, offset_working_days=1) == local(2026, 6, 23, 8, 0)


def test_reminder_rejects_two_offsets(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError):
        cal.reminder_time(local(2026, 6, 22, 12), offset_working_days=-1, offset_days=-1)


def test_shift_by_working_days_across_easter_and_dst_keeps_local_time(
    cal: WorkingCalendar,
) -> None:
    due = local(2026, 3, 27, 16, 0)  # Friday, CET (15:00 UTC)
    # +5 wd: 30, 31 Mar, 1, 2 Apr, (3 långfredag, weekend, 6 annandag påsk), 7 Apr
    shifted = cal.shift_by_working_days(due, 5)
    assert shifted == local(2026, 4, 7, 16, 0)
    assert shifted == utc(2026, 4, 7, 14, 0)  # CEST
    assert cal.shift_by_working_days(shifted, -5) == due


def test_shift_by_working_days_over_midsommar_keeps_end_of_day(cal: WorkingCalendar) -> None:
    due = cal.due_at(local(2026, 6, 16, 9), 2)  # Thu 18 June 23:59:59
    assert cal.shift_by_working_days(due, 1) == local(2026, 6, 22, 23, 59, 59)


def test_shift_by_zero_is_identity(cal: WorkingCalendar) -> None:
    due = local(2026, 6, 20, 12, 0)  # a Saturday: still not moved
    assert cal.shift_by_working_days(due, 0) == due


def test_other_timezone_calendar() -> None:
    helsinki = WorkingCalendar("Europe/Helsinki")
    # Same Swedish holidays, but the local day and end-of-day follow the configured zone.
    assert helsinki.due_at(utc(2026, 6, 18, 12), 1) == utc(2026, 6, 22, 20, 59, 59)


def test_shared_calendar_instances() -> None:
    assert default_calendar() is calendar_for("Europe/Stockholm")
    assert default_calendar().tz == DEFAULT_TZ
