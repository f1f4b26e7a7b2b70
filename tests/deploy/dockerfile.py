"""A small reader of a Dockerfile: its instructions, continuation lines joined, comments dropped,
grouped by build stage; enough to check what the image does without building it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, USER, ...
    arguments: str

    def exec_form(self) -> list[str] | None:
        """The JSON array form (`["termgate"]`), or None for the shell form."""
        text = self.arguments.strip()
        if not text.startswith("["):
            return None
        value = json.loads(text)
        assert isinstance(value, list)
        return [str(item) for item in value]


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [item for item in self.instructions if item.keyword == keyword]


@dataclass
class Dockerfile:
    arguments: dict[str, str]  # ARGs before the first FROM, with their defaults
    stages: list[Stage]

    def base_of(self, stage: Stage) -> str:
        """The stage's image with ${ARG} defaults filled in."""
        return re.sub(
            r"\$\{(\w+)\}|\$(\w+)",
            lambda match: self.arguments[match.group(1) or match.group(2)],
            stage.base,
        )


def instructions(text: str) -> list[Instruction]:
    found = []
    logical = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or (not stripped and not logical):
            continue
        if stripped.endswith("\\"):
            logical += stripped[:-1] + " "
            continue
        logical += stripped
        keyword, _, arguments = logical.partition(" ")
        found.append(Instruction(keyword.upper(), " ".join(arguments.split())))
        logical = ""
    assert not logical, "a continuation line ends the file"
    return found


def read_dockerfile(path: Path) -> Dockerfile:
    arguments: dict[str, str] = {}
    stages: list[Stage] = []
    for item in instructions(path.read_text()):
        if item.keyword == "FROM":
            base, _, name = item.arguments.partition(" AS ")
            stages.append(Stage(base.strip(), name.strip() or None))
        elif not stages and item.keyword == "ARG":
            name, _, default = item.arguments.partition("=")
            arguments[name] = default
        else:
            assert stages, f"{item.keyword} before the first FROM"
            stages[-1].instructions.append(item)
    return Dockerfile(arguments, stages)
