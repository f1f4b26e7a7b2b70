"""What a pure function answered for the texts a worker process saw lately (paths, queries, keys).

Clients send the same few texts again and again, so a remembered answer costs a dict look-up
instead of the work. The memory is bounded: at most `capacity` texts of at most `longest`
characters, and when full it starts again, so a flood of distinct texts costs the work each
time, never memory or a slow eviction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

Answer = TypeVar("Answer")


class Memo(Generic[Answer]):
    __slots__ = ("_answers", "capacity", "get", "longest")

    def __init__(self, capacity: int, longest: int) -> None:
        self._answers: dict[str, Answer] = {}
        self.capacity = capacity
        self.longest = longest
        # `get(text)`: the answer remembered, or None. The dict's own method, so a hit runs no
        # Python frame (`remember` empties this same dict, never swaps it).
        self.get: Callable[[str], Answer | None] = self._answers.get

    def __len__(self) -> int:
        return len(self._answers)

    def __contains__(self, text: str) -> bool:
        return text in self._answers

    def __repr__(self) -> str:  # the texts may be secrets (keys): never shown
        return f"Memo({len(self._answers)} of {self.capacity})"

    def clear(self) -> None:
        self._answers.clear()

    def remember(self, text: str, answer: Answer) -> None:
        if len(text) > self.longest:
            return
        answers = self._answers
        if len(answers) >= self.capacity:
            answers.clear()
        answers[text] = answer
