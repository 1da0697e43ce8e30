"""The music wing: rounds in, takes out, behind one seam (`Renderer`).

Only assistant.app.services builds a renderer; the conversation core sees the seam's types
(assistant.takes) and this protocol, never the models, the synthesiser or the effects."""
from __future__ import annotations

import threading
from typing import Any, Optional, Protocol

from assistant.facts import Fact

from assistant.takes import Analysis, ChunkFn, DiskFull, Note, ProgressFn, RenderRequest, Take, Window


class Renderer(Protocol):
    unavailable: Optional[Fact]  # why MusicGen can't play here, once that is known (coded)

    @property
    def in_use(self) -> str:
        """What really plays: 'musicgen' or 'sketch'."""

    @property
    def sample_rate(self) -> int: ...

    def render_round(self, request: RenderRequest, folder_name: str = "session",
                     progress: Optional[ProgressFn] = None, cancel: Optional[threading.Event] = None,
                     on_chunk: Optional[ChunkFn] = None, melody: Optional[Any] = None) -> tuple[list[Take], list[Note]]: ...

    def remix_round(self, request: RenderRequest, source: list[Take], folder_name: str = "session",
                    cancel: Optional[threading.Event] = None, progress: Optional[ProgressFn] = None
                    ) -> Optional[tuple[list[Take], list[Note]]]: ...

    def keep(self, paths: list[str], folder_name: str = "session") -> None: ...


__all__ = ["Analysis", "ChunkFn", "DiskFull", "Note", "ProgressFn", "RenderRequest", "Renderer", "Take", "Window"]
