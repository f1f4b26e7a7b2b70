"""Sign-in hardening: throttling (3.3 c), revocable sessions (1, 3.3 c), no account enumeration."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from termgate.core.errors import RegistryError
from termgate.db.models import Status
from termgate.registry.accounts import authenticate
from termgate.registry.status import change_status
from termgate.settings import Settings, load_settings
from tests.conftest import free_port
from tests.web.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Site, seed_programme
from tests.web.test_portal import LINK, PASSWORD, sign_in, sign_up_and_verify

COOKIE = "termgate_session"
THROTTLED = "Too many failed sign-ins"


@pytest.fixture
async def settings(tmp_path: Path) -> Settings:
    return load_settings(
        secret_key="x" * 40,
        smtp_port=free_port(),
        public_url="http://portal.test",
        signin_account_failures=3,
        signin_address_failures=8,
        signin_window_seconds=600,
    )


async def _wrong(site: Site, page: str, email: str) -> int:
    response = await site.post_form(page, {"email": email, "password": "not the password"})
    return response.status_code


@pytest.mark.parametrize("page", ["/portal/login", "/console/login"])
async def test_clause_3_3_c_sign_in_is_throttled_per_account_alike_for_known_and_unknown(
    site: Site, page: str
) -> None:
    await sign_up_and_verify(site)
    await seed_programme(site, email="bo@example.nl")
    known = "ann@example.nl" if page.startswith("/portal") else ADMIN_EMAIL
    unknown = "nobody@example.nl"
    answers = {}
    for account in (known, unknown):
        assert [await _wrong(site, page, account) for _ in range(3)] == [400, 400, 400]
        refused = await site.post_form(page, {"email": account, "password": "still wrong"})
        assert refused.status_code == 429, refused.text
        assert THROTTLED in refused.text
        seconds = int(refused.headers["retry-after"])
        assert 0 < seconds <= 600
        page_text = re.sub(r"\d+ seconds", "N seconds", refused.text.replace(account, "ADDRESS"))
        answers[account] = (refused.status_code, page_text)
    assert answers[known] == answers[unknown]
    # Even the right password waits: the throttle answers before any password is checked.
    right = PASSWORD if page.startswith("/portal") else ADMIN_PASSWORD
    refused = await site.post_form(page, {"email": known, "password": right})
    assert refused.status_code == 429


async def test_clause_3_3_c_sign_in_is_throttled_per_source_address(site: Site) -> None:
    await sign_up_and_verify(site)
    statuses = [await _wrong(site, "/portal/login", f"guess{n}@example.nl") for n in range(8)]
    assert statuses == [400] * 8
    # A different account from the same address, on another sign-in page, is refused too.
    refused = await site.post_form("/console/login", {"email": "x@y.nl", "password": "guess1234"})
    assert refused.status_code == 429
    assert "retry-after" in refused.headers
    right = {"email": "ann@example.nl", "password": PASSWORD}
    refused = await site.post_form("/portal/login", right)
    assert refused.status_code == 429


async def test_clause_3_3_c_successful_sign_ins_do_not_count(site: Site) -> None:
    await sign_up_and_verify(site)
    for _ in range(5):
        await sign_in(site)


async def _portal_page_works(site: Site) -> bool:
    response = await site.client.get("/portal/apps")
    return response.status_code == 200


async def _copy_of_cookie(site: Site) -> str:
    value = site.client.cookies.get(COOKIE)
    assert value
    return value


def _reuse(site: Site, cookie: str) -> None:
    site.client.cookies.delete(COOKIE)
    site.client.cookies.set(COOKIE, cookie, domain="portal.test")


async def test_clause_1_copied_portal_cookie_stops_working_after_logout(site: Site) -> None:
    await sign_up_and_verify(site)
    await sign_in(site)
    assert await _portal_page_works(site)
    copied = await _copy_of_cookie(site)
    out = await site.post_form("/portal/logout", {}, "/portal/apps")
    assert out.status_code == 303
    _reuse(site, copied)
    assert not await _portal_page_works(site)


async def test_clause_1_copied_portal_cookie_stops_working_after_password_reset(
    site: Site,
) -> None:
    await sign_up_and_verify(site)
    await sign_in(site)
    copied = await _copy_of_cookie(site)
    site.client.cookies.clear()
    await site.post_form("/portal/forgot", {"email": "ann@example.nl"})
    [mail] = [m for m in await site.mail_to("ann@example.nl") if "Reset" in m.subject]
    link = LINK.search(mail.body)
    assert link
    token = link.group(1).split("token=")[1]
    reset = await site.post_form(
        "/portal/reset", {"token": token, "password": "a new long passphrase"}, link.group(1)
    )
    assert reset.status_code == 303
    _reuse(site, copied)
    assert not await _portal_page_works(site)


async def test_clause_1_portal_sessions_end_when_the_developer_is_suspended(site: Site) -> None:
    await sign_up_and_verify(site)
    await sign_in(site)
    assert await _portal_page_works(site)
    async with site.sessions.begin() as session:
        developer = await authenticate(session, "ann@example.nl", PASSWORD)
        await change_status(
            session, "developer", developer.id, Status.SUSPENDED, "probe", "pat@provider.example"
        )
    assert not await _portal_page_works(site)


async def test_clause_3_3_c_copied_console_cookie_stops_working_after_logout(site: Site) -> None:
    await seed_programme(site)
    signed_in = await site.post_form(
        "/console/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert signed_in.status_code == 303
    assert (await site.client.get("/console/")).status_code == 200
    copied = await _copy_of_cookie(site)
    out = await site.post_form("/console/logout", {}, "/console/")
    assert out.headers["location"] == "/console/login"
    _reuse(site, copied)
    assert (await site.client.get("/console/")).status_code == 303


async def test_sign_up_answers_alike_whether_or_not_the_address_is_registered(
    site: Site,
) -> None:
    await sign_up_and_verify(site)
    answers = []
    for email in ("ann@example.nl", "new@example.nl"):
        response = await site.post_form(
            "/portal/signup", {"name": "Someone", "email": email, "password": "a long password"}
        )
        answers.append((response.status_code, response.text.replace(email, "ADDRESS")))
    assert answers[0] == answers[1]
    [notice] = [m for m in await site.mail_to("ann@example.nl") if "Sign-up" in m.subject]
    assert "already has an account" in notice.body
    async with site.sessions() as session:  # the existing account is untouched
        developer = await authenticate(session, "ann@example.nl", PASSWORD)
        assert developer.name == "Ann Jansen"


async def test_sign_in_takes_as_long_for_an_unknown_address_as_for_a_known_one(
    site: Site,
) -> None:
    await sign_up_and_verify(site)

    async def duration(email: str) -> float:
        async with site.sessions() as session:
            started = time.perf_counter()
            with pytest.raises(RegistryError):
                await authenticate(session, email, "not the password")
            return time.perf_counter() - started

    await duration("nobody@example.nl")  # the dummy hash is made once
    known = min([await duration("ann@example.nl") for _ in range(3)])
    unknown = min([await duration("nobody@example.nl") for _ in range(3)])
    # Without the dummy verification an unknown address answered ~50x faster (3 ms vs 200 ms).
    assert unknown > known / 3, (known, unknown)
