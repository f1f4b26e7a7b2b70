"""Clause 3.3 c: every failed or throttled end-user sign-in at /connect is recorded with the
application whose authorization request it was for, for the probing detector; a good one is not."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from termgate.db.monitoring import SignInFailure
from tests.identity.conftest import PASSWORD, World
from tests.identity.test_security import pkce, request_params


async def test_clause_3_3_c_failed_sign_ins_are_recorded_with_their_application(
    world: World,
) -> None:
    authorize = "/connect/authorize?response_type=code&client_id=app0123456789&scope=openid"
    for password in ("wrong", "wrong again", PASSWORD):
        token = await world.site.csrf("/connect/login")
        await world.site.client.post(
            "/connect/login",
            data={
                "csrf_token": token,
                "username": world.sandbox_user.username,
                "password": password,
                "next": authorize,
            },
        )
    async with world.site.sessions() as session:
        failures = list(await session.scalars(select(SignInFailure)))
    assert [f.application_id for f in failures] == ["app0123456789", "app0123456789"]
    assert all(f.client_ip for f in failures)


async def test_clause_3_3_c_a_failed_sign_in_of_an_authorization_names_its_client(
    world: World,
) -> None:
    client = world.confidential
    params = request_params(client, pkce()[1])
    opened = await world.site.client.get("/connect/authorize", params=params)
    assert opened.status_code == 303, opened.text
    login = opened.headers["location"]
    next_path = parse_qs(urlsplit(login).query)["next"][0]
    token = await world.site.csrf(login)
    await world.site.client.post(
        "/connect/login",
        data={"csrf_token": token, "username": "nobody", "password": "x", "next": next_path},
    )
    async with world.site.sessions() as session:
        failures = list(await session.scalars(select(SignInFailure)))
    assert [f.application_id for f in failures] == [client.client_id]
