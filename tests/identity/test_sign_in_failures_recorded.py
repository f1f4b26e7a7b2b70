"""Clause 3.3 c: every failed or throttled end-user sign-in at /connect is recorded with the
application whose authorization request it was for, for the probing detector; a good one is not."""

from __future__ import annotations

from sqlalchemy import select

from termgate.db.monitoring import SignInFailure
from tests.identity.conftest import PASSWORD, World


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
