"""The API lifecycle (clause 4.6) through its functions, on an in-memory database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.errors import NotFoundError
from termgate.db.programme import AuditEntry
from termgate.db.traffic import Brownout, LifecycleState
from termgate.governance.errors import PolicyConflictError, PolicyInputError
from termgate.governance.lifecycle import (
    add_brownout,
    all_lifecycles,
    parse_state,
    remove_brownout,
    set_lifecycle,
)
from tests.unit.registry_support import changes

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2027, 3, 15, 12, tzinfo=UTC)
LATER = NOW + timedelta(days=90)
DEPRECATED, SUNSET = LifecycleState.DEPRECATED, LifecycleState.SUNSET


async def audits(session: AsyncSession) -> list[tuple[str, str, str, str, str]]:
    return [
        (e.actor, e.action, e.entity, e.entity_id, e.reason)
        for e in await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    ]


def test_clause_4_6_states_are_read_loosely_and_refused_with_the_choices() -> None:
    assert parse_state(" Deprecated ") is DEPRECATED
    assert parse_state("retired") is LifecycleState.RETIRED
    with pytest.raises(PolicyInputError) as raised:
        parse_state("gone")
    assert (raised.value.field, str(raised.value)) == (
        "state",
        "the state is one of active, deprecated, sunset, retired",
    )


async def test_clause_4_6_deprecation_of_a_group_is_audited_and_fed(db: Sessions) -> None:
    async with db.begin() as session:
        rows = await set_lifecycle(
            session,
            ["listEmployees", "getEmployee"],
            DEPRECATED,
            actor="ops",
            now=NOW,
            sunset_at=LATER,
            migration_url=" https://docs.example/v2 ",
        )
        for row in rows:
            assert (row.state, row.deprecated_at, row.sunset_at, row.updated_at) == (
                DEPRECATED,
                NOW,
                LATER,
                NOW,
            )
            assert row.migration_url == "https://docs.example/v2"
        assert await audits(session) == [
            (
                "ops",
                "lifecycle.deprecated",
                "lifecycle",
                op,
                "deprecated, sunset 2027-06-13 12:00 UTC",
            )
            for op in ("listEmployees", "getEmployee")
        ]
        assert (await changes(session)) == [("lifecycle", row.id) for row in rows]
        views = await all_lifecycles(session)
        assert [(v.row.operation_id, v.brownouts) for v in views] == [
            ("getEmployee", []),
            ("listEmployees", []),
        ]


async def test_clause_4_6_later_changes_keep_earlier_dates_and_guide(db: Sessions) -> None:
    async with db.begin() as session:
        deprecated = NOW - timedelta(days=1)
        (row,) = await set_lifecycle(
            session,
            ["op"],
            DEPRECATED,
            actor="o",
            now=NOW,
            deprecated_at=deprecated,
            migration_url="http://guide",
        )
        assert row.deprecated_at == deprecated
        (again,) = await set_lifecycle(session, ["op"], SUNSET, actor="o", now=NOW + timedelta(1))
        assert again is row
        assert (row.deprecated_at, row.migration_url) == (deprecated, "http://guide")
        assert row.sunset_at == NOW + timedelta(1)
        assert (await audits(session))[-1][-1] == "sunset, sunset 2027-03-16 12:00 UTC"
        await set_lifecycle(session, ["op"], LifecycleState.RETIRED, actor="o", now=LATER)
        assert (row.state, row.sunset_at, row.deprecated_at) == (
            LifecycleState.RETIRED,
            NOW + timedelta(1),
            deprecated,
        )
        await set_lifecycle(session, ["op"], LifecycleState.ACTIVE, actor="o", now=LATER)
        assert (row.deprecated_at, row.sunset_at, row.migration_url) == (None, None, None)
        assert (await audits(session))[-1][1:] == ("lifecycle.active", "lifecycle", "op", "active")


async def test_clause_4_6_deprecation_without_a_sunset_has_none(db: Sessions) -> None:
    async with db.begin() as session:
        (row,) = await set_lifecycle(session, ["op"], DEPRECATED, actor="o", now=NOW)
        assert (row.sunset_at, row.migration_url) == (None, None)
        assert (await audits(session))[-1][-1] == "deprecated"


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"sunset_at": NOW}, "sunset_at", "the sunset must come after the deprecation date"),
        ({"sunset_at": NOW.replace(tzinfo=None)}, "sunset_at", "give the time with its UTC"),
        ({"deprecated_at": NOW.replace(tzinfo=None)}, "deprecated_at", "give the time with"),
        (
            {"migration_url": "ftp://x/y"},
            "migration_url",
            "the migration guide must be an http(s) URL",
        ),
        ({"migration_url": "https://"}, "migration_url", "the migration guide must be an http"),
        ({"migration_url": "https://x/a b"}, "migration_url", "the migration guide must be"),
        ({"migration_url": 'https://x/"'}, "migration_url", "the migration guide must be"),
        ({"migration_url": "https://x/<"}, "migration_url", "the migration guide must be"),
        ({"migration_url": "https://x/>"}, "migration_url", "the migration guide must be"),
    ],
)
async def test_clause_4_6_bad_lifecycle_input_names_the_field(
    db: Sessions, kwargs: dict[str, object], field: str, message: str
) -> None:
    async with db.begin() as session:
        with pytest.raises(PolicyInputError) as raised:
            await set_lifecycle(session, ["op"], DEPRECATED, actor="o", now=NOW, **kwargs)  # type: ignore[arg-type]
        assert raised.value.field == field
        assert str(raised.value).startswith(message)


async def test_clause_4_6_a_group_names_an_operation(db: Sessions) -> None:
    async with db.begin() as session:
        with pytest.raises(PolicyInputError, match=r"^name at least one operationId$") as raised:
            await set_lifecycle(session, [], DEPRECATED, actor="o", now=NOW)
        assert raised.value.field == "operations"
        (row,) = await set_lifecycle(
            session, ["op"], DEPRECATED, actor="o", now=NOW, migration_url="  "
        )
        assert row.migration_url is None


async def test_clause_4_6_brownout_of_a_deprecated_operation(db: Sessions) -> None:
    async with db.begin() as session:
        (row,) = await set_lifecycle(session, ["op"], DEPRECATED, actor="o", now=NOW)
        start = NOW + timedelta(days=1)
        (brownout,) = await add_brownout(
            session, ["op"], start, start + timedelta(hours=24), actor="ops", now=NOW
        )
        assert (brownout.lifecycle_id, brownout.start, brownout.end) == (
            row.id,
            start,
            start + timedelta(hours=24),
        )
        assert (await audits(session))[-1] == (
            "ops",
            "lifecycle.brownout",
            "lifecycle",
            "op",
            "brown-out 2027-03-16 12:00 to 2027-03-17 12:00 UTC",
        )
        assert (await changes(session))[-1] == ("lifecycle", row.id)
        (earlier,) = await add_brownout(
            session, ["op"], start - timedelta(hours=2), start, actor="ops", now=NOW
        )
        views = await all_lifecycles(session)
        assert [b.id for b in views[0].brownouts] == [earlier.id, brownout.id]
        await remove_brownout(session, earlier.id, "ops")
        await remove_brownout(session, brownout.id, "ops")
        assert (await audits(session))[-1] == (
            "ops",
            "lifecycle.brownout-removed",
            "lifecycle",
            "op",
            "",
        )
        assert (await session.scalars(select(Brownout))).all() == []
        with pytest.raises(NotFoundError, match=r"^no brown-out 'nope'$"):
            await remove_brownout(session, "nope", "ops")


async def test_clause_4_6_brownouts_are_short_future_and_only_when_deprecated(
    db: Sessions,
) -> None:
    async with db.begin() as session:
        await set_lifecycle(session, ["sunset"], SUNSET, actor="o", now=NOW)
        await set_lifecycle(session, ["active"], LifecycleState.ACTIVE, actor="o", now=NOW)
        start = NOW + timedelta(hours=1)
        cases: list[tuple[datetime, datetime, type[Exception], str]] = [
            (start, start, PolicyInputError, "a brown-out ends after it starts"),
            (start, start + timedelta(hours=24, seconds=1), PolicyInputError, "a brown-out is"),
            (NOW - timedelta(hours=2), NOW, PolicyConflictError, "that brown-out period has"),
        ]
        for begins, ends, error, message in cases:
            with pytest.raises(error, match=f"^{message}") as raised:
                await add_brownout(session, ["sunset"], begins, ends, actor="o", now=NOW)
            assert getattr(raised.value, "field", "end") == "end"
        naive = start.replace(tzinfo=None)
        for begins, ends, field in ((naive, start, "start"), (start, naive, "end")):
            with pytest.raises(PolicyInputError, match=r"^give the time with its UTC") as bad:
                await add_brownout(session, ["sunset"], begins, ends, actor="o", now=NOW)
            assert bad.value.field == field
        for name in ("active", "unknown"):
            with pytest.raises(
                PolicyConflictError, match=f"^{name} must be deprecated before it can have"
            ):
                await add_brownout(session, [name], start, start + timedelta(1), actor="o", now=NOW)
        ongoing = await add_brownout(
            session,
            ["sunset"],
            NOW - timedelta(hours=1),
            NOW + timedelta(seconds=1),
            actor="o",
            now=NOW,
        )
        assert len(ongoing) == 1


async def test_clause_4_6_dates_stay_utc_in_any_server_zone(db: Sessions, server_zone: str) -> None:
    sunset = datetime(2027, 12, 31, 23, 30, tzinfo=UTC)  # already 2028 in Amsterdam
    guide = "https://docs.example/v2/XML-Export"
    async with db.begin() as session:
        (row,) = await set_lifecycle(
            session, ["op"], DEPRECATED, actor="o", now=NOW, sunset_at=sunset, migration_url=guide
        )
        assert (row.sunset_at, row.migration_url) == (sunset, guide)
        assert row.sunset_at is not None
        assert row.sunset_at.utcoffset() == timedelta(0)
        assert (await audits(session))[-1][-1] == "deprecated, sunset 2027-12-31 23:30 UTC"
        (brownout,) = await add_brownout(
            session, ["op"], sunset - timedelta(hours=1), sunset, actor="o", now=NOW
        )
        assert (brownout.start.utcoffset(), brownout.end.utcoffset()) == (timedelta(0),) * 2
        assert (await audits(session))[-1][-1] == (
            "brown-out 2027-12-31 22:30 to 2027-12-31 23:30 UTC"
        )
