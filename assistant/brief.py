"""The five-control music brief: the one schema of the project.

Its JSON form is a public contract read by tests, the CLI and the UI, so field names and
shapes here change only together with the README.
"""
from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from assistant.limits import (BPM_MAX, BPM_MIN, DEFAULT_DURATION_S, DURATION_MAX_S, DURATION_MIN_S, MAX_ITEMS,
                              MAX_WORDS, SEED_MAX, THEME_MAX_WORDS)
from assistant.facts import Fact

__all__ = ["BPM_MAX", "BPM_MIN", "DEFAULT_DURATION_S", "DURATION_MAX_S", "DURATION_MIN_S", "MAX_ITEMS", "MAX_WORDS",
           "THEME_MAX_WORDS", "BriefRefused", "MusicBrief", "Melody", "LEAF_PATHS", "CONTROLS", "get_path",
           "with_value", "refusals", "is_empty", "diff", "before_outro"]


def _refuse(code: str, **values: object) -> PydanticCustomError:
    """A coded refusal: the code names a `schema_<code>` reply in prompts/replies.yaml, which
    assistant.wording fills with these values; the message here is for developers only."""
    return PydanticCustomError(code, f"{code}: {{values}}", {"values": values, **values})

MixBrightness = Optional[Literal["bright", "dark", "balanced"]]
MixWidth = Optional[Literal["wide", "narrow", "balanced"]]
MixSpace = Optional[Literal["dry", "reverberant", "balanced"]]


def _check_phrase(value: str) -> str:
    """A slot value is a short, clean phrase: MusicGen prompts degrade with rambling text."""
    cleaned = " ".join(str(value).split()).strip(" ,.;:")
    if not cleaned:
        raise _refuse("empty")
    if len(cleaned.split()) > MAX_WORDS:
        raise _refuse("too_long", phrase=cleaned, max=MAX_WORDS)
    return cleaned.lower()


def _check_phrases(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        phrase = _check_phrase(v)
        if phrase not in out:
            out.append(phrase)
    if len(out) > MAX_ITEMS:
        raise _refuse("too_many", max=MAX_ITEMS, got=len(out))
    return out


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Style(_Strict):
    genre: Optional[str] = None
    influences: list[str] = Field(default_factory=list)  # further named genres: "with trap influences"
    key: Optional[str] = None  # "d minor", or only the mode: "minor"
    mood: list[str] = Field(default_factory=list)

    _genre = field_validator("genre", "key")(lambda v: None if v is None else _check_phrase(v))
    _mood = field_validator("mood", "influences")(_check_phrases)


class Tempo(_Strict):
    bpm: Optional[int] = None
    feel: Optional[str] = None

    @field_validator("bpm")
    @classmethod
    def _bpm_in_range(cls, v: Optional[int]) -> Optional[int]:
        if v is not None and not BPM_MIN <= v <= BPM_MAX:
            raise _refuse("bpm", bpm=v, low=BPM_MIN, high=BPM_MAX)
        return v

    _feel = field_validator("feel")(lambda v: None if v is None else _check_phrase(v))


class Palette(_Strict):
    instruments: list[str] = Field(default_factory=list)
    production: list[str] = Field(default_factory=list)

    _lists = field_validator("instruments", "production")(_check_phrases)


class Structure(_Strict):
    sections: list[str] = Field(default_factory=list)

    @field_validator("sections")
    @classmethod
    def _sections(cls, values: list[str]) -> list[str]:
        # Sections repeat on purpose (verse chorus verse chorus), so no de-duplication here.
        out = [_check_phrase(v) for v in values]
        if len(out) > MAX_ITEMS:
            raise _refuse("too_many_sections", max=MAX_ITEMS, got=len(out))
        return out


class Mix(_Strict):
    brightness: MixBrightness = None
    width: MixWidth = None
    space: MixSpace = None


class Melody(_Strict):
    """A clip the user gave for the takes to follow (MusicGen-melody reads its chroma; the sketch
    plays its pitches). The audio stays with the session; the brief records which clip and how long."""

    clip_id: str = Field(pattern=r"^[a-f0-9]{8,32}$")
    seconds: float = Field(gt=0)


class MusicBrief(_Strict):
    style: Style = Field(default_factory=Style)
    tempo: Tempo = Field(default_factory=Tempo)
    palette: Palette = Field(default_factory=Palette)
    structure: Structure = Field(default_factory=Structure)
    mix: Mix = Field(default_factory=Mix)
    exclude: list[str] = Field(default_factory=list)
    duration_s: float = DEFAULT_DURATION_S
    seed: Optional[int] = None
    theme: Optional[str] = None  # what the song is about: kept for the talk, never sent to MusicGen
    melody: Optional[Melody] = None  # a clip to follow: set by the user, kept by every edit until dropped

    _exclude = field_validator("exclude")(_check_phrases)

    @field_validator("theme")
    @classmethod
    def _theme(cls, v: Optional[str]) -> Optional[str]:
        if v is None:
            return None
        words = " ".join(str(v).split()).strip(" ,.;:!?\"'").split()
        return " ".join(words[:THEME_MAX_WORDS]) or None

    @field_validator("duration_s")
    @classmethod
    def _duration(cls, v: float) -> float:
        if not DURATION_MIN_S <= v <= DURATION_MAX_S:
            raise _refuse("duration", seconds=f"{v:g}", low=f"{DURATION_MIN_S:g}", high=f"{DURATION_MAX_S:g}")
        return round(float(v), 2)

    @field_validator("seed")
    @classmethod
    def _seed(cls, v: Optional[int]) -> Optional[int]:
        if v is not None and not 0 <= v <= SEED_MAX:
            raise _refuse("seed", high=SEED_MAX)
        return v


CONTROLS = ("style", "tempo", "palette", "structure", "mix")

# Every leaf of the brief by dotted path; the dialogue tracks who set each one.
LEAF_PATHS = (
    "style.genre", "style.influences", "style.key", "style.mood", "tempo.bpm", "tempo.feel",
    "palette.instruments", "palette.production", "structure.sections",
    "mix.brightness", "mix.width", "mix.space", "exclude", "duration_s", "seed", "theme", "melody",
)

# The brief panel's groups: the five controls, then the rest (every leaf once).
PANEL_GROUPS = {
    "style": ("style.genre", "style.influences", "style.key", "style.mood"),
    "tempo": ("tempo.bpm", "tempo.feel"),
    "palette": ("palette.instruments", "palette.production"),
    "structure": ("structure.sections",),
    "mix": ("mix.brightness", "mix.width", "mix.space"),
    "other": ("theme", "melody", "exclude", "duration_s", "seed"),
}
assert sorted(p for paths in PANEL_GROUPS.values() for p in paths) == sorted(LEAF_PATHS)


def get_path(brief: MusicBrief, path: str) -> Any:
    obj: Any = brief
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


class BriefRefused(ValueError):
    """A value the schema refused, as coded facts (assistant.wording words them)."""

    def __init__(self, facts: list[Fact]) -> None:
        super().__init__("; ".join(f"{f.code} {f.values}" for f in facts))
        self.facts = facts


def with_value(brief: MusicBrief, path: str, value: Any) -> MusicBrief:
    """Return a copy with one leaf set; raises BriefRefused, whose facts the caller words."""
    data = brief.model_dump()
    node = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value
    try:
        return MusicBrief.model_validate(data)
    except ValidationError as err:
        raise BriefRefused(refusals(err)) from None  # the caller names the field in words


def refusals(err: ValidationError) -> list[Fact]:
    """The schema's refusals as coded facts: our own codes with their values, pydantic's others
    (a wrong type, a pattern) under `schema_other` with pydantic's own message."""
    facts = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"] if not isinstance(p, int))
        values = dict(e.get("ctx") or {}).get("values")
        if isinstance(values, dict):
            facts.append(Fact(code=f"schema_{e['type']}", values={**values, "where": where}))
        else:
            facts.append(Fact(code="schema_other", values={"where": where, "message": str(e["msg"])}))
    return facts


def is_empty(value: Any) -> bool:
    return value is None or value == [] or value == ""


def diff(old: MusicBrief, new: MusicBrief) -> list[str]:
    """Dotted paths whose value differs between two briefs, in schema order."""
    return [p for p in LEAF_PATHS if get_path(old, p) != get_path(new, p)]


def before_outro(sections: list[str], section: str) -> list[str]:
    """A section added to a structure goes before its outro (or at the end when there is none)."""
    position = sections.index("outro") if "outro" in sections else len(sections)
    return [*sections[:position], section, *sections[position:]]
