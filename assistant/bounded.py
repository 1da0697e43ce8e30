"""A bounded, locked, least-recently-used store: the one shape of every in-memory cache that many
users fill (conversations a reload finds, kept files per conversation, unmixed takes)."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Generic, Hashable, Optional, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedStore(Generic[K, V]):
    """At most `limit` in all, each value weighing `weight(value)` (1 each by default); putting a
    value makes it the newest, and the oldest go first. The newest always stays, whatever it weighs."""

    def __init__(self, limit: float, weight: Optional[Callable[[V], float]] = None) -> None:
        self.limit = limit
        self._weight = weight or (lambda _: 1.0)
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > 1 and sum(self._weight(v) for v in self._items.values()) > self.limit:
                self._items.popitem(last=False)

    def get(self, key: Optional[K]) -> Optional[V]:
        with self._lock:
            return self._items.get(key) if key is not None else None

    def pop(self, key: Optional[K]) -> None:
        with self._lock:
            self._items.pop(key, None)

    def values(self) -> list[V]:
        with self._lock:
            return list(self._items.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
