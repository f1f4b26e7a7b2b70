"""The demo's registry: one developer with one sandbox application and a working key.

Seeding is idempotent: run again, it keeps what exists and reuses the key recorded in the
credentials file while that key is still live (a key's secret cannot be read back from its hash).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.models import Application, Developer, Status
from termgate.registry.applications import create_application
from termgate.registry.developers import create_developer
from termgate.registry.keys import issue_key, key_for_secret, subscribe
from termgate.registry.products import ensure_default_products, find_plan

DEMO_DEVELOPER = ("dev@payroll-insights.example", "Demi de Vries", "Payroll Insights B.V.")
DEMO_APPLICATION = "Payroll Insights"
DEMO_USE_CASE = "Dashboards of salary costs per company for the customer's own accountants."


@dataclass(frozen=True)
class DemoCredentials:
    """What `var/demo-credentials.json` holds for people and scripts."""

    gateway_url: str
    subscription_key: str
    developer_email: str
    application_id: str

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        if path.is_file():  # a secret: readable by its owner only
            path.chmod(0o600)


def read_previous_key(path: Path) -> str | None:
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    key = stored.get("subscription_key") if isinstance(stored, dict) else None
    return key if isinstance(key, str) else None


async def _demo_application(session: AsyncSession) -> tuple[Developer, Application]:
    email, name, organisation = DEMO_DEVELOPER
    developer = await session.scalar(select(Developer).where(Developer.email == email))
    if developer is None:
        developer = await create_developer(
            session, email=email, name=name, organisation=organisation
        )
    application = await session.scalar(
        select(Application).where(
            Application.developer_id == developer.id, Application.name == DEMO_APPLICATION
        )
    )
    if application is None:
        application = await create_application(
            session, developer, name=DEMO_APPLICATION, use_case=DEMO_USE_CASE
        )
    return developer, application


async def seed_demo(
    session: AsyncSession, gateway_url: str, previous_key: str | None = None
) -> DemoCredentials:
    await ensure_default_products(session)
    developer, application = await _demo_application(session)
    subscription = await subscribe(session, application, await find_plan(session, "sandbox"))
    secret = previous_key
    if secret is not None:
        row = await key_for_secret(session, secret)
        if row is None or row.status is not Status.ACTIVE or row.subscription_id != subscription.id:
            secret = None
    if secret is None:
        secret = (await issue_key(session, subscription)).secret
    return DemoCredentials(gateway_url, secret, developer.email, application.id)
