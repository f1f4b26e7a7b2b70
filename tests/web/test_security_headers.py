"""Every control-plane page forbids framing and inline script (clause 3.3 a: the consent page
cannot be framed to trick an end user into allowing access), and JSON answers sniff nothing."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from termgate.settings import load_settings
from termgate.web.app import create_control_app
from tests.conftest import free_port
from tests.web.conftest import Programme, Site, seed_programme
from tests.web.test_console import sign_in as console_sign_in


def assert_page_headers(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("text/html"), response.headers
    policy = response.headers["content-security-policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split("; ")}
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"], "no inline script"
    assert directives["frame-ancestors"] == ["'none'"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


async def test_clause_3_3_a_portal_and_console_pages_carry_a_strict_policy(
    site: Site,
) -> None:
    programme: Programme = await seed_programme(site)
    for path in ("/portal", "/portal/login", "/portal/signup", "/portal/terms"):
        response = await site.client.get(path)
        assert response.status_code == 200, path
        assert_page_headers(response)
        assert "strict-transport-security" not in response.headers, "http public URL: no HSTS"
    await console_sign_in(site)
    for path in ("/console/", "/console/plans", "/console/maintenance", "/console/terms"):
        response = await site.client.get(path)
        assert response.status_code == 200, path
        assert_page_headers(response)
    missing = await site.client.get("/portal/no-such-page")
    assert missing.status_code == 404
    assert_page_headers(missing)
    api = await site.client.get("/admin/api/plans", headers=programme.auth)
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert api.headers["x-content-type-options"] == "nosniff"


async def test_clause_3_3_a_templates_hold_no_inline_script_or_style(site: Site) -> None:
    """The policy forbids them, so a page that used one would silently break in the browser."""
    from pathlib import Path

    import termgate.web

    templates = Path(termgate.web.__file__).parent / "templates"
    offenders = []
    for template in templates.rglob("*.html"):
        text = template.read_text()
        for marker in ("<script>", "style=", "<style", " onclick=", " onload=", " onsubmit="):
            if marker in text:
                offenders.append((template.name, marker))
    assert not offenders


@pytest.mark.parametrize("public_url", ["https://portal.test"])
async def test_clause_3_3_a_https_deployments_send_hsts_on_every_answer(
    engine: AsyncEngine, public_url: str
) -> None:
    settings = load_settings(secret_key="x" * 40, smtp_port=free_port(), public_url=public_url)
    app = create_control_app(settings, engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=public_url) as client:
        for path in ("/healthz", "/static/style.css"):
            response = await client.get(path)
            assert response.status_code == 200
            assert response.headers["strict-transport-security"] == "max-age=31536000"
            assert response.headers["x-content-type-options"] == "nosniff"
