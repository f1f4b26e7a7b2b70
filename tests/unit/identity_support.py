"""End users for the fast identity tests, shaped as the payroll product's import makes them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.oauth import EndUser

# These tests never sign an end user in; hashing a real password would cost most of their time.
NO_PASSWORD = "!no password: never signs in"


async def end_users(session: AsyncSession, count: int, first: int = 20) -> list[EndUser]:
    users = [
        EndUser(
            upstream_id=str(first + index),
            username=f"user{first + index}",
            email=f"user{first + index}@example.nl",
            display_name=f"User {first + index}",
            password_hash=NO_PASSWORD,
            debtor_ids="1,2,3,4,5",
        )
        for index in range(count)
    ]
    session.add_all(users)
    await session.flush()
    return users
