"""What the music wing hands back: takes with their analysis, and progress while it works.

These plain models are the wing's seam with the conversation core (assistant.dialogue.state keeps them in
its rounds); besides the brief they share, they import nothing from the core."""
from __future__ import annotations

from typing import Any, Callable, Literal, Optional

from pydantic import BaseModel, Field

from assistant.brief import MusicBrief

ProgressFn = Callable[[float, Any], None]  # (fraction done, what is happening: a coded Fact, worded by the session)
ChunkFn = Callable[[list[Any]], None]  # newly decoded audio, one array per take, while generating


class Analysis(BaseModel):
    bpm: Optional[float] = None
    loudness_lufs: Optional[float] = None
    silence_tail_s: Optional[float] = None
    clipped: Optional[bool] = None


class Take(BaseModel):
    """One generated variation; its seed reproduces it."""

    number: int
    seed: int
    path: Optional[str] = None
    duration_s: float
    sample_rate: Optional[int] = None
    analysis: Optional[Analysis] = None
    sketch: bool = False  # rendered by the built-in sketch synthesiser, not MusicGen
    clip: Optional[Literal["follows", "continues"]] = None  # how a clip the user sent shaped the take


class Window(BaseModel):
    """One MusicGen generation: the text it is sent and how long it runs (assistant.prompt.render makes it)."""

    section: Optional[str] = None
    seconds: float
    prompt: str


class RenderRequest(BaseModel):
    """Everything a renderer needs for one round, and nothing of the conversation."""

    brief: MusicBrief  # the sketch plays it; the mix effects and the BPM check read it
    seeds: list[int]
    round_number: int
    windows: list[Window]  # what MusicGen is sent, in order
    negative_prompt: Optional[str] = None
    keep_paths: list[str] = Field(default_factory=list)  # kept takes the disk limits never remove


class Note(BaseModel):
    """Something the user should know about a round, as data; the session words it from
    prompts/replies.yaml (`note_<kind>`)."""

    kind: str  # sketch | unavailable | disk_removed | bpm_measured | silent_tail
    values: dict[str, Any] = Field(default_factory=dict)


class DiskFull(RuntimeError):
    """No room for a round once everything that may go has gone: what is left is kept takes (the
    writing conversation's own and others'), which the size limits never remove."""

    def __init__(self, held: int, used_mb: float, limit_mb: float):
        self.held, self.used_mb, self.limit_mb = held, used_mb, limit_mb
        super().__init__(f"kept takes: {used_mb:.0f}/{limit_mb:g} MB, held={held}")
