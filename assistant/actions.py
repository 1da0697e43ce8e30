"""What a user can do in one turn, as data: say something, keep a take, or edit the brief's controls.

The chat, the 👍 on a take and the brief form are three ways in; each is one of these, so none of
them is turned into a sentence and read again (a form's "zydeco" stays the genre the user typed)."""
from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import BaseModel


class HeardClip(BaseModel):
    """What the session read from a clip that came with a message, for the dialogue to word:
    the clip kept (its id and length) or why it was refused."""

    clip_id: Optional[str] = None
    seconds: float = 0.0
    original_seconds: float = 0.0
    refused: Optional[str] = None  # a ClipRefused kind: too_big | format | empty | silent | unreadable | timeout
    values: dict[str, str] = {}


class Say(BaseModel):
    """A chat message, read by the dialogue; `clip` is an audio file that came with it (the session
    reads it and hands the dialogue `heard`)."""

    kind: Literal["say"] = "say"
    text: str
    clip: Optional[str] = None
    upload: bool = False  # the clip is a copy in the app's upload cache: deleted once read, never served again
    heard: Optional[HeardClip] = None


class KeepTake(BaseModel):
    """👍 on a take: any round's, not only the latest."""

    kind: Literal["keep"] = "keep"
    round: int
    number: int


class EditControls(BaseModel):
    """The brief form's Apply: only the controls the user changed, as values. An empty genre or an
    empty dropdown leaves that control as it is."""

    kind: Literal["edit"] = "edit"
    genre: Optional[str] = None
    bpm: Optional[float] = None
    brightness: Optional[str] = None
    width: Optional[str] = None
    space: Optional[str] = None

    def changes(self) -> dict[str, object]:
        return {k: v for k, v in self.model_dump(exclude={"kind"}).items() if v not in (None, "")}


Action = Union[Say, KeepTake, EditControls]
