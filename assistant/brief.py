"""The five-control music brief: the one schema of the project.

Its JSON form is a public contract read by tests, the CLI and the UI, so field names and
shapes here change only together with the README.
"""
from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

MAX_WORDS = 5
THEME_MAX_WORDS = 12  # a song's subject, in the user's words
MAX_ITEMS = 8
BPM_MIN, BPM_MAX = 40, 220
DURATION_MIN_S, DURATION_MAX_S = 1.0, 180.0


def _words(name: str, **values: object) -> str:
    """A refusal in the words of prompts/replies.yaml (imported here, at call time: the templates
    load the vocabulary, which needs the limits, which need this schema)."""
    from assistant.templates import reply

    return reply(name, **values)


DEFAULT_DURATION_S = 10.0

MixBrightness = Optional[Literal["bright", "dark", "balanced"]]
MixWidth = Optional[Literal["wide", "narrow", "balanced"]]
MixSpace = Optional[Literal["dry", "reverberant", "balanced"]]


def _check_phrase(value: str) -> str:
    """A slot value is a short, clean phrase: MusicGen prompts degrade with rambling text."""
    cleaned = " ".join(str(value).split()).strip(" ,.;:")
    if not cleaned:
        raise ValueError(_words("schema_empty"))
    if len(cleaned.split()) > MAX_WORDS:
        raise ValueError(_words("schema_too_long", phrase=cleaned, max=MAX_WORDS))
    return cleaned.lower()


def _check_phrases(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        phrase = _check_phrase(v)
        if phrase not in out:
            out.append(phrase)
    if len(out) > MAX_ITEMS:
        raise ValueError(_words("schema_too_many", max=MAX_ITEMS, got=len(out)))
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
            raise ValueError(_words("schema_bpm", bpm=v, low=BPM_MIN, high=BPM_MAX))
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
            raise ValueError(_words("schema_too_many_sections", max=MAX_ITEMS, got=len(out)))
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

    def __str__(self) -> str:
        return _words("melody_value", seconds=f"{self.seconds:.0f}")


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
            raise ValueError(_words("schema_duration", seconds=f"{v:g}", low=f"{DURATION_MIN_S:g}",
                                    high=f"{DURATION_MAX_S:g}"))
        return round(float(v), 2)

    @field_validator("seed")
    @classmethod
    def _seed(cls, v: Optional[int]) -> Optional[int]:
        if v is not None and not 0 <= v < 2**32:
            raise ValueError(_words("schema_seed"))
        return v


CONTROLS = ("style", "tempo", "palette", "structure", "mix")

# Every leaf of the brief by dotted path; the dialogue tracks who set each one.
LEAF_PATHS = (
    "style.genre", "style.influences", "style.key", "style.mood", "tempo.bpm", "tempo.feel",
    "palette.instruments", "palette.production", "structure.sections",
    "mix.brightness", "mix.width", "mix.space", "exclude", "duration_s", "seed", "theme", "melody",
)


def get_path(brief: MusicBrief, path: str) -> Any:
    obj: Any = brief
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def with_value(brief: MusicBrief, path: str, value: Any) -> MusicBrief:
    """Return a copy with one leaf set; raises ValueError with a readable message."""
    data = brief.model_dump()
    node = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value
    try:
        return MusicBrief.model_validate(data)
    except ValidationError as err:
        raise ValueError(readable_error(err, paths=False)) from None  # the caller names the field in words


def readable_error(err: ValidationError, paths: bool = True) -> str:
    """One sentence per problem, without pydantic's internals."""
    parts = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"] if not isinstance(p, int)) if paths else ""
        msg = str(e["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


def is_empty(value: Any) -> bool:
    return value is None or value == [] or value == ""


def diff(old: MusicBrief, new: MusicBrief) -> list[str]:
    """Dotted paths whose value differs between two briefs, in schema order."""
    return [p for p in LEAF_PATHS if get_path(old, p) != get_path(new, p)]


def describe_value(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, list):
        return ", ".join(value) if value else "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)  # a Melody words itself


def describe_change(old: MusicBrief, new: MusicBrief, path: str, name: str = "") -> str:
    """`brightness: balanced -> dark`, under the field's human name (assistant.labels)."""
    return f"{name or path}: {describe_value(get_path(old, path))} -> {describe_value(get_path(new, path))}"


def before_outro(sections: list[str], section: str) -> list[str]:
    """A section added to a structure goes before its outro (or at the end when there is none)."""
    position = sections.index("outro") if "outro" in sections else len(sections)
    return [*sections[:position], section, *sections[position:]]
