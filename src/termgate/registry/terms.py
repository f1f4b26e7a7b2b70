"""Versioned terms and the acceptance ledger (clauses 1 and 9).

Publishing a version notifies every developer and sets a re-acceptance deadline; after it the
gateway refuses the production traffic of developers who have not accepted (sandbox traffic
stays). No credential can be issued to a developer who has not accepted the current version.
"""

from __future__ import annotations

import difflib
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.core.changes import record_access_change
from termgate.core.errors import RegistryError
from termgate.db.models import Developer
from termgate.db.programme import TermsAcceptance, TermsVersion
from termgate.notify.inbox import notify_developer
from termgate.registry.clauses import load_policy
from termgate.registry.developers import clean_text, list_developers, require_text
from termgate.settings import Settings


async def current_terms(session: AsyncSession) -> TermsVersion | None:
    query = select(TermsVersion).order_by(TermsVersion.published_at.desc()).limit(1)
    return await session.scalar(query)


async def all_versions(session: AsyncSession) -> list[TermsVersion]:
    query = select(TermsVersion).order_by(TermsVersion.published_at.desc())
    return list(await session.scalars(query))


async def find_version(session: AsyncSession, version: str) -> TermsVersion:
    found = await session.scalar(select(TermsVersion).where(TermsVersion.version == version))
    if found is None:
        raise RegistryError(f"no terms version {version!r}")
    return found


async def publish_terms(
    session: AsyncSession,
    settings: Settings,
    *,
    version: str,
    title: str,
    body: str,
    change_summary: str,
    actor: str,
    reaccept_days: int | None = None,
) -> TermsVersion:
    label = require_text("version", version, 32)
    if await session.scalar(select(TermsVersion.id).where(TermsVersion.version == label)):
        raise RegistryError(f"terms version {label} already exists; versions are immutable")
    now = settings.now()
    previous = await current_terms(session)
    days = settings.reaccept_days if reaccept_days is None else reaccept_days
    published = TermsVersion(
        version=label,
        title=require_text("title", title),
        body=require_text("terms text", body, 200_000, multiline=True),
        change_summary=clean_text("change summary", change_summary.strip(), multiline=True),
        effective_at=now,
        published_at=now,
        reaccept_deadline=now + timedelta(days=days) if previous is not None else None,
        published_by=actor,
    )
    session.add(published)
    await session.flush()
    await record(session, actor, "published-terms", "terms", published.id, f"version {label}")
    record_access_change(session, "terms", published.id)
    if previous is not None:
        for developer in await list_developers(session):
            notify_developer(
                session,
                developer,
                "terms",
                f"{published.title} {label}: please review",
                amendment_notice(published, settings),
            )
    return published


def amendment_notice(terms: TermsVersion, settings: Settings) -> str:
    deadline = terms.reaccept_deadline
    when = deadline.strftime("%d %B %Y %H:%M UTC") if deadline else "now"
    return (
        f"The provider published version {terms.version} of the {terms.title}.\n\n"
        f"What changed: {terms.change_summary or 'see the portal'}\n\n"
        f"Accept it in the developer portal before {when} ({settings.base_url}/portal/terms). "
        "After that, production requests of developers who have not accepted it are refused "
        "(clause 9); sandbox access continues."
    )


async def publish_reference_terms(
    session: AsyncSession, settings: Settings, actor: str = "system"
) -> TermsVersion:
    """The terms shipped in `terms/`, published once if no version exists yet."""
    existing = await current_terms(session)
    if existing is not None:
        return existing
    policy = load_policy(settings.terms_dir)
    return await publish_terms(
        session,
        settings,
        version=policy.version,
        title=policy.title,
        body=policy.document.read_text(),
        change_summary="First version.",
        actor=actor,
    )


async def accepted_versions(session: AsyncSession, developer: Developer) -> set[str]:
    query = select(TermsAcceptance.terms_version_id).where(
        TermsAcceptance.developer_id == developer.id
    )
    return set(await session.scalars(query))


async def has_accepted_current(session: AsyncSession, developer: Developer) -> bool:
    current = await current_terms(session)
    return current is not None and current.id in await accepted_versions(session, developer)


async def require_accepted_terms(session: AsyncSession, developer: Developer) -> None:
    """Clause 1: the licence starts on acceptance; no credential exists before it."""
    current = await current_terms(session)
    if current is None:
        raise RegistryError("the provider has not published terms yet (`termgate terms publish`)")
    if current.id not in await accepted_versions(session, developer):
        raise RegistryError(
            f"{developer.email} has not accepted version {current.version} of the terms; "
            "no credential can be issued before that (clause 1)"
        )


async def accept_terms(
    session: AsyncSession,
    developer: Developer,
    terms: TermsVersion,
    ip: str,
    user_agent: str,
    *,
    recorded_by: str | None = None,
) -> TermsAcceptance:
    """The developer's acceptance of a version; `recorded_by` names the administrator who records
    one made outside the portal (a signed agreement), who is then the audit trail's actor."""
    existing = await session.scalar(
        select(TermsAcceptance).where(
            TermsAcceptance.developer_id == developer.id,
            TermsAcceptance.terms_version_id == terms.id,
        )
    )
    if existing is not None:
        return existing
    acceptance = TermsAcceptance(
        developer_id=developer.id,
        terms_version_id=terms.id,
        ip=ip[:64],
        user_agent=user_agent[:500],
    )
    session.add(acceptance)
    await session.flush()
    reason = f"version {terms.version}"
    if recorded_by is not None:
        reason += f", accepted by {developer.email} outside the portal"
    await record(
        session,
        recorded_by or developer.email,
        "accepted-terms",
        "developer",
        developer.id,
        reason,
    )
    record_access_change(session, "developer", developer.id)
    return acceptance


async def changes_since_acceptance(
    session: AsyncSession, developer: Developer
) -> tuple[TermsVersion | None, list[str]]:
    """The version the developer accepted last, and a line diff from it to the current text."""
    current = await current_terms(session)
    accepted = await accepted_versions(session, developer)
    earlier = [v for v in await all_versions(session) if v.id in accepted]
    if current is None or not earlier or earlier[0].id == current.id:
        return (earlier[0] if earlier else None), []
    before = earlier[0]
    diff = difflib.unified_diff(
        before.body.splitlines(),
        current.body.splitlines(),
        f"version {before.version}",
        f"version {current.version}",
        lineterm="",
        n=1,
    )
    return before, list(diff)


async def acceptances(
    session: AsyncSession, terms: TermsVersion
) -> list[tuple[Developer, TermsAcceptance]]:
    query = (
        select(Developer, TermsAcceptance)
        .join(TermsAcceptance, TermsAcceptance.developer_id == Developer.id)
        .where(TermsAcceptance.terms_version_id == terms.id)
        .order_by(TermsAcceptance.accepted_at)
    )
    return [(d, a) for d, a in (await session.execute(query)).all()]


def past_deadline(terms: TermsVersion, now: datetime) -> bool:
    return terms.reaccept_deadline is not None and now >= terms.reaccept_deadline
