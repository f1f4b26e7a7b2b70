"""Users served (clause 4.4): a plan may cap the distinct end users and the distinct debtors an
application serves. The first ones in (by consent time) are served; a consent that would bring a
new end user or debtor beyond the cap is refused when given, and its tokens are refused at the
gateway should one slip through (two consents at once, or a cap lowered later)."""

from __future__ import annotations

from collections.abc import Iterable


def _debtors(listing: str) -> set[str]:
    return {part for part in listing.split(",") if part}


def over_cap(
    consents: Iterable[tuple[str, str, str]],
    max_end_users: int | None,
    max_debtors: int | None,
) -> frozenset[str]:
    """The ids of the consents beyond the caps, among (id, end user, debtor ids) in the order
    they were given."""
    users: set[str] = set()
    debtors: set[str] = set()
    beyond: set[str] = set()
    for consent_id, end_user_id, debtor_ids in consents:
        new_user = end_user_id not in users
        new_debtors = _debtors(debtor_ids) - debtors
        if (new_user and max_end_users is not None and len(users) >= max_end_users) or (
            new_debtors
            and max_debtors is not None
            and len(debtors) + len(new_debtors) > max_debtors
        ):
            beyond.add(consent_id)
            continue
        users.add(end_user_id)
        debtors |= new_debtors
    return frozenset(beyond)


def admits_new(
    served_users: set[str],
    served_debtors: set[str],
    end_user_id: str,
    debtors: Iterable[str],
    max_end_users: int | None,
    max_debtors: int | None,
) -> str | None:
    """Why a new consent would go beyond the caps (None when it fits). End users and debtors
    already served may always consent again."""
    if (
        max_end_users is not None
        and end_user_id not in served_users
        and len(served_users) >= max_end_users
    ):
        return (
            f"This application already serves the {max_end_users} end users its plan allows; "
            "it cannot connect to more accounts until its developer upgrades the plan."
        )
    new = set(debtors) - served_debtors  # canonical ids on both sides
    if max_debtors is not None and new and len(served_debtors) + len(new) > max_debtors:
        return (
            f"This application already serves {len(served_debtors)} of the {max_debtors} "
            "customer accounts its plan allows; choose accounts it already serves, or ask its "
            "developer to upgrade the plan."
        )
    return None
