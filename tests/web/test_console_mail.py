"""The console's Mail page: pending and failed mail from the outbox, "retry now" (audited)."""

from __future__ import annotations

from sqlalchemy import select

from termgate.db.programme import AuditEntry, MailState, OutboxMail
from termgate.notify.mail import Mail
from termgate.notify.outbox import Delivery, deliver_due, queue_mail
from termgate.settings import load_settings
from tests.conftest import free_port
from tests.web.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Site, seed_programme


async def failed_mail(site: Site) -> str:
    """A message whose only attempt found no relay: failed, with the connection error."""
    async with site.sessions.begin() as session:
        row = queue_mail(session, Mail("bo@example.nl", "Your key was revoked", "b", "revoked"))
    down = load_settings(smtp_port=free_port(), mail_max_attempts=1)
    assert await deliver_due(site.sessions, down, [row.id]) == Delivery(failed=1)
    return row.id


async def sign_in(site: Site) -> None:
    await seed_programme(site)
    await site.post_form(
        "/console/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, "/console/login"
    )


async def test_failed_mail_is_retried_and_shown_in_the_console(site: Site) -> None:
    await sign_in(site)
    mail_id = await failed_mail(site)

    overview = await site.client.get("/console/")
    assert "<strong>1</strong> failed mail message" in overview.text
    page = await site.client.get("/console/mail")
    assert page.status_code == 200
    row = page.text[page.text.index("bo@example.nl") :].split("</tr>")[0]
    assert "Your key was revoked" in row
    assert "SMTPConnectError" in row
    assert f'action="/console/mail/{mail_id}/retry"' in row

    retried = await site.post_form(f"/console/mail/{mail_id}/retry", {}, "/console/mail")
    assert retried.status_code == 303
    [received] = await site.mail_to("bo@example.nl")  # the site's capture server is up
    assert received.subject == "Your key was revoked"
    async with site.sessions() as session:
        sent = await session.get_one(OutboxMail, mail_id)
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.entity_id == mail_id))
    assert (sent.state, sent.attempts) == (MailState.SENT, 2)
    assert entry is not None
    assert (entry.actor, entry.action, entry.reason) == (
        ADMIN_EMAIL,
        "mail retried",
        "failed after 1 attempt(s)",
    )
    after = await site.client.get("/console/")
    assert "<strong>0</strong> failed mail messages" in after.text


async def test_retry_of_sent_or_unknown_mail_changes_nothing(site: Site) -> None:
    await sign_in(site)
    mail_id = await failed_mail(site)
    assert (await site.post_form(f"/console/mail/{mail_id}/retry", {}, "/console/mail")).is_redirect
    again = await site.post_form(f"/console/mail/{mail_id}/retry", {}, "/console/mail")
    assert again.status_code == 400
    assert "was already sent; there is nothing to retry" in again.text
    unknown = await site.post_form("/console/mail/nope%0Aevil/retry", {}, "/console/mail")
    assert unknown.status_code == 404
    forged = await site.client.post(f"/console/mail/{mail_id}/retry", data={"csrf_token": "x"})
    assert forged.status_code == 400
    async with site.sessions() as session:
        entries = (await session.scalars(select(AuditEntry.action))).all()
    assert entries.count("mail retried") == 1
