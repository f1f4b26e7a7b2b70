"""Clause 3.3 f in the simulator: the flooder stays under its plan's rate limit (at most 600 a
minute, the Standard plan's burst) yet sends each minute's requests all at once, for long enough
to be sustained load, and is labelled for stability only."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import pytest

from termgate.simulate.plays import Burst, Outcome, Reach, actors_of
from termgate.simulate.scenarios import population

RATE_PER_MINUTE = 600  # terms/catalogue.toml, the Production Standard plan


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clause_3_3_f_the_flooder_sends_its_minutes_allowance_at_once(seed: int) -> None:
    origin = datetime(2027, 3, 1, tzinfo=UTC).timestamp()
    reach = Reach(
        debtors=("d1",),
        companies={"d1": ("c1", "c2")},
        employees={"c1": tuple(f"e{n}" for n in range(250)), "c2": ("e999",)},
        foreign_debtors=(),
        foreign_companies=(),
        foreign_employees=(),
        usernames=(),
    )
    [scenario] = population(seed, 4, scale=0.5, kinds=("flooder",))
    assert (scenario.label.detectors, scenario.label.clause) == (("stability",), "3.3 f")
    [actor] = actors_of(scenario, reach, origin, 4)
    bursts = []
    step = next(actor)
    while True:
        assert isinstance(step, Burst)
        bursts.append(step)
        try:
            step = actor.send(Outcome(200, 0.0, (200,) * len(step.paths)))
        except StopIteration:
            break
    assert bursts
    assert all(100 < len(b.paths) < RATE_PER_MINUTE for b in bursts)
    assert all("pageSize=100" in path for b in bursts for path in b.paths)
    gaps = [later.at - earlier.at for earlier, later in pairwise(bursts)]
    assert min(gaps) >= 60.0  # never two bursts in one minute: under the rate limit
    runs = sum(1 for gap in gaps if gap == 60.0)
    assert runs >= 19  # at least one session of 20 minutes in a row
