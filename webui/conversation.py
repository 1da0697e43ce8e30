"""One browser session's conversation (its Session, which holds the turn records), and the store
that brings it back after a page reload."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Optional

from assistant import limits
from assistant.bounded import BoundedStore
from assistant.app.session import Session


@dataclass
class Conversation:
    session: Session  # its records are what the chat is rebuilt from
    key: str = field(default_factory=lambda: secrets.token_urlsafe(18))  # what the browser keeps
    takes_at: dict[int, tuple[int, int]] = field(default_factory=dict)  # shown chat index -> (round, take)
    window_start: int = 0  # messages left off the front of the chat last sent (visible_history)
    controls_shown: Optional[tuple] = None  # the form's and sliders' values last sent to this browser


class ConversationStore:
    """The last MAX_CONVERSATIONS_KEPT conversations by key: a reload finds its conversation here
    (the browser keeps only the key, in its local storage)."""

    def __init__(self, size: Optional[int] = None):
        self.size = size or limits.MAX_CONVERSATIONS_KEPT
        self._items: BoundedStore[str, Conversation] = BoundedStore(self.size)

    def remember(self, conv: Conversation) -> None:
        self._items.put(conv.key, conv)

    def find(self, key: Optional[str]) -> Optional[Conversation]:
        return self._items.get(key) if isinstance(key, str) else None

    def forget(self, key: Optional[str]) -> None:
        self._items.pop(key or "")
