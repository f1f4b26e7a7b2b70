"""What a developer creates in the portal is audited with the developer's own e-mail as actor."""

from __future__ import annotations

import re

from sqlalchemy import select

from termgate.db.models import Developer
from termgate.db.programme import AuditEntry
from tests.web.conftest import Site
from tests.web.test_portal import accept_current_terms, register_app, sign_in, sign_up_and_verify

PLAN = re.compile(r'<option value="(\w+)">Sandbox')


async def test_clause_4_2_portal_creations_are_audited_as_the_developer(site: Site) -> None:
    await sign_up_and_verify(site)
    await sign_in(site)
    await accept_current_terms(site)
    app_id = await register_app(site)
    plan = PLAN.search((await site.client.get(f"/portal/apps/{app_id}")).text)
    assert plan
    issued = await site.post_form(
        f"/portal/apps/{app_id}/subscribe", {"plan": plan.group(1)}, f"/portal/apps/{app_id}"
    )
    assert issued.status_code == 200, issued.text
    async with site.sessions() as session:
        developer = await session.scalar(select(Developer))
        assert developer is not None
        entries = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    created = [(e.actor, e.action, e.entity) for e in entries if e.action in ("created", "issued")]
    assert created == [
        ("ann@example.nl", "created", "developer"),
        ("ann@example.nl", "created", "application"),
        ("ann@example.nl", "created", "subscription"),
        ("ann@example.nl", "issued", "key"),
        ("ann@example.nl", "issued", "key"),
    ]
    assert next(e for e in entries if e.action == "created").entity_id == developer.id
    assert "signed-up" not in {e.action for e in entries}  # one entry for one event
