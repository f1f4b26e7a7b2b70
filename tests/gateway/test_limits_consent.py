"""Clause 4.4 (users served) at consent time, and the calendars of the counters."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.users_served import over_cap
from termgate.db.models import Application, new_id
from termgate.db.oauth import EndUser
from termgate.gateway.traffic.memory_limiter import MemoryLimiter
from termgate.gateway.traffic.periods import ZoneCalendar, zone
from termgate.identity.consents import UsersServedCapError, grant_consent
from tests.gateway.limits_support import limited_apps


async def _end_user(session: AsyncSession) -> EndUser:
    suffix = new_id()[:8]
    user = EndUser(
        upstream_id=str(20_000_000 + int.from_bytes(os.urandom(3), "big")),
        username=f"cap-{suffix}",
        email=f"cap-{suffix}@example.nl",
        display_name="Cap",
        password_hash="-",
        debtor_ids="1001,1002,1003",
    )
    session.add(user)
    await session.flush()
    return user


async def test_clause_4_4_consent_beyond_the_end_user_cap_is_refused_existing_may_reconsent(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    (app,) = await limited_apps(sessions, max_end_users=2, max_debtors=2)
    # limited_apps gave one end user a consent over debtor 1001 already.
    now = datetime.now(UTC)
    consent = {"scopes": "company.info.read", "ip": "127.0.0.1", "user_agent": "t", "now": now}
    async with sessions.begin() as session:
        application = await session.get_one(Application, app.application_id)
        second = await _end_user(session)
        await grant_consent(
            session, end_user=second, application=application, debtors=["1001"], **consent
        )
        third = await _end_user(session)
        with pytest.raises(UsersServedCapError, match="2 end users"):
            await grant_consent(
                session, end_user=third, application=application, debtors=["1001"], **consent
            )
        # The second end user may consent again, and add one more debtor (2 allowed) ...
        await grant_consent(
            session, end_user=second, application=application, debtors=["1001", "1002"], **consent
        )
        # ... but not a third debtor.
        with pytest.raises(UsersServedCapError, match="customer accounts"):
            await grant_consent(
                session, end_user=second, application=application, debtors=["1003"], **consent
            )


def test_clause_4_4_over_cap_keeps_the_first_end_users_and_debtors() -> None:
    consents = [("c1", "u1", "1"), ("c2", "u2", "2"), ("c3", "u3", "1"), ("c4", "u1", "3")]
    assert over_cap(consents, 2, None) == {"c3"}
    assert over_cap(consents, None, 2) == {"c4"}


def test_clause_4_4_billing_days_follow_summer_time() -> None:
    amsterdam = ZoneCalendar(zone("Europe/Amsterdam"))
    # 2026-03-29 is 23 hours long in Amsterdam; 2026-10-25 is 25 hours long.
    spring = datetime(2026, 3, 29, 12, tzinfo=UTC).timestamp()
    autumn = datetime(2026, 10, 25, 12, tzinfo=UTC).timestamp()
    assert amsterdam.day(spring).seconds == 23 * 3600
    assert ZoneCalendar(zone("Europe/Amsterdam")).day(autumn).seconds == 25 * 3600
    month = ZoneCalendar(zone("Europe/Amsterdam")).month(spring)
    assert month.buckets == ("202603",)
    assert month.ends == datetime(2026, 3, 31, 22, tzinfo=UTC).timestamp()
    rolling = ZoneCalendar(zone("Europe/Amsterdam")).rolling(3, spring)
    assert rolling.buckets == ("20260329", "20260328", "20260327")


def test_clause_4_4_gcra_admits_the_allowance_then_one_per_interval() -> None:
    from types import SimpleNamespace

    from termgate.gateway.traffic.plan_limits import PlanLimits

    limits = PlanLimits(rate=60, counted=True)
    grant = SimpleNamespace(limits=limits, app_counter="a", developer_counter="d", key_id="k")
    limiter = MemoryLimiter()
    now = 1_000_000.0
    admitted = [limiter.acquire(grant, now).refused == 0 for _ in range(61)]  # type: ignore[arg-type]
    assert admitted == [True] * 60 + [False]
    assert limiter.acquire(grant, now + 0.9).refused != 0  # type: ignore[arg-type]
    assert limiter.acquire(grant, now + 1.0).refused == 0  # type: ignore[arg-type]
