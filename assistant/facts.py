"""Coded facts: what a reader, the brief or the music wing found, before anyone words it.

A fact is a code (the name of a template in prompts/replies.yaml) with its values, like pydantic's
`PydanticCustomError(code, ..., ctx)`; assistant.wording alone turns it into a sentence."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Fact(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    values: dict[str, Any] = Field(default_factory=dict)


def fact(code: str, **values: Any) -> Fact:
    return Fact(code=code, values=values)


class FactError(RuntimeError):
    """An error whose message for users is a coded fact (the string form is for logs)."""

    def __init__(self, found: Fact) -> None:
        super().__init__(f"{found.code}: {found.values}")
        self.fact = found
