"""The scenarios as data: labelled, and varied by the seed (sizes, rates, timing) so detectors
are judged on behaviour, not on one population."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from termgate.simulate.plays import Actor, Call, NewKey, Outcome, Reach, Step, actors_of
from termgate.simulate.scenarios import (
    BUILDERS,
    HONEST_KINDS,
    MISUSE_BEHAVIOURS,
    MISUSE_KINDS,
    population,
)


def test_clause_4_1_every_kind_is_labelled_honest_or_with_the_detectors_it_should_meet() -> None:
    scenarios = population(seed=3, days=30)
    kinds = {s.kind for s in scenarios}
    assert kinds == set(HONEST_KINDS) | set(MISUSE_KINDS)
    for scenario in scenarios:
        if scenario.kind in HONEST_KINDS:
            assert scenario.label.honest
            assert scenario.label.detectors == ()
            assert scenario.misbehaviour_day is None
        else:
            assert not scenario.label.honest
            assert scenario.label.detectors
            assert scenario.label.clause.startswith("3.3")
            assert 0 <= (scenario.misbehaviour_day or 0) < 30
    # Honest integrations outnumber misusers, as they do in life.
    assert sum(s.label.honest for s in scenarios) == 2 * len(HONEST_KINDS)


def test_clause_4_1_the_seed_varies_sizes_rates_and_timing_and_repeats_exactly() -> None:
    first, again, other = population(1, 30), population(1, 30), population(2, 30)
    assert first == again
    assert [s.behaviours for s in first] != [s.behaviours for s in other]
    assert [s.address for s in first] != [s.address for s in other]


def test_clause_4_1_an_unknown_kind_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="no scenario kind harvest_everything"):
        population(1, 30, kinds=("harvest_everything",))


def steps_of(actor: Actor) -> list[Step]:
    """Every step the actor takes when each is answered 200."""
    steps: list[Step] = []
    try:
        step = next(actor)
        while len(steps) < 5000:
            steps.append(step)
            step = actor.send(Outcome(200))
    except StopIteration:
        pass
    return steps


def test_clause_4_1_actors_act_within_the_run_and_misuse_from_its_start_day() -> None:
    origin = datetime(2027, 3, 1, tzinfo=UTC).timestamp()
    reach = Reach(
        debtors=("d1",),
        companies={"d1": ("c1", "c2")},
        employees={"c1": tuple(f"e{n}" for n in range(30)), "c2": ("e99",)},
        foreign_debtors=("d2",),
        foreign_companies=("c3",),
        foreign_employees=("e500",),
        usernames=("someone@example.nl",),
    )
    for kind in BUILDERS:
        scenario = population(5, 4, kinds=(kind,))[0]
        for behaviour, actor in zip(
            scenario.behaviours, actors_of(scenario, reach, origin, 4), strict=True
        ):
            steps = steps_of(actor)
            assert all(origin <= s.at < origin + 5 * 86_400 for s in steps), kind
            if behaviour.kind in MISUSE_BEHAVIOURS:
                assert steps, kind
                assert min(s.at for s in steps) >= origin + behaviour.start_day * 86_400


def test_clause_3_3_g_the_key_multiplier_spreads_over_its_applications_and_new_keys() -> None:
    origin = datetime(2027, 3, 1, tzinfo=UTC).timestamp()
    (scenario,) = population(8, 3, kinds=("key_multiplier",))
    assert len(scenario.apps) >= 3
    reach = Reach(
        ("d1",), {"d1": ("c1",)}, {"c1": ("e1", "e2")}, (), (), (), (), len(scenario.apps)
    )
    (actor,) = actors_of(scenario, reach, origin, 3)
    steps: list[Step] = []
    try:
        step = next(actor)
        while True:
            steps.append(step)
            # Throttled every time: the client moves on to the next application.
            step = actor.send(Outcome(429, 1.0))
    except StopIteration:
        pass
    assert any(isinstance(s, NewKey) for s in steps)
    calls = [s for s in steps if isinstance(s, Call)]
    assert {c.app for c in calls} == set(range(len(scenario.apps)))


def _burst_calls(seed: int, scale: float) -> tuple[int, list[Call]]:
    origin = datetime(2027, 3, 1, tzinfo=UTC).timestamp()
    (scenario,) = population(seed, 2, scale, kinds=("key_multiplier",))
    reach = Reach(
        ("d1",), {"d1": ("c1",)}, {"c1": ("e1", "e2")}, (), (), (), (), len(scenario.apps)
    )
    (actor,) = actors_of(scenario, reach, origin, 2)
    calls: list[Call] = []
    try:
        step = next(actor)
        while True:
            if isinstance(step, Call):
                calls.append(step)
            step = actor.send(Outcome(200))  # never throttled
    except StopIteration:
        pass
    first_day = [c for c in calls if c.at < calls[0].at + 86_400 / 2]
    return len(scenario.apps), first_day


def test_clause_3_3_g_a_multiplier_burst_is_more_than_one_application_may_send() -> None:
    """Whatever the scale, a burst asks for more than 600 requests within a minute (the
    Production plan's limit), and some multipliers spread it over every application from the
    start, the others only after a throttling."""
    spreading = set()
    for seed in range(1, 9):
        apps, burst = _burst_calls(seed, 0.2)
        times = [c.at for c in burst]
        peak = max(sum(1 for t in times if start <= t < start + 60) for start in times)
        assert peak > 600, seed
        used = {c.app for c in burst}
        assert used in ({0}, set(range(apps))), seed
        spreading.add(used != {0})
    assert spreading == {True, False}
