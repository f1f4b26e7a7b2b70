"""Clause 4.2 / 6.2: the case state machine, every allowed and every refused transition."""

from __future__ import annotations

import pytest

from termgate.core.errors import RegistryError
from termgate.due_process.cases import FINAL, TRANSITIONS, Action, CaseState, next_state

EXPECTED = {
    ("open", "notice"): "noticed",
    ("open", "escalate"): "escalated",
    ("open", "close"): "closed",
    ("noticed", "extend"): "noticed",
    ("noticed", "accept"): "cured",
    ("noticed", "escalate"): "escalated",
    ("noticed", "close"): "closed",
    ("escalated", "suspend"): "suspended",
    ("escalated", "accept"): "cured",
    ("escalated", "close"): "closed",
    ("suspended", "accept"): "cured",
    ("suspended", "terminate"): "terminated",
    ("suspended", "close"): "closed",
    ("cured", "close"): "closed",
}
PAIRS = [(state, action) for state in CaseState for action in Action]


def test_clause_4_2_the_table_is_the_documented_procedure() -> None:
    assert {(s.value, a.value): t.value for (s, a), t in TRANSITIONS.items()} == EXPECTED


@pytest.mark.parametrize(("state", "action"), PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_clause_4_2_each_transition_is_allowed_or_refused(state: CaseState, action: Action) -> None:
    expected = EXPECTED.get((state.value, action.value))
    if expected is None:
        with pytest.raises(RegistryError, match=f"{state.value}.*{action.value}.*clause 4.2"):
            next_state(state, action)
    else:
        assert next_state(state, action).value == expected


def test_clause_6_2_terminated_and_closed_cases_are_final() -> None:
    for state in FINAL:
        assert not [a for (s, a) in TRANSITIONS if s is state]
    every_target = set(TRANSITIONS.values())
    assert every_target | {CaseState.OPEN} == set(CaseState)
