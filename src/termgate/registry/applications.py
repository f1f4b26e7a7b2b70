"""Applications: what a developer builds on the API; every credential belongs to one (clause 2)."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.models import Application, Developer
from termgate.registry.developers import clean_text, require_text

USE_CASE_CATEGORIES = {
    "accounting": "Accounting and bookkeeping",
    "hr": "HR and people management",
    "analytics": "Reporting and analytics",
    "benefits": "Pensions, insurance and benefits",
    "time": "Time, attendance and leave",
    "other": "Something else",
}

# How the application reads the data it is granted, as its developer declares it (clause 3.2).
# The harvest detector (clause 3.3 d) compares the reads it sees with this declaration: a
# synchronisation re-reads its customers' records on schedule, an on-demand application reads a
# record when one of its users opens it, a reporting one at the end of a period.
DATA_ACCESS = {
    "on_demand": "When one of its users opens a record (on demand)",
    "scheduled_sync": "Keeps a copy of its customers' records up to date on a schedule (a sync)",
    "periodic_reports": "For reports at the end of a period, such as a month",
}


def parse_redirect_uris(text: str) -> str:
    """One absolute URI per line: https, or http on the loopback for development; no fragments."""
    uris = [line.strip() for line in text.splitlines() if line.strip()]
    for uri in uris:
        clean_text("a redirect URI", uri)
        try:
            parts = urlsplit(uri)
            host = parts.hostname
        except ValueError:  # e.g. an unbalanced [ in the host
            host, parts = None, urlsplit("")
        secure = parts.scheme == "https" and bool(parts.netloc)
        loopback = parts.scheme == "http" and host in ("localhost", "127.0.0.1", "::1")
        if not (secure or loopback) or parts.fragment:
            raise RegistryError(
                f"{uri[:200]!r} is not a redirect URI: use https://… (http:// only for localhost), "
                "without a #fragment"
            )
    return "\n".join(uris)


async def create_application(
    session: AsyncSession,
    developer: Developer,
    *,
    name: str,
    description: str = "",
    use_case: str = "",
    use_case_category: str | None = None,
    data_access: str | None = None,
    requested_scopes: str = "",
    redirect_uris: str = "",
    expected_end_users: int | None = None,
    actor: str,
) -> Application:
    """A new sandbox application of `developer`, audited as `created` by `actor`."""
    title = require_text("application name", name)
    if use_case_category is not None and use_case_category not in USE_CASE_CATEGORIES:
        raise RegistryError(f"choose a use case category, not {use_case_category[:40]!r}")
    if data_access is not None and data_access not in DATA_ACCESS:
        raise RegistryError(
            f"say how the application reads data ({', '.join(DATA_ACCESS)}), "
            f"not {data_access[:40]!r}"
        )
    if expected_end_users is not None and not 0 < expected_end_users <= 10_000_000:
        raise RegistryError("the expected number of end users must be between 1 and 10,000,000")
    taken = await session.scalar(
        select(Application.id).where(
            Application.developer_id == developer.id, Application.name == title
        )
    )
    if taken:
        raise RegistryError(f"{developer.email} already has an application named {title!r}")
    application = Application(
        developer_id=developer.id,
        name=title,
        description=clean_text("description", description.strip()[:5000], multiline=True),
        use_case=clean_text("use case", use_case.strip()[:5000], multiline=True),
        use_case_category=use_case_category,
        data_access=data_access,
        requested_scopes=requested_scopes,
        redirect_uris=parse_redirect_uris(redirect_uris),
        expected_end_users=expected_end_users,
    )
    session.add(application)
    await session.flush()
    await record(
        session, actor, "created", "application", application.id, f"for developer {developer.id}"
    )
    return application


async def find_application(session: AsyncSession, reference: str) -> Application:
    """By id, or by name where exactly one application has it."""
    by_id = await session.get(Application, reference.strip())
    if by_id is not None:
        return by_id
    named = list(await session.scalars(select(Application).where(Application.name == reference)))
    if len(named) == 1:
        return named[0]
    if named:
        raise RegistryError(f"{len(named)} applications are named {reference!r}; give the id")
    raise NotFoundError(f"no application {reference!r} (give an id or a name)")


async def list_applications(
    session: AsyncSession, developer: Developer | None = None
) -> list[Application]:
    query = select(Application).order_by(Application.created_at)
    if developer is not None:
        query = query.where(Application.developer_id == developer.id)
    return list(await session.scalars(query))
