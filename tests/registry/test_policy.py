"""The terms policy (`terms/policy.toml`, `registry/policy.py`): every clause's severity and cure
period as clauses 4.2 and 6.2 need them, and a malformed file refused with the entry named."""

from __future__ import annotations

from pathlib import Path

import pytest

from termgate import problems
from termgate.registry.clauses import Clause, PolicyError, load_policy
from termgate.settings import load_settings

CRITICAL = {"3.3 a", "3.3 b", "3.3 c", "3.3 k", "3.3 l", "5.1", "6.4"}


def write_policy(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "policy.toml").write_text(text)
    return directory


def test_clause_4_2_critical_clauses_have_no_cure_period_and_the_rest_ten_days() -> None:
    policy = load_policy(load_settings().terms_dir)
    assert {c.id for c in policy.clauses.values() if c.severity == "critical"} == CRITICAL
    for clause in policy.clauses.values():
        # 4.2: plausible risk is met at once; 6.2: a breach gets ten days to be cured.
        assert clause.cure_days == (0 if clause.severity == "critical" else 10), clause
        assert clause.severity in ("minor", "major", "critical")
        assert clause.title
    assert policy.clause("3.3 a") == Clause(
        "3.3 a",
        "Share an end user's data only with that end user's explicit consent",
        "critical",
        0,
    )
    assert policy.clause("3.2").severity == "minor"
    assert policy.clause("3.3 g").severity == "major"
    assert policy.reaccept_days == 30
    assert policy.document.is_file()


def test_clause_3_1_every_refusal_names_a_clause_of_the_policy() -> None:
    policy = load_policy(load_settings().terms_dir)
    refusals = [value for value in vars(problems).values() if isinstance(value, problems.Refusal)]
    assert len(refusals) > 20
    unknown = {refusal.clause for refusal in refusals} - policy.clauses.keys()
    assert not unknown, unknown
    with pytest.raises(KeyError):
        policy.clause("99")


def test_clause_4_2_policy_file_defaults_and_its_own_values(tmp_path: Path) -> None:
    bare = load_policy(write_policy(tmp_path / "bare", ""))
    assert (bare.title, bare.version, bare.reaccept_days) == ("API Terms of Use", "1.0", 30)
    assert bare.document == tmp_path / "bare" / "terms.md"
    assert bare.clauses == {}
    own = load_policy(
        write_policy(
            tmp_path / "own",
            '[terms]\ntitle = "T"\nversion = "2.1"\nreaccept_days = 14\ndocument = "t.md"\n'
            '[[clause]]\nid = "9"\ntitle = "Amendments"\nseverity = "minor"\ncure_days = 5\n',
        )
    )
    assert (own.title, own.version, own.reaccept_days) == ("T", "2.1", 14)
    assert own.document == tmp_path / "own" / "t.md"
    assert own.clauses == {"9": Clause("9", "Amendments", "minor", 5)}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[clause]]\nid = "3.1"\ntitle = "x"\nseverity = "grave"\ncure_days = 1\n',
            "clause 3.1: unknown severity 'grave'",
        ),
        (
            '[[clause]]\nid = "3.2"\ntitle = "x"\nseverity = "minor"\n',
            "clause 3.2 lacks 'cure_days'",
        ),
        ('[[clause]]\ntitle = "x"\nseverity = "minor"\ncure_days = 1\n', "clause ? lacks 'id'"),
        ("[[clause]\n", "cannot read the terms policy"),
    ],
)
def test_clause_4_2_malformed_policy_is_refused_naming_the_entry(
    tmp_path: Path, text: str, message: str
) -> None:
    directory = write_policy(tmp_path / "bad", text)
    with pytest.raises(PolicyError, match=r"policy\.toml") as refused:
        load_policy(directory)
    assert message in str(refused.value)


def test_clause_4_2_missing_policy_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read the terms policy"):
        load_policy(tmp_path / "nowhere")
