"""Odd authorization requests are refused with a page (clause 3.1), never a 500."""

from __future__ import annotations

from tests.identity.conftest import REDIRECT_URI, SCOPES, World


async def test_clause_3_1_authorize_refuses_quotes_newlines_and_nul_with_a_page(
    world: World,
) -> None:
    site, client = world.site, world.confidential
    base = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPES,
        "state": "s",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    for name in ("redirect_uri", "response_type"):
        for odd in ('"', "\n", "\x00", "\x1b", '"\n\x00'):
            params = {**base, name: base[name] + odd}
            response = await site.client.get("/connect/authorize", params=params)
            assert response.status_code == 400, (name, repr(odd), response.status_code)
            assert response.headers["content-type"].startswith("text/html")
            assert "Traceback" not in response.text
