"""Local days and months, their ends across DST, reset texts and time zone parsing.

Expected moments are written as `datetime` literals with a fixed UTC offset worked out by
hand for that date (e.g. New York is -05:00 in winter, -04:00 in summer), so they do not
go through zoneinfo like the code under test does.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from gptbot.costs.periods import Periods, parse_timezone

HOUR = 3600


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, offset: float = 0) -> float:
    """Unix time of a wall-clock reading at a fixed UTC offset (hours)."""
    return datetime(y, mo, d, h, mi, s, tzinfo=timezone(timedelta(hours=offset))).timestamp()


def periods(name: str) -> Periods:
    return Periods(ZoneInfo(name))


UTC_P = periods("UTC")
NEW_YORK = periods("America/New_York")
BERLIN = periods("Europe/Berlin")
KOLKATA = periods("Asia/Kolkata")
AUCKLAND = periods("Pacific/Auckland")


def test_the_fixed_offsets_below_are_real_unix_times() -> None:
    # 2026-12-01T00:00Z = 20,788 days after the epoch (56 years incl. 14 leap days + 334).
    assert at(2026, 12, 1) == 1_796_083_200
    assert at(2026, 12, 1, 5, 30, offset=5.5) == 1_796_083_200


# -- day and month ---------------------------------------------------------------------------


def test_utc_day_month_and_ends() -> None:
    now = at(2026, 12, 1, 15, 30)
    assert UTC_P.day(now) == "2026-12-01"
    assert UTC_P.month(now) == "2026-12"
    assert UTC_P.day_end(now) == at(2026, 12, 2)
    assert UTC_P.month_end(now) == at(2027, 1, 1)


def test_year_rollover_in_utc() -> None:
    now = at(2026, 12, 31, 23, 59, 59)
    assert UTC_P.day_end(now) == at(2027, 1, 1)
    assert UTC_P.month_end(now) == at(2027, 1, 1)
    assert UTC_P.day(at(2027, 1, 1)) == "2027-01-01"
    assert UTC_P.month(at(2027, 1, 1)) == "2027-01"


def test_a_day_begins_exactly_at_local_midnight() -> None:
    midnight = at(2026, 12, 2)
    assert UTC_P.day(midnight - 1) == "2026-12-01"
    assert UTC_P.day(midnight) == "2026-12-02"
    assert UTC_P.day_end(midnight) == at(2026, 12, 3)  # strictly after now, never now


def test_kolkata_half_hour_offset_crosses_the_year_before_utc() -> None:
    # 18:30 UTC on Dec 31 is midnight in India (+05:30).
    assert KOLKATA.day(at(2026, 12, 31, 18, 29, 59)) == "2026-12-31"
    new_year = at(2026, 12, 31, 18, 30)
    assert KOLKATA.day(new_year) == "2027-01-01"
    assert KOLKATA.month(new_year) == "2027-01"
    assert KOLKATA.month_end(at(2026, 12, 31, 12)) == at(2027, 1, 1, offset=5.5)
    assert KOLKATA.day_end(new_year) == at(2027, 1, 2, offset=5.5)
    assert KOLKATA.month_end(new_year) == at(2027, 2, 1, offset=5.5)


def test_auckland_is_already_tomorrow() -> None:
    # January is summer in New Zealand: NZDT, +13:00.
    now = at(2026, 12, 31, 11)  # 00:00 on Jan 1 in Auckland
    assert AUCKLAND.day(now) == "2027-01-01"
    assert AUCKLAND.month(now) == "2027-01"
    assert AUCKLAND.day_end(now) == at(2027, 1, 2, offset=13)
    assert AUCKLAND.month_end(now) == at(2027, 2, 1, offset=13)
    assert AUCKLAND.day(now - 1) == "2026-12-31"


def test_berlin_month_end_after_the_spring_change() -> None:
    # Europe changes on the last Sunday of March (2026-03-29): April starts at +02:00.
    assert BERLIN.month_end(at(2026, 3, 15, 12, offset=1)) == at(2026, 4, 1, offset=2)
    assert BERLIN.month_end(at(2026, 10, 31, 12, offset=1)) == at(2026, 11, 1, offset=1)


# -- DST days ---------------------------------------------------------------------------------


def test_new_york_spring_forward_day_is_23_hours() -> None:
    # 2026-03-08, second Sunday of March: 02:00 EST (-05:00) becomes 03:00 EDT (-04:00).
    noon = at(2026, 3, 8, 12, offset=-4)
    assert NEW_YORK.day(noon) == "2026-03-08"
    assert NEW_YORK.day_end(noon) == at(2026, 3, 9, offset=-4)
    day_start = NEW_YORK.day_end(at(2026, 3, 7, 12, offset=-5))
    assert day_start == at(2026, 3, 8, offset=-5)
    assert NEW_YORK.day_end(noon) - day_start == 23 * HOUR


def test_new_york_fall_back_day_is_25_hours() -> None:
    # 2026-11-01, first Sunday of November: 02:00 EDT (-04:00) becomes 01:00 EST (-05:00).
    day_start = NEW_YORK.day_end(at(2026, 10, 31, 12, offset=-4))
    assert day_start == at(2026, 11, 1, offset=-4)
    end = at(2026, 11, 2, offset=-5)
    assert end - day_start == 25 * HOUR
    # 01:30 happens twice that night; both readings belong to Nov 1 and end at the same time.
    for moment in (at(2026, 11, 1, 1, 30, offset=-4), at(2026, 11, 1, 1, 30, offset=-5)):
        assert NEW_YORK.day(moment) == "2026-11-01"
        assert NEW_YORK.day_end(moment) == end


def test_auckland_dst_days() -> None:
    # Ends 2026-04-05 (03:00 NZDT -> 02:00 NZST): 25 h. Starts 2026-09-27 (02:00 -> 03:00): 23 h.
    april_5 = AUCKLAND.day_end(at(2026, 4, 4, 12, offset=13))
    assert april_5 == at(2026, 4, 5, offset=13)
    assert AUCKLAND.day_end(april_5) - april_5 == 25 * HOUR
    september_27 = AUCKLAND.day_end(at(2026, 9, 26, 12, offset=12))
    assert september_27 == at(2026, 9, 27, offset=12)
    assert AUCKLAND.day_end(september_27) == at(2026, 9, 28, offset=13)
    assert AUCKLAND.day_end(september_27) - september_27 == 23 * HOUR
    # September ends in NZST (+12:00) but October begins in NZDT (+13:00).
    assert AUCKLAND.month_end(at(2026, 9, 10, offset=12)) == at(2026, 10, 1, offset=13)


@pytest.mark.parametrize(
    "zone",
    # Chile and Cuba move their clocks at midnight, so some local midnights never happen.
    ["America/New_York", "Pacific/Auckland", "America/Santiago", "America/Havana"],
)
def test_every_hour_of_a_year_ends_on_the_next_local_date(zone: str) -> None:
    p = periods(zone)
    start = at(2026, 1, 1, offset=0) + 17 * 60  # off the hour, to land inside gaps too
    for now in range(int(start), int(at(2027, 1, 1)), HOUR):
        end = p.day_end(now)
        assert now < end <= now + 25 * HOUR
        assert p.day(end - 1) == p.day(now) != p.day(end)
        month_end = p.month_end(now)
        assert p.month(month_end - 1) == p.month(now) != p.month(month_end)


def test_a_skipped_calendar_day() -> None:
    # Samoa jumped from 2011-12-29 23:59:59 (-10:00) to 2011-12-31 00:00 (+14:00).
    apia = periods("Pacific/Apia")
    now = at(2011, 12, 29, 12, offset=-10)
    assert apia.day_end(now) == at(2011, 12, 31, offset=14)
    assert apia.day(apia.day_end(now)) == "2011-12-31"


# -- reset_text -------------------------------------------------------------------------------


def test_reset_text_today_in_utc() -> None:
    now = at(2026, 12, 1, 15)
    assert UTC_P.reset_text(UTC_P.day_end(now), now) == "00:00 UTC"


def test_reset_text_later_day_in_utc() -> None:
    now = at(2026, 12, 15, 9)
    assert UTC_P.reset_text(UTC_P.month_end(now), now) == "00:00 on Jan 1 UTC"


def test_reset_text_names_other_zones() -> None:
    now = at(2026, 12, 15, 9, offset=1)
    assert BERLIN.reset_text(BERLIN.day_end(now), now) == "00:00 (Europe/Berlin)"
    assert BERLIN.reset_text(BERLIN.month_end(now), now) == "00:00 on Jan 1 (Europe/Berlin)"


def test_a_month_reset_tonight_reads_like_a_day_reset() -> None:
    now = at(2026, 9, 30, 20, offset=5.5)
    assert KOLKATA.reset_text(KOLKATA.month_end(now), now) == "00:00 (Asia/Kolkata)"


def test_reset_text_shows_the_local_time_of_odd_moments() -> None:
    now = at(2026, 6, 1, 8)
    assert UTC_P.reset_text(at(2026, 6, 1, 17, 5), now) == "17:05 UTC"
    assert UTC_P.reset_text(at(2026, 6, 2, 0, 0, 1), now) == "00:00 on Jun 2 UTC"
    later = at(2026, 6, 20, 9, 30, offset=12)  # June is winter there: NZST
    assert AUCKLAND.reset_text(later, now) == "09:30 on Jun 20 (Pacific/Auckland)"


def test_reset_text_defaults_to_the_clock() -> None:
    # Far in the future, so the long form whatever day the test runs on.
    assert UTC_P.reset_text(at(2999, 3, 4)) == "00:00 on Mar 4 UTC"


# -- parse_timezone and from_env --------------------------------------------------------------


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "Asia/Kolkata", " Pacific/Auckland "])
def test_parse_timezone_accepts_iana_names(name: str) -> None:
    assert parse_timezone(name).key == name.strip()


def test_parse_timezone_suggests_a_near_name() -> None:
    with pytest.raises(ValueError, match="GPTBOT_TIMEZONE") as raised:
        parse_timezone("Europe/Berln")
    assert "'Europe/Berln'" in str(raised.value)
    assert "did you mean 'Europe/Berlin'" in str(raised.value)


def test_parse_timezone_fixes_case_in_the_suggestion() -> None:
    try:
        ZoneInfo("europe/berlin")
    except Exception:
        pass
    else:
        pytest.skip("this file system finds zone files whatever their case")
    with pytest.raises(ValueError, match="did you mean 'Europe/Berlin'"):
        parse_timezone("europe/berlin")


def test_parse_timezone_completes_a_bare_city() -> None:
    with pytest.raises(ValueError, match="did you mean 'Asia/Kolkata'"):
        parse_timezone("Kolkata")


@pytest.mark.parametrize(
    "name", ["", "   ", "Mars/Olympus_Mons", "../../etc/passwd", "/etc", "+05:30"]
)
def test_parse_timezone_rejects_with_value_error(name: str) -> None:
    with pytest.raises(ValueError, match="IANA"):
        parse_timezone(name)


def test_from_env_defaults_to_utc() -> None:
    assert Periods.from_env({}).tz.key == "UTC"
    assert Periods.from_env({"GPTBOT_TIMEZONE": "  "}).tz.key == "UTC"
    assert Periods.from_env({"GPTBOT_TIMEZONE": "Asia/Kolkata"}) == KOLKATA


def test_from_env_rejects_unknown_zones() -> None:
    with pytest.raises(ValueError, match="Nowhere/Special"):
        Periods.from_env({"GPTBOT_TIMEZONE": "Nowhere/Special"})
