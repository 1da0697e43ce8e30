"""Conversation state and replies as data: the dialogue is a pure function over these."""
from __future__ import annotations

import random
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from assistant.brief import Melody, MusicBrief
from assistant.limits import MAX_TAKES
from assistant.music import Analysis, ProgressFn, Take, Window  # noqa: F401  (the music wing's seam types)

Action = Literal["ask", "generate", "answer"]
Phase = Literal["new", "collecting", "generated"]


class TakeRef(BaseModel):
    """A take as a reply points at it: its round and its number there."""

    round: int
    number: int


class Round(BaseModel):
    """One generation: the brief and prompt it used, its seeds, and the takes once rendered."""

    number: int
    brief: MusicBrief
    prompt: str  # the brief in MusicGen's words, as the reply quotes it
    seeds: list[int]
    windows: list[Window] = Field(default_factory=list)  # exactly what MusicGen is sent, window by window
    negative_prompt: Optional[str] = None
    takes: list[Take] = Field(default_factory=list)
    remix_of: Optional[int] = None  # a mix-only edit: this round re-mixes that round's takes, instantly
    extends: Optional[TakeRef] = None  # "extend take 2 by 10 s": this round continues that take from its end
    extend_s: float = 0.0
    continues: Optional[Melody] = None  # "continue this" with a clip: every take starts with the clip, then goes on


class Settings(BaseModel):
    model_config = ConfigDict(validate_assignment=True)

    llm: str = "off"
    music: str = "off"
    seed: int = 0  # base of every derived seed: same settings, same conversation
    takes: int = Field(default=2, ge=1, le=MAX_TAKES)


class State(BaseModel):
    settings: Settings = Field(default_factory=Settings)
    said_settings: list[str] = Field(default_factory=list)  # settings the user set in the chat ("takes")
    brief: MusicBrief = Field(default_factory=MusicBrief)
    phase: Phase = "new"
    user_paths: list[str] = Field(default_factory=list)  # set from the user's own words
    filled_paths: list[str] = Field(default_factory=list)  # filled from a genre profile
    inferred_paths: list[str] = Field(default_factory=list)  # inferred from references or the LLM's choice
    inferred_from: list[str] = Field(default_factory=list)  # what they were inferred from, for "why?"
    questions_asked: int = 0
    pending: Optional[str] = None  # the control the last question asked about
    pending_options: list[str] = Field(default_factory=list)
    pending_message: Optional[str] = None  # a message held while asking "new song or change this one?"
    song: int = 1
    rounds: list[Round] = Field(default_factory=list)
    rounds_started: int = 0  # numbers rounds uniquely, so a generation finds the round that started it
    kept_seed: Optional[int] = None
    kept_number: Optional[int] = None  # the kept take's number: it keeps it in the rounds that follow
    kept: Optional[TakeRef] = None  # the take the user kept, itself: its file is protected, not its re-mixes
    told_instrumental: bool = False  # "MusicGen sings no words" is said once per conversation
    clip: Optional[Melody] = None  # the last clip the user sent: "continue my clip" continues it
    turn: int = 0

    @property
    def last_round(self) -> Optional[Round]:
        return self.rounds[-1] if self.rounds else None

    def round_position(self, number: int) -> int:
        """Rounds as the user counts them (1, 2, 3 ...), whatever the internal numbers of stopped rounds."""
        return next((i for i, r in enumerate(self.rounds, start=1) if r.number == number), number)

    def derived_seeds(self, count: int) -> list[int]:
        """Fresh seeds, reproducible from the settings seed, the song and the round."""
        rng = random.Random(f"{self.settings.seed}:{self.song}:{len(self.rounds)}:{self.turn}")
        return [rng.randrange(1, 2**31) for _ in range(count)]


class Reply(BaseModel):
    text: str
    action: Action
    asks_about: list[str] = Field(default_factory=list)
    options: list[str] = Field(default_factory=list)
    changed: list[str] = Field(default_factory=list)
    filled: list[str] = Field(default_factory=list)
    prompt: Optional[str] = None
    seeds: list[int] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
    stopped: bool = False  # a generation was cancelled: its round is gone, earlier takes stay
    summary: str = ""  # the one or two lines a chat shows; `text` adds the details for the CLI
    details: list[str] = Field(default_factory=list)  # the prompt, what was filled, seeds: shown folded
    takes: list[TakeRef] = Field(default_factory=list)  # takes the reply shows: one to play, two to compare


def discard_round(state: State, number: int) -> State:
    """The state without a cancelled round: earlier rounds, takes and the brief stay as they were."""
    rounds = [r for r in state.rounds if r.number != number]
    phase = "generated" if rounds else ("collecting" if state.brief != MusicBrief() else "new")
    return state.model_copy(update={"rounds": rounds, "phase": phase})


def new_song_state(settings: Settings, song: int = 1, carried: Optional[State] = None) -> State:
    """A fresh brief; what the user set for every song (takes per round, a length) carries over, and
    so does what they were already told."""
    fresh = State(settings=settings, song=song)
    if carried is not None:
        fresh.said_settings = list(carried.said_settings)
        fresh.told_instrumental = carried.told_instrumental
        fresh.rounds_started = carried.rounds_started
        fresh.clip = carried.clip
        if "duration_s" in carried.user_paths:
            fresh.brief = fresh.brief.model_copy(update={"duration_s": carried.brief.duration_s})
            fresh.user_paths = ["duration_s"]
    return fresh
