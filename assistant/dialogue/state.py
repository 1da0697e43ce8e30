"""Conversation state and its turns as data: the dialogue is a pure function over these.

The state is the one record of a conversation: the brief and who set each value (`sources`), the
rounds, and the log of turns (`turns`), each with the takes it made. A reload, the CLI and the
tests all read this log."""
from __future__ import annotations

import random
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from assistant.brief import LEAF_PATHS, Melody, MusicBrief
from assistant.limits import FRESH_SEED_LIMIT, MAX_TAKES
from assistant.takes import Take, Window

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


SourceKind = Literal["said", "inferred", "filled"]


class Source(BaseModel):
    """Who set one value of the brief: the user's words (shown bold), an inference from a named
    artist, work or the LLM's choice (italics), or a genre profile's default (italics)."""

    model_config = ConfigDict(frozen=True)

    kind: SourceKind
    origin: Optional[str] = None  # inferred: what from ("daft punk"); filled: the genre profile


class Turn(BaseModel):
    """One turn, the one record of it: the dialogue's reply, and what the session adds once the
    turn has run (the user's words as the chat shows them, the brief after it, the takes it made).
    The CLI's --json prints these; the web app draws the chat from them."""

    user: str = ""
    reply: str  # the whole reply (the CLI's); `summary` is what a chat shows
    action: Action
    asks_about: list[str] = Field(default_factory=list)
    options: list[str] = Field(default_factory=list)
    brief: dict[str, Any] = Field(default_factory=dict)
    prompt: Optional[str] = None
    changed: list[str] = Field(default_factory=list)
    filled: list[str] = Field(default_factory=list)
    takes: list[Take] = Field(default_factory=list)  # the takes this turn's round made: stored here only
    seeds: list[int] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
    summary: str = ""  # the one or two lines a chat shows
    details: list[str] = Field(default_factory=list)  # folded in a chat: prompt, filled values, seeds, analysis
    round: Optional[int] = None  # the round this turn made, when it made one
    stopped: bool = False  # a generation was cancelled: its round is gone, earlier takes stay
    shows: list[TakeRef] = Field(default_factory=list)  # takes the reply points at: one to play, two to compare


class State(BaseModel):
    settings: Settings = Field(default_factory=Settings)
    said_settings: list[str] = Field(default_factory=list)  # settings the user set in the chat ("takes")
    brief: MusicBrief = Field(default_factory=MusicBrief)
    phase: Phase = "new"
    sources: dict[str, Source] = Field(default_factory=dict)  # brief path -> who set it
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
    turns: list[Turn] = Field(default_factory=list)  # every finished turn of the conversation, across songs

    @property
    def last_round(self) -> Optional[Round]:
        return self.rounds[-1] if self.rounds else None

    def _paths(self, kind: SourceKind) -> list[str]:
        return [p for p in LEAF_PATHS if p in self.sources and self.sources[p].kind == kind]

    @property
    def user_paths(self) -> list[str]:
        """Set from the user's own words (or a control they moved)."""
        return self._paths("said")

    @property
    def inferred_paths(self) -> list[str]:
        return self._paths("inferred")

    @property
    def filled_paths(self) -> list[str]:
        return self._paths("filled")

    def set_sources(self, paths: list[str], kind: SourceKind, origin: Optional[str] = None) -> None:
        """Record who set these values (the dialogue's own copy of the state: it is the one writer)."""
        self.sources = {**self.sources, **{p: Source(kind=kind, origin=origin) for p in paths}}

    def forget_sources(self, paths: list[str], kind: Optional[SourceKind] = None) -> None:
        """These values no longer have a source (cleared), or no longer this kind of source."""
        self.sources = {p: s for p, s in self.sources.items() if p not in paths or (kind and s.kind != kind)}

    def takes_of(self, round_number: Optional[int]) -> list[Take]:
        """A round's takes, from the turn that made it (the one place takes are kept)."""
        turn = next((t for t in reversed(self.turns) if t.round == round_number), None)
        return list(turn.takes) if turn is not None and round_number is not None else []

    def round_position(self, number: int) -> int:
        """Rounds as the user counts them (1, 2, 3 ...), whatever the internal numbers of stopped rounds."""
        return next((i for i, r in enumerate(self.rounds, start=1) if r.number == number), number)

    def derived_seeds(self, count: int) -> list[int]:
        """Fresh seeds, reproducible from the settings seed, the song and the round."""
        rng = random.Random(f"{self.settings.seed}:{self.song}:{len(self.rounds)}:{self.turn}")
        return [rng.randrange(1, FRESH_SEED_LIMIT) for _ in range(count)]


def with_turn(state: State, turn: Turn) -> State:
    """The state with one finished turn in its log (the session records each turn once, with its takes)."""
    return state.model_copy(update={"turns": [*state.turns, turn]})


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
        fresh.turns = list(carried.turns)  # the conversation's log goes on across songs
        fresh.said_settings = list(carried.said_settings)
        fresh.told_instrumental = carried.told_instrumental
        fresh.rounds_started = carried.rounds_started
        fresh.clip = carried.clip
        if "duration_s" in carried.user_paths:
            fresh.brief = fresh.brief.model_copy(update={"duration_s": carried.brief.duration_s})
            fresh.set_sources(["duration_s"], "said")
    return fresh
