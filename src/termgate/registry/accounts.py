"""Developer sign-up, e-mail verification, login and password reset.

Links in e-mail carry a single-use token (256 random bits, stored as its SHA-256) that expires.
Asking to reset the password of an unknown address answers exactly as for a known one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.core.errors import RegistryError
from termgate.core.passwords import check_strength, hash_off_loop, verify_off_loop
from termgate.core.secrets import generate_key, hash_key
from termgate.core.sessions import end_every_session
from termgate.db.models import Developer, Status
from termgate.db.programme import EmailToken
from termgate.notify.mail import Mail
from termgate.notify.outbox import queue_mail
from termgate.registry.developers import create_developer, normalise_email, require_text
from termgate.settings import Settings

VERIFY = "verify"
RESET = "reset"
LIFETIME = {VERIFY: timedelta(days=2), RESET: timedelta(hours=1)}
INVITATION_LIFETIME = timedelta(days=7)


async def _issue_token(
    session: AsyncSession,
    developer: Developer,
    purpose: str,
    now: datetime,
    lifetime: timedelta | None = None,
) -> str:
    secret = generate_key()
    session.add(
        EmailToken(
            developer_id=developer.id,
            purpose=purpose,
            token_hash=hash_key(secret),
            expires_at=now + (lifetime or LIFETIME[purpose]),
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
) -> str:
    """Signs up, or for an address already registered mails its owner instead; either way the
    caller answers the same ("check your e-mail" to the address returned), after the same
    argon2 work, so sign-up does not tell who has an account."""
    address = normalise_email(email)
    require_text("name", name)
    if organisation:
        require_text("organisation", organisation)
    check_strength(password, address)
    password_hash = await hash_off_loop(password)
    existing = await session.scalar(select(Developer).where(Developer.email == address))
    if existing is not None:
        await _tell_owner(session, settings, existing)
        return address
    developer = await create_developer(
        session, email=address, name=name, organisation=organisation, actor=address
    )
    developer.password_hash = password_hash
    await send_verification(session, settings, developer)
    return address


async def _tell_owner(session: AsyncSession, settings: Settings, developer: Developer) -> None:
    """Someone signed up with a registered address: a new link if it was never confirmed,
    else a notice to its owner (nothing about the account changes)."""
    if developer.email_verified_at is None:
        await send_verification(session, settings, developer)
        return
    body = (
        f"Hello {developer.name},\n\nSomeone tried to sign up for the developer portal with "
        f"this address, which already has an account. If it was you, sign in at "
        f"{settings.base_url}/portal/login or choose a new password at "
        f"{settings.base_url}/portal/forgot. If not, ignore this message; nothing changed."
    )
    queue_mail(session, Mail(developer.email, "Sign-up with your address", body, "sign-up"))


async def _mail_link(
    session: AsyncSession,
    settings: Settings,
    developer: Developer,
    purpose: str,
    subject: str,
    text: str,
    lifetime: timedelta | None = None,
) -> None:
    """Mails the developer a single-use link for `purpose`; `text` holds `{link}`."""
    secret = await _issue_token(session, developer, purpose, settings.now(), lifetime)
    link = f"{settings.base_url}/portal/{purpose}?token={secret}"
    body = f"Hello {developer.name},\n\n" + text.format(link=link)
    # The link is a credential: the outbox empties the body once the relay has it (LINK_KINDS).
    queue_mail(session, Mail(developer.email, subject, body, f"link:{purpose}", developer.id))


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


async def send_invitation(session: AsyncSession, settings: Settings, developer: Developer) -> None:
    """An account the provider created has no password: its owner chooses one through a
    password-set link valid for a week, which also confirms the address (`reset_password`)."""
    await _mail_link(
        session,
        settings,
        developer,
        RESET,
        "Your developer portal account",
        "The API provider created a developer portal account for you. Choose your password "
        "within a week by opening this link:\n\n{link}\n\nIf you did not expect this, ignore "
        "this message; nobody can sign in to the account without that password.",
        INVITATION_LIFETIME,
    )


async def verify_email(session: AsyncSession, secret: str, now: datetime) -> Developer:
    developer = await _redeem(session, secret, VERIFY, now)
    if developer.email_verified_at is None:
        developer.email_verified_at = now
        await record(session, developer.email, "verified-email", "developer", developer.id)
    return developer


async def authenticate(session: AsyncSession, email: str, password: str) -> Developer:
    """An unknown address costs the same argon2 work as a known one (no timing difference)."""
    try:
        address = normalise_email(email)
    except RegistryError:
        address = None
    developer = None
    if address is not None:
        developer = await session.scalar(select(Developer).where(Developer.email == address))
    verified = await verify_off_loop(developer.password_hash if developer else None, password)
    if developer is None or not verified:
        raise RegistryError("wrong e-mail address or password")
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
    check_strength(new_password, "")
    password_hash = await hash_off_loop(new_password)
    developer = await _redeem(session, secret, RESET, now)
    developer.password_hash = password_hash
    end_every_session(developer)
    developer.email_verified_at = developer.email_verified_at or now  # the link proved the address
    await record(session, developer.email, "reset-password", "developer", developer.id)
    return developer
