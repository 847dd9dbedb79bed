"""ISO-8601 arithmetic the way Camunda 7 (java.util.Calendar) does it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.isotime import add_months, looks_like_iso_timer, parse_cycle, parse_datetime, parse_duration


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(("start", "text", "expected"), [
    (utc(2025, 1, 31, 9), "P1M", utc(2025, 2, 28, 9)),   # clamped to the month's last day
    (utc(2024, 1, 31, 9), "P1M", utc(2024, 2, 29, 9)),   # leap year
    (utc(2025, 1, 31, 9), "P3M", utc(2025, 4, 30, 9)),   # SpiffWorkflow alone gives May 1
    (utc(2025, 12, 31), "P2M", utc(2026, 2, 28)),
    (utc(2024, 2, 29), "P1Y", utc(2025, 2, 28)),
    (utc(2025, 1, 1, 9), "P6W", utc(2025, 2, 12, 9)),
    (utc(2025, 1, 31, 23, 30), "PT1H", utc(2025, 2, 1, 0, 30)),
    (utc(2025, 3, 31), "-P1M", utc(2025, 2, 28)),
    (utc(2025, 1, 1), "P1Y2M10DT2H30M", utc(2026, 3, 11, 2, 30)),
])
def test_durations_add_calendar_fields_then_time(start: datetime, text: str, expected: datetime) -> None:
    assert parse_duration(text).add_to(start) == expected


def test_add_months_clamps_dates() -> None:
    from datetime import date

    assert add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)
    assert add_months(date(2025, 10, 31), 4) == date(2026, 2, 28)


@pytest.mark.parametrize("text", ["P", "PT", "3M", "P1.5M", "P1M1X", "PT-1H", ""])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_cycle_steps_from_the_previous_firing_like_camunda() -> None:
    cycle = parse_cycle("R/P1M")
    reached = utc(2025, 1, 31, 9)
    assert [cycle.occurrence(i, reached) for i in range(4)] == [
        utc(2025, 2, 28, 9), utc(2025, 3, 28, 9), utc(2025, 4, 28, 9), utc(2025, 5, 28, 9)]
    assert cycle.repetitions is None


def test_cycle_with_a_start_fires_first_at_the_start() -> None:
    cycle = parse_cycle("R3/2027-01-01T09:00:00Z/P2W")
    assert cycle.repetitions == 3
    assert [cycle.occurrence(i, utc(2026, 1, 1)) for i in range(3)] == [
        utc(2027, 1, 1, 9), utc(2027, 1, 15, 9), utc(2027, 1, 29, 9)]


def test_cycle_with_an_end_counts_back_one_interval() -> None:
    cycle = parse_cycle("R2/P1D/2027-06-10T00:00:00Z")
    assert cycle.start == utc(2027, 6, 9) and cycle.end == utc(2027, 6, 10)


@pytest.mark.parametrize("text", ["R3/P0D", "R/-P1D", "Rx/P1D", "P1D"])
def test_bad_cycles_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_cycle(text)


def test_offsetless_date_time_is_read_in_the_site_zone() -> None:
    from zoneinfo import ZoneInfo

    assert parse_datetime("2027-01-01T09:00", ZoneInfo("Europe/Berlin")) == utc(2027, 1, 1, 8)
    assert parse_datetime("2027-07-01T09:00Z") == utc(2027, 7, 1, 9)


@pytest.mark.parametrize(("text", "iso"), [
    ("P3M", True), ("R/P6M", True), ("2027-01-01T09:00Z", True), ("2027-01-01", True),
    ('fractureDate + duration("P6W")', False), ("P3X", False), ("${x}", False),
])
def test_iso_literals_are_told_from_feel(text: str, iso: bool) -> None:
    assert looks_like_iso_timer(text) is iso


def test_site_timezone_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from zoneinfo import ZoneInfo

    from engine.clock import SimulatedClock, site_timezone

    monkeypatch.delenv("PATHWAY_TIMEZONE", raising=False)
    assert site_timezone() == UTC
    monkeypatch.setenv("PATHWAY_TIMEZONE", "Europe/London")
    london = site_timezone()
    assert london == ZoneInfo("Europe/London")
    # 23:30 UTC on 30 June is already 1 July in London (BST): today() follows the site.
    clock = SimulatedClock(utc(2026, 6, 30, 23, 30), tz=london)
    assert str(clock.today()) == "2026-07-01"
    # P1D across the spring DST change keeps the wall-clock time: 09:00 stays 09:00 local.
    assert parse_duration("P1D").add_to(datetime(2026, 3, 28, 9, tzinfo=london), london).hour == 9
