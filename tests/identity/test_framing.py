"""The consent screen cannot be framed (clause 3.3 a): a page on another site cannot overlay it
and trick an end user into clicking Allow."""

from __future__ import annotations

from tests.identity.conftest import REDIRECT_URI, SCOPES, World, consent_page
from tests.web.test_security_headers import assert_page_headers


async def test_clause_3_3_a_consent_page_cannot_be_framed(world: World) -> None:
    site = world.site
    params = {
        "response_type": "code",
        "client_id": world.confidential.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPES,
        "state": "s",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    consent = await consent_page(site, world.production_user, params)
    assert consent.status_code == 200, consent.text
    assert 'name="interaction"' in consent.text, "this is the consent screen"
    assert_page_headers(consent)
    # The issuer is https: browsers are told never to use plain http for it.
    assert consent.headers["strict-transport-security"].startswith("max-age=")
