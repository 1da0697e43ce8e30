"""What a user can do in one turn, as data: say something, keep a take, or edit the brief's controls.

The chat, the 👍 on a take and the brief form are three ways in; each is one of these, so none of
them is turned into a sentence and read again (a form's "zydeco" stays the genre the user typed)."""
from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import BaseModel


class Say(BaseModel):
    """A chat message, read by the dialogue."""

    kind: Literal["say"] = "say"
    text: str


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
