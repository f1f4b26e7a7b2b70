"""End-user sign-in at /connect: throttled (3.3 c), and sign-out ends every session (3.3 c)."""

from __future__ import annotations

import re

from tests.identity.conftest import PASSWORD, World, sign_in

COOKIE = "termgate_session"


async def _attempt(world: World, username: str, password: str) -> tuple[int, str, str | None]:
    token = await world.site.csrf("/connect/login")
    answer = await world.site.client.post(
        "/connect/login", data={"csrf_token": token, "username": username, "password": password}
    )
    text = re.sub(r"\d+ seconds", "N seconds", answer.text.replace(username, "NAME"))
    return answer.status_code, text, answer.headers.get("retry-after")


async def test_clause_3_3_c_end_user_sign_in_is_throttled_alike_for_known_and_unknown(
    world: World,
) -> None:
    answers = []
    for username in (world.sandbox_user.username, "nobody-at-all"):
        statuses = [(await _attempt(world, username, "wrong password"))[0] for _ in range(5)]
        assert statuses == [400] * 5
        status, text, retry_after = await _attempt(world, username, "wrong password")
        assert status == 429
        assert retry_after is not None
        assert int(retry_after) > 0
        assert "Too many failed sign-ins" in text
        answers.append((status, text))
    assert answers[0] == answers[1]
    status, _, _ = await _attempt(world, world.sandbox_user.username, PASSWORD)
    assert status == 429  # the throttle answers before the password is checked


async def test_clause_3_3_c_copied_end_user_cookie_stops_working_after_sign_out(
    world: World,
) -> None:
    client = world.site.client
    signed_in = await sign_in(world.site, world.sandbox_user, "/connect/apps")
    assert signed_in.status_code == 303
    assert (await client.get("/connect/apps")).status_code == 200
    copied = client.cookies.get(COOKIE)
    assert copied
    token = await world.site.csrf("/connect/apps")
    out = await client.post("/connect/logout", data={"csrf_token": token})
    assert out.status_code == 303
    client.cookies.delete(COOKIE)
    client.cookies.set(COOKIE, copied, domain="portal.test")
    assert (await client.get("/connect/apps")).status_code == 303
