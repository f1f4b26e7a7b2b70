"""The consent screen names customer accounts as the payroll API names them (clause 3.3 a):
`debtor_names` asks the published contract's debtor listing of the real reference API."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from termgate.db.oauth import EndUser
from termgate.reference_api import LoopbackServer, World, create_app, generate
from termgate.settings import load_settings
from termgate.web.end_user import debtors as names_module
from termgate.web.end_user.debtors import debtor_names, fallback_name

SEED, EMPLOYEES = 20260401, 200
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with LoopbackServer(create_app(SEED, EMPLOYEES)) as server:
        yield server.url


@pytest.fixture(scope="module")
def world() -> World:
    return generate(SEED, EMPLOYEES)


def login(*debtors: str) -> EndUser:
    return EndUser(upstream_id="1", username="u", debtor_ids=",".join(sorted(debtors)))


async def test_clause_3_3_a_consent_names_are_the_apis_names_of_the_users_debtors(
    upstream: str, world: World
) -> None:
    settings = load_settings(upstream_url=upstream)
    first, second = world.debtors[:2]
    user = login(first.id, second.id)
    named = await debtor_names(settings, user, [second.id, first.id])
    assert named == {first.id: first.name, second.id: second.name}
    assert first.name != second.name


async def test_clause_3_3_a_a_debtor_the_api_does_not_list_for_the_user_keeps_its_id(
    upstream: str, world: World
) -> None:
    settings = load_settings(upstream_url=upstream)
    first, second = world.debtors[:2]
    # The user sees only `first`: the listing, filtered by the gateway's header, never names
    # `second`, nor an id the API does not hold.
    named = await debtor_names(settings, login(first.id), [first.id, second.id, UNKNOWN])
    assert named == {
        first.id: first.name,
        second.id: fallback_name(second.id),
        UNKNOWN: fallback_name(UNKNOWN),
    }


async def test_clause_3_3_a_names_come_from_every_page_of_the_listing(
    upstream: str, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(names_module, "PAGE_SIZE", 2)  # 5 debtors: three pages
    settings = load_settings(upstream_url=upstream)
    everyone = [debtor.id for debtor in world.debtors]
    named = await debtor_names(settings, login(*everyone), everyone)
    assert named == {debtor.id: debtor.name for debtor in world.debtors}


async def test_clause_3_3_a_an_unreachable_api_leaves_the_ids(world: World) -> None:
    first = world.debtors[0]
    with socket.socket() as unreachable:  # bound, never listening: connections are refused
        unreachable.bind(("127.0.0.1", 0))
        port = unreachable.getsockname()[1]
        settings = load_settings(upstream_url=f"http://127.0.0.1:{port}")
        named = await debtor_names(settings, login(first.id), [first.id])
    assert named == {first.id: fallback_name(first.id)}
