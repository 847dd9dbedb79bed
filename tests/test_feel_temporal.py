"""Dates, times, durations: construction, arithmetic (Java month clamping), parts, clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from engine.clock import SimulatedClock
from engine.feel import YearsMonthsDuration, evaluate, parse_expression, parse_unary_tests

D = Decimal
YM = YearsMonthsDuration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('date("2026-01-01")', date(2026, 1, 1)), ('date("2026-02-30")', None), ('date("01-01-2026")', None),
        ("date(2026, 1, 31)", date(2026, 1, 31)), ("date(2026, 2, 31)", None), ("date(2026.5, 1, 1)", None),
        ('date(date and time("2026-01-01T23:00:00Z"))', date(2026, 1, 1)), ("date(1)", None),
        ('time("09:00:00")', time(9, 0)), ('time("09:00")', time(9, 0)), ('time("25:00:00")', None),
        ('time("09:00:00Z")', time(9, 0, tzinfo=UTC)),
        ('time("09:00:00+02:00")', time(9, 0, tzinfo=timezone(timedelta(hours=2)))),
        ('time("09:30:15.5")', time(9, 30, 15, 500000)), ("time(9, 30, 0)", time(9, 30)),
        ('time(9, 30, 0, duration("PT1H"))', time(9, 30, tzinfo=timezone(timedelta(hours=1)))),
        ('date and time("2026-01-01T09:00:00Z")', datetime(2026, 1, 1, 9, tzinfo=UTC)),
        ('date and time("2026-01-01T09:00:00")', datetime(2026, 1, 1, 9)),
        ('date and time("2026-01-01T09:00:00-05:00")', datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=-5)))),
        ('date and time("2026-06-01T09:00:00@Europe/Paris")', datetime(2026, 6, 1, 9, tzinfo=ZoneInfo("Europe/Paris"))),
        ('date and time("2026-01-01")', datetime(2026, 1, 1)), ('date and time("garbage")', None),
        ('date and time(date("2026-01-01"), time("10:00:00Z"))', datetime(2026, 1, 1, 10, tzinfo=UTC)),
        ('duration("P6W")', timedelta(weeks=6)), ('duration("P3M")', YM(3)), ('duration("P1Y2M")', YM(14)),
        ('duration("P2DT3H")', timedelta(days=2, hours=3)), ('duration("PT0.5S")', timedelta(seconds=0.5)),
        ('duration("-P1D")', timedelta(days=-1)), ('duration("-P1Y")', YM(-12)), ('duration("P1Y2D")', None),
        ('duration("3 months")', None), ("duration(3)", None),
        ('@"2026-01-01"', date(2026, 1, 1)), ('@"09:00:00"', time(9)), ('@"P3M"', YM(3)),
        ('@"2026-01-01T09:00:00Z"', datetime(2026, 1, 1, 9, tzinfo=UTC)), ('@"PT12H"', timedelta(hours=12)),
    ],
)
def test_construction(text: str, expected) -> None:
    assert evaluate(text, {}) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Java/Camunda month arithmetic: clamp to the month's last day
        ('date("2025-01-31") + duration("P1M")', date(2025, 2, 28)),
        ('date("2024-01-31") + duration("P1M")', date(2024, 2, 29)),
        ('date("2025-01-31") + duration("P3M")', date(2025, 4, 30)),
        ('date("2024-02-29") + duration("P1Y")', date(2025, 2, 28)),
        ('date("2025-03-31") - duration("P1M")', date(2025, 2, 28)),
        ('duration("P1M") + date("2025-01-31")', date(2025, 2, 28)),
        ('date("2025-12-15") + duration("P1M")', date(2026, 1, 15)),
        ('date("2026-01-01") + duration("P6W")', date(2026, 2, 12)),
        ('date("2026-01-01") - duration("P1D")', date(2025, 12, 31)),
        ('date("2026-01-01") + duration("PT12H")', datetime(2026, 1, 1, 12)),
        ('date and time("2025-01-31T09:00:00Z") + duration("P1M")', datetime(2025, 2, 28, 9, tzinfo=UTC)),
        ('date and time("2026-01-01T09:00:00Z") + duration("PT36H")', datetime(2026, 1, 2, 21, tzinfo=UTC)),
        ('date and time("2026-01-01T09:00:00Z") - duration("P1D")', datetime(2025, 12, 31, 9, tzinfo=UTC)),
        # days-and-time durations are exact elapsed time, across a DST change too
        ('date and time("2026-03-28T12:00:00@Europe/Paris") + duration("P1D")',
         datetime(2026, 3, 29, 13, tzinfo=ZoneInfo("Europe/Paris"))),
        ('time("23:00:00") + duration("PT2H")', time(1, 0)), ('time("01:00:00") - duration("PT2H")', time(23, 0)),
        # differences
        ('date("2026-03-01") - date("2026-01-01")', timedelta(days=59)),
        ('date("2026-01-01") - date("2026-03-01")', timedelta(days=-59)),
        ('date and time("2026-01-02T10:00:00Z") - date and time("2026-01-01T09:00:00Z")', timedelta(days=1, hours=1)),
        ('date and time("2026-01-02T00:00:00Z") - date("2026-01-01")', timedelta(days=1)),
        ('date and time("2026-01-02T00:00:00") - date and time("2026-01-01T00:00:00Z")', None),
        ('time("10:00:00") - time("09:30:00")', timedelta(minutes=30)),
        ('years and months duration(date("2020-01-31"), date("2021-03-01"))', YM(13)),
        ('years and months duration(date("2020-01-31"), date("2021-02-28"))', YM(12)),
        ('years and months duration(date("2021-03-01"), date("2020-01-31"))', YM(-13)),
        ('years and months duration(date("2020-01-01"), date("2020-01-31"))', YM(0)),
        ('years and months duration(date and time("2020-01-01T10:00:00Z"), date and time("2020-02-01T09:00:00Z"))', YM(0)),
        ('years and months duration(date("2020-01-01"), "2021-01-01")', None),
        # duration arithmetic
        ('duration("P1Y") + duration("P2M")', YM(14)), ('duration("P1D") + duration("PT1H")', timedelta(hours=25)),
        ('duration("P1Y") - duration("P2M")', YM(10)), ('duration("P1D") * 3', timedelta(days=3)),
        ('2 * duration("P3M")', YM(6)), ('duration("P1D") / 2', timedelta(hours=12)),
        ('duration("P1D") / duration("PT1H")', D(24)), ('duration("P1Y") / duration("P1M")', D(12)),
        ('duration("P1D") / 0', None), ('-duration("P1D")', timedelta(days=-1)), ('-duration("P1M")', YM(-1)),
        ('duration("P1M") + duration("P1D")', None), ('date("2026-01-01") + 1', None),
        ('date("2026-01-01") + date("2026-01-01")', None), ('"2026-01-01" + duration("P1D")', None),
    ],
)
def test_arithmetic(text: str, expected) -> None:
    result = evaluate(text, {})
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('duration("P1D") > duration("PT23H")', True), ('duration("P1Y") = duration("P12M")', True),
        ('duration("P1M") < duration("P1D")', None), ('date("2026-01-01") < date("2026-01-02")', True),
        ('date("2026-01-01") = date("2026-01-01")', True),
        ('date("2026-01-01") < date and time("2026-01-02T00:00:00")', None),
        ('date and time("2026-01-01T10:00:00+01:00") = date and time("2026-01-01T09:00:00Z")', True),
        ('date and time("2026-01-01T10:00:00") < date and time("2026-01-01T09:00:00Z")', None),
        ('time("09:00:00") < time("10:00:00")', True),
        ("fractureDate + duration(\"P6W\") <= today()", True),
    ],
)
def test_temporal_comparisons(text: str, expected) -> None:
    clock = SimulatedClock(datetime(2026, 3, 1, 9, tzinfo=UTC))
    assert evaluate(text, {"fractureDate": date(2026, 1, 1)}, clock=clock) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('date("2026-03-04").year', D(2026)), ('date("2026-03-04").month', D(3)), ('date("2026-03-04").day', D(4)),
        ('date("2026-03-04").weekday', D(3)), ('date("2026-03-04").hour', None),
        ('date and time("2026-03-04T09:15:30Z").hour', D(9)), ('date and time("2026-03-04T09:15:30Z").minute', D(15)),
        ('date and time("2026-03-04T09:15:30Z").second', D(30)),
        ('date and time("2026-03-04T09:15:30+02:00").time offset', timedelta(hours=2)),
        ('date and time("2026-03-04T09:15:30@Europe/Paris").timezone', "Europe/Paris"),
        ('date and time("2026-03-04T09:15:30").time offset', None),
        ('time("09:15:30").minute', D(15)),
        ('duration("P1Y2M").years', D(1)), ('duration("P1Y2M").months', D(2)), ('duration("P14M").months', D(2)),
        ('duration("-P14M").years', D(-1)), ('duration("-P14M").months', D(-2)),
        ('duration("P2DT3H4M5S").days', D(2)), ('duration("P2DT3H4M5S").hours', D(3)),
        ('duration("P2DT3H4M5S").minutes', D(4)), ('duration("P2DT3H4M5S").seconds', D(5)),
        ('duration("-PT25H").days', D(-1)), ('duration("-PT25H").hours', D(-1)),
        ('day of week(date("2026-03-04"))', "Wednesday"), ('month of year(date("2026-03-04"))', "March"),
        ('day of year(date("2026-02-01"))', D(32)), ('week of year(date("2026-01-01"))', D(1)),
        ("d.year", D(2025)), ("d.month + 1", D(13)),
    ],
)
def test_parts(text: str, expected) -> None:
    assert evaluate(text, {"d": date(2025, 12, 24)}) == expected


def test_today_and_now_use_the_given_clock() -> None:
    clock = SimulatedClock(datetime(2026, 1, 1, 23, 30, tzinfo=UTC), tz=ZoneInfo("Pacific/Auckland"))
    today = parse_expression("today()")
    assert today.evaluate({}, clock=clock) == date(2026, 1, 2)  # already the 2nd in Auckland
    clock.advance("P1M")
    assert today.evaluate({}, clock=clock) == date(2026, 2, 2)
    now = parse_expression("now()").evaluate({}, clock=clock)
    assert now == datetime(2026, 2, 1, 23, 30, tzinfo=UTC)
    assert now.tzinfo == ZoneInfo("Pacific/Auckland")
    due = parse_expression('today() + duration("P6W")').evaluate({}, clock=clock)
    assert due == date(2026, 3, 16)


def test_today_in_unary_tests_uses_the_clock() -> None:
    clock = SimulatedClock(datetime(2026, 6, 1, 9, tzinfo=UTC))
    overdue = parse_unary_tests("< today()")
    assert overdue.matches(date(2026, 5, 31), clock=clock) is True
    assert overdue.matches(date(2026, 6, 1), clock=clock) is False


def test_without_a_clock_the_system_clock_is_used() -> None:
    before = datetime.now(UTC)
    value = evaluate("now()", {})
    assert before - timedelta(seconds=5) <= value <= datetime.now(UTC) + timedelta(seconds=5)


def test_string_forms_of_temporal_values() -> None:
    assert evaluate('string(duration("P1Y2M"))', {}) == "P1Y2M"
    assert evaluate('string(duration("P14M"))', {}) == "P1Y2M"
    assert evaluate('string(duration("P6W"))', {}) == "P42D"
    assert evaluate('string(duration("PT36H"))', {}) == "P1DT12H"
    assert evaluate('string(duration("-PT0.5S"))', {}) == "-PT0.5S"
    assert evaluate('string(date("2026-01-01") - date("2026-01-01"))', {}) == "PT0S"
    assert evaluate('string(date("2026-01-01"))', {}) == "2026-01-01"
    assert evaluate('string(date and time("2026-01-01T09:00:00Z"))', {}) == "2026-01-01T09:00:00Z"
    assert evaluate('string(date and time("2026-01-01T09:00:00@Europe/Paris"))', {}) == "2026-01-01T09:00:00@Europe/Paris"
    assert evaluate('string(time("09:00:00+01:00"))', {}) == "09:00:00+01:00"
    assert str(YM(0)) == "P0M" and str(YM(-13)) == "-P1Y1M" and str(YM(24)) == "P2Y"
