"""Issue 12: harvest (clause 3.3 d) judged against the declared use case and the consenting
logins' reach, not against a fixed breadth alone: the same records read again and again by an
application whose use case needs each about once is a harvest even when the logins reach few
people; a declared synchronisation re-reading its customer's staff is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from termgate.monitoring import harvest
from termgate.monitoring.policy import load_detector_policies
from termgate.monitoring.window import Party, Window

POLICY = load_detector_policies(Path(__file__).parents[2] / "terms")["harvest"]
END = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
DAY = Window(END - timedelta(days=1), END)
BIRTHDAYS = "Shows a team its colleagues' birthdays on an office screen."
SYNC = "Keeps the customer's HR system in step with its employees each night."
HELPDESK = "Shows an employee's own record when the customer's HR staff open it."


def row(
    use_case: str, distinct: int, days_read: dict[int, int], end_users: int = 2
) -> harvest.ReadVolume:
    return harvest.ReadVolume(
        party=Party("d" * 32, "a" * 32),
        employee_reads=distinct,
        distinct_employees=distinct,
        distinct_companies=3,
        end_users=end_users,
        expected_end_users=10,
        new_employees=0,
        known_employees=distinct,
        age_days=10.0,
        use_case=use_case,
        days_read=days_read,
        days_looked=4,
    )


def test_clause_3_3_d_small_reach_read_whole_every_day_by_a_display_app_is_harvest() -> None:
    # Two logins reaching 108 people: below the breadth threshold, but every record re-read.
    harvester = row(BIRTHDAYS, 108, {3: 100, 2: 8})
    [found] = harvest.detect([harvester], POLICY, DAY)
    assert (found.clause, found.severity, found.subject) == ("3.3 d", "major", "harvest:employees")
    assert "108 of the 108 employees" in found.summary
    assert found.evidence["employees_by_days_read"] == {"2": 8, "3": 100}


def test_clause_3_3_d_a_declared_sync_may_reread_its_customers_staff() -> None:
    # The same reading by an HR synchronisation of one large customer (1,738 people, one login).
    sync = row(SYNC, 1738, {4: 1738}, end_users=1)
    assert harvest.declares_sync(SYNC)
    assert not harvest.declares_sync(BIRTHDAYS)
    assert harvest.detect([sync], POLICY, DAY) == []
    # A "sync" that reads more people per login than any customer employs is still breadth.
    overreach = row(SYNC, 9000, {1: 9000}, end_users=1)
    assert "per end user" in harvest.detect([overreach], POLICY, DAY)[0].summary


def test_clause_3_3_d_a_helpdesks_regulars_are_not_a_harvest() -> None:
    # Staff open a few people's records daily, most records once: few and a small share repeat.
    regulars = row(HELPDESK, 40, {1: 45, 2: 8, 4: 7}, end_users=1)
    assert harvest.detect([regulars], POLICY, DAY) == []
    # Many repeats but as a small share of what it reads: a busy helpdesk of a large customer.
    busy = row(HELPDESK, 50, {1: 260, 2: 40}, end_users=4)
    assert harvest.detect([busy], POLICY, DAY) == []


def test_clause_3_3_d_sensitivity_scales_the_repeat_threshold() -> None:
    few = row(BIRTHDAYS, 40, {2: 20})
    assert harvest.detect([few], POLICY, DAY) == []
    sharper = POLICY.__class__(**{**POLICY.__dict__, "sensitivity": 2.0})
    assert harvest.detect([few], sharper, DAY) != []
