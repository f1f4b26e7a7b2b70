"""Issue 12: a harvester seeks breadth. Whatever the seed's world, its logins reach at least the
number of employees its notes ask for (or every login's), where an honest party keeps its own."""

from __future__ import annotations

import pytest

from termgate.reference_api import generate
from termgate.simulate.reach import choose_logins, employees_reached
from termgate.simulate.scenarios import population


@pytest.mark.parametrize("seed", [1, 2, 5])
def test_clause_3_3_d_harvesters_win_consents_until_they_reach_breadth(seed: int) -> None:
    world = generate(seed, 2000)
    everyone = employees_reached(world, [user.username for user in world.end_users])
    for scenario in population(seed, 8, kinds=("fast_harvester", "slow_harvester", "on_demand")):
        logins = choose_logins(world, scenario)
        assert len(set(logins)) == len(logins) >= min(scenario.logins, len(world.end_users))
        wanted = scenario.notes.get("reach_at_least")
        if wanted is None:
            assert len(logins) == scenario.logins
        else:
            assert isinstance(wanted, int)
            assert employees_reached(world, logins) >= min(wanted, everyone)
