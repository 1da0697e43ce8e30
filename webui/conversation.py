"""One browser session's conversation: the Session (dialogue state) and its chat messages."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.session import Session


@dataclass
class Conversation:
    session: Session
    history: list[Any] = field(default_factory=list)  # gr.ChatMessage, rendered by the Chatbot
    take_at: dict[int, int] = field(default_factory=dict)  # chat index of a take's player -> take number
