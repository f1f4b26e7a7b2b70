"""A least-recently-used map bounded by the total weight of its values."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


def _one(_: object) -> int:
    return 1


class BoundedLRU(Generic[K, V]):
    """At most `capacity` in total weight (each value weighs 1 unless `weight` says otherwise);
    putting a value past the bound drops the least recently used first. A hit is a dict lookup
    and a move to the end, both O(1)."""

    __slots__ = ("_data", "capacity", "total", "weight")

    def __init__(self, capacity: int, weight: Callable[[V], int] = _one) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.weight = weight
        self.total = 0
        self._data: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: K) -> bool:
        return key in self._data

    def get(self, key: K) -> V | None:
        data = self._data
        value = data.get(key)
        if value is not None:
            data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        old = self._data.pop(key, None)
        if old is not None:
            self.total -= self.weight(old)
        self._data[key] = value
        self.total += self.weight(value)
        while self.total > self.capacity and self._data:
            _, dropped = self._data.popitem(last=False)
            self.total -= self.weight(dropped)

    def discard(self, key: K) -> None:
        old = self._data.pop(key, None)
        if old is not None:
            self.total -= self.weight(old)
