"""Developer sign-up, e-mail verification, login and password reset.

Links in e-mail carry a single-use token (256 random bits, stored as its SHA-256) that expires.
Asking to reset the password of an unknown address answers exactly as for a known one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.models import Developer, Status
from termgate.db.programme import EmailToken
from termgate.identity.passwords import hash_password, verify_password
from termgate.notify.mail import Mail, queue_mail
from termgate.registry.audit import record
from termgate.registry.developers import create_developer, normalise_email
from termgate.registry.errors import RegistryError
from termgate.registry.secrets import generate_key, hash_key
from termgate.settings import Settings

VERIFY = "verify"
RESET = "reset"
LIFETIME = {VERIFY: timedelta(days=2), RESET: timedelta(hours=1)}


async def _issue_token(
    session: AsyncSession, developer: Developer, purpose: str, now: datetime
) -> str:
    secret = generate_key()
    session.add(
        EmailToken(
            developer_id=developer.id,
            purpose=purpose,
            token_hash=hash_key(secret),
            expires_at=now + LIFETIME[purpose],
        )
    )
    await session.flush()
    return secret


async def _redeem(session: AsyncSession, secret: str, purpose: str, now: datetime) -> Developer:
    token = await session.scalar(
        select(EmailToken).where(EmailToken.token_hash == hash_key(secret.strip()))
    )
    if token is None or token.purpose != purpose:
        raise RegistryError("this link is not valid; ask for a new one")
    if token.used_at is not None:
        raise RegistryError("this link was already used; ask for a new one")
    if token.expires_at <= now:
        raise RegistryError("this link has expired; ask for a new one")
    token.used_at = now
    developer = await session.get(Developer, token.developer_id)
    assert developer is not None
    return developer


async def sign_up(
    session: AsyncSession,
    settings: Settings,
    *,
    email: str,
    name: str,
    password: str,
    organisation: str | None = None,
) -> Developer:
    password_hash = hash_password(password)
    developer = await create_developer(session, email=email, name=name, organisation=organisation)
    developer.password_hash = password_hash
    await record(session, developer.email, "signed-up", "developer", developer.id)
    await send_verification(session, settings, developer)
    return developer


async def _mail_link(
    session: AsyncSession,
    settings: Settings,
    developer: Developer,
    purpose: str,
    subject: str,
    text: str,
) -> None:
    """Mails the developer a single-use link for `purpose`; `text` holds `{link}`."""
    secret = await _issue_token(session, developer, purpose, settings.now())
    link = f"{settings.base_url}/portal/{purpose}?token={secret}"
    body = f"Hello {developer.name},\n\n" + text.format(link=link)
    queue_mail(session, Mail(developer.email, subject, body))


async def send_verification(
    session: AsyncSession, settings: Settings, developer: Developer
) -> None:
    await _mail_link(
        session,
        settings,
        developer,
        VERIFY,
        "Confirm your e-mail address",
        "Confirm your address for the developer portal by opening this link within two days:"
        "\n\n{link}\n\nIf you did not sign up, ignore this message.",
    )


async def verify_email(session: AsyncSession, secret: str, now: datetime) -> Developer:
    developer = await _redeem(session, secret, VERIFY, now)
    if developer.email_verified_at is None:
        developer.email_verified_at = now
        await record(session, developer.email, "verified-email", "developer", developer.id)
    return developer


async def authenticate(session: AsyncSession, email: str, password: str) -> Developer:
    wrong = RegistryError("wrong e-mail address or password")
    try:
        address = normalise_email(email)
    except RegistryError:
        raise wrong from None
    developer = await session.scalar(select(Developer).where(Developer.email == address))
    if developer is None or not verify_password(developer.password_hash, password):
        raise wrong
    if developer.email_verified_at is None:
        raise RegistryError("confirm your e-mail address first: open the link we sent you")
    if developer.status is Status.REVOKED:
        raise RegistryError("this account was closed")
    return developer


async def request_password_reset(session: AsyncSession, settings: Settings, email: str) -> None:
    try:
        address = normalise_email(email)
    except RegistryError:
        return
    developer = await session.scalar(select(Developer).where(Developer.email == address))
    if developer is None:
        return
    await _mail_link(
        session,
        settings,
        developer,
        RESET,
        "Reset your password",
        "Choose a new password within the hour:\n\n{link}\n\nIf you did not ask for this, "
        "ignore this message; your password stays as it is.",
    )


async def reset_password(
    session: AsyncSession, secret: str, new_password: str, now: datetime
) -> Developer:
    password_hash = hash_password(new_password)
    developer = await _redeem(session, secret, RESET, now)
    developer.password_hash = password_hash
    developer.email_verified_at = developer.email_verified_at or now  # the link proved the address
    await record(session, developer.email, "reset-password", "developer", developer.id)
    return developer
