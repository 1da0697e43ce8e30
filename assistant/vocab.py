"""Controlled vocabularies and genre profiles, loaded from the YAML files under prompts/.

The data lives in files so musicians can extend it without touching code; this module only
turns it into phrase matchers and typed profiles.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

import yaml
from pydantic import BaseModel, ConfigDict

from assistant.limits import FALLBACK_BPM
from assistant.resources import VOCAB_DIR



class GenreProfile(BaseModel):
    """What a genre usually sounds like: used to fill gaps and to offer fitting options."""

    model_config = ConfigDict(coerce_numbers_to_str=True)  # YAML reads `808` as a number

    name: str
    aliases: list[str] = []  # other spellings and words for the genre: the brief says its name
    kinds: list[str] = []  # named styles of it ("hard rock"): the brief keeps the style as said
    family: str
    bpm: tuple[int, int]
    feel: str
    moods: list[str]
    instruments: list[str]
    production: list[str]
    sections: list[str]
    mix: tuple[str, str, str]  # brightness, width, space

    @property
    def default_bpm(self) -> int:
        return midpoint(self.bpm)

    def bpm_at(self, position: float) -> int:
        """A point in the typical range: 0 is the low end, 1 the high end."""
        lo, hi = self.bpm
        return round(lo + (hi - lo) * position)


@dataclass(frozen=True)
class Match:
    category: str  # genre, instrument, mood, production, mix.<axis>, tempo, tempo_rel, feel, section
    value: str  # canonical value (for mix: the axis value; for tempo_rel: the factor)
    start: int
    end: int
    surface: str = ""  # the words as the user wrote them

    @property
    def length(self) -> int:
        return self.end - self.start


SINGULAR_EXCEPTIONS = {"keys", "vocals"}  # "key" is a key, "vocal" already an alias where it fits


def _load(name: str) -> dict:
    with open(VOCAB_DIR / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _variants(phrase: str, plural: bool = False) -> set[str]:
    """Spelling variants people type: hyphen, space or nothing; optional plural."""
    phrase = str(phrase).lower().strip()
    forms = {phrase}
    if "-" in phrase:
        forms |= {phrase.replace("-", " "), phrase.replace("-", "")}
    if plural:
        forms |= {f + ("es" if f.endswith(("sh", "ch", "x")) else "s") for f in list(forms)
                  if not f.endswith("s") and f[-1].isalpha()}
        # and the singular of a plural name: "horn stabs", "string swells" ("keys" is also a key)
        forms |= {f[:-1] for f in list(forms) if f.endswith("s") and not f.endswith(("ss", "us", "is"))
                  and len(f) > 4 and f not in SINGULAR_EXCEPTIONS}
    return forms


class PhraseMatcher:
    """Finds vocabulary phrases in normalised text at word boundaries, longest first."""

    def __init__(self, category: str, phrases: dict[str, str]):
        self.category = category
        self.phrases = phrases  # surface form -> canonical value
        alternation = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
        self.pattern = re.compile(rf"(?<![\w'])(?:{alternation})(?![\w'])") if phrases else None

    def find(self, text: str) -> list[Match]:
        if self.pattern is None:
            return []
        return [Match(self.category, self.phrases[m.group(0)], m.start(), m.end(), m.group(0))
                for m in self.pattern.finditer(text)]

    def canonical(self, phrase: str) -> Optional[str]:
        """The canonical value a phrase names, if it is (or contains) a known phrase."""
        if phrase in self.phrases:
            return self.phrases[phrase]
        found = self.find(phrase)
        return found[-1].value if found else None


class Vocabulary:
    """Every controlled vocabulary, with one matcher per category."""

    def __init__(self) -> None:
        genre_phrases = self._load_genres()
        instrument_phrases = self._load_instruments()
        self.moods = self._simple("moods.yaml")
        self.production = self._simple("production.yaml")
        self.sections = self._simple("sections.yaml")
        self.mix_matchers = [PhraseMatcher(f"mix.{axis}", {form: value for value, words in values.items()
                                                           for w in words for form in _variants(w)})
                             for axis, values in _load("mix.yaml").items()]
        tempo_phrases, rel_phrases, feel_phrases = self._load_tempo()
        self.matchers = [
            PhraseMatcher("genre", genre_phrases),
            PhraseMatcher("instrument", instrument_phrases),
            PhraseMatcher("mood", self._phrases(self.moods)),
            PhraseMatcher("production", self._phrases(self.production)),
            PhraseMatcher("section", self._phrases(self.sections)),
            PhraseMatcher("tempo", tempo_phrases),
            PhraseMatcher("tempo_rel", rel_phrases),
            PhraseMatcher("feel", feel_phrases),
            *self.mix_matchers,
        ]
        self.intents: dict[str, list[str]] = _load("intents.yaml")
        self.filler: dict[str, list[str]] = _load("filler.yaml")
        self.mood_styles: dict[str, list[str]] = _load("mood_styles.yaml")
        mood_tempo = _load("mood_tempo.yaml")
        self.mood_tempo_positions: dict[str, float] = {
            **{m: 0.0 for m in mood_tempo["slow"]}, **{m: 1.0 for m in mood_tempo["fast"]}}
        self.mood_frames: set[str] = {str(w) for w in _load("mood_frames.yaml")["frames"]}
        self._load_modifiers()
        self.by_category = {m.category: m for m in self.matchers}

    def _load_genres(self) -> dict[str, str]:
        """Profiles by name, with their families' defaults; said forms of the named styles."""
        genre_data = _load("../genres.yaml")
        families = genre_data["families"]
        self.genres: dict[str, GenreProfile] = {}
        self.genre_kinds: dict[str, str] = {}  # said form -> the named style ("hard-rock" -> hard rock)
        genre_phrases: dict[str, str] = {}
        for raw in genre_data["genres"]:
            profile = GenreProfile(**{**families[raw["family"]], **raw})
            self.genres[profile.name] = profile
            for phrase in [profile.name, *profile.aliases, *profile.kinds]:
                for form in _variants(phrase):
                    genre_phrases.setdefault(form, profile.name)
            for kind in profile.kinds:
                for form in _variants(kind):
                    self.genre_kinds.setdefault(form, kind)
        return genre_phrases

    def _load_instruments(self) -> dict[str, str]:
        self.instrument_family: dict[str, str] = {}
        instrument_phrases: dict[str, str] = {}
        for family, entries in _load("instruments.yaml").items():
            for canonical, aliases in entries.items():
                canonical = str(canonical)
                self.instrument_family[canonical] = family
                for phrase in [canonical, *(aliases or [])]:
                    for form in _variants(str(phrase), plural=True):
                        instrument_phrases.setdefault(form, canonical)
        return instrument_phrases

    def _load_tempo(self) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
        tempo = _load("tempo.yaml")
        self.general_bpm_range: tuple[int, int] = tuple(tempo["general_range"])
        self.tempo_positions = {name: spec["at"] for name, spec in tempo["absolute"].items()}
        self.tempo_render_bands: list[tuple[str, int]] = [(str(w), int(b)) for w, b, _ in tempo["render_bands"]]
        self.tempo_bands: list[tuple[str, int]] = [(str(name), int(b)) for _, b, name in tempo["render_bands"]]
        tempo_phrases = {form: name for name, spec in tempo["absolute"].items()
                         for w in spec["words"] for form in _variants(w)}
        rel_phrases = {form: str(spec["factor"]) for spec in tempo["relative"]
                       for w in spec["words"] for form in _variants(w)}
        feel_aliases = tempo["feel_aliases"]
        feel_phrases = {form: feel_aliases.get(w, w) for w in tempo["feel"] for form in _variants(w)}
        return tempo_phrases, rel_phrases, feel_phrases

    def _load_modifiers(self) -> None:
        modifiers = _load("modifiers.yaml")
        self.peak_sections: list[str] = [str(w) for w in modifiers["peak_sections"]]
        places = {str(w) for w in modifiers["places"]}
        self.timbre_words: set[str] = {str(w) for w in modifiers["timbre"]} | places
        self.role_words: set[str] = {str(w) for w in modifiers["roles"]}
        self.genre_qualifiers: set[str] = {str(w) for w in modifiers["genre_qualifiers"]} | places
        self.colour_only_genres: set[str] = {str(w) for w in modifiers["colour_only_genres"]}
        self.usage_genres: set[str] = {f for w in modifiers["usage_genres"] for f in _variants(str(w))}

    @staticmethod
    def _simple(name: str) -> dict[str, list[str]]:
        return {str(k): [str(a) for a in (v or [])] for k, v in _load(name).items()}

    @staticmethod
    def _phrases(table: dict[str, list[str]]) -> dict[str, str]:
        return {form: canonical for canonical, aliases in table.items()
                for phrase in [canonical, *aliases] for form in _variants(phrase)}

    def genre(self, name: Optional[str]) -> Optional[GenreProfile]:
        """The profile for a genre value, also for fusions like 'jazz hip hop' (first known part)."""
        if not name:
            return None
        if name in self.genres:
            return self.genres[name]
        for m in self.matchers[0].find(name):
            return self.genres[m.value]
        return None

    def family_of(self, instrument: Optional[str]) -> Optional[str]:
        """'soft female vocals' -> 'vocals', 'rhodes' -> 'keys': the family of an instrument phrase."""
        if not instrument:
            return None
        return self.instrument_family.get(self.canonical("instrument", instrument) or instrument)

    def tempo_band(self, bpm: float) -> str:
        """'slow', 'mid-tempo' or 'fast': the one word for a BPM (prompts/vocab/tempo.yaml)."""
        return [name for name, start in self.tempo_bands if bpm >= start][-1]

    def default_bpm(self, genre: Optional[str]) -> int:
        """The genre profile's tempo, or FALLBACK_BPM when the genre is unknown or unsaid."""
        profile = self.genre(genre)
        return profile.default_bpm if profile else FALLBACK_BPM

    def canonical(self, category: str, phrase: str) -> Optional[str]:
        """'relaxing' -> 'relaxed', 'soft female vocals' -> 'female vocals': grounding and scoring
        work on canonical values while the brief keeps the user's own words."""
        return self.by_category[category].canonical(phrase.lower())

    def excluded(self, exclude: list[str]) -> set[str]:
        """What a brief's exclusions rule out, as canonical values: the brief keeps the user's words
        ("no voices"), the checks compare things ("vocals")."""
        return {self.canonical("instrument", x) or self.canonical("production", x) or x for x in exclude}

    def canonical_all(self, category: str, phrases: list[str]) -> set[str]:
        return {c for p in phrases if (c := self.canonical(category, p))}

    def known_values(self, category: str) -> set[str]:
        """Canonical values of a category: what grounding accepts without the user's words."""
        tables = {
            "genre": set(self.genres),
            "instrument": set(self.instrument_family),
            "mood": set(self.moods),
            "production": set(self.production),
            "section": set(self.sections),
        }
        return tables[category]

    def find_all(self, text: str) -> list[Match]:
        """All matches of every category, with overlaps resolved.

        A longer phrase hides a shorter one inside it ("drum and bass" hides "bass"), across
        categories; the same span found in two categories is kept in both ("lo-fi" is a genre
        alias and a production word) and the caller decides.
        """
        found = [m for matcher in self.matchers for m in matcher.find(text)]
        found.sort(key=lambda m: (-m.length, m.start))
        kept: list[Match] = []
        for m in found:
            hidden = any(k.start < m.end and m.start < k.end and k.length > m.length
                         for k in kept)
            if not hidden:
                kept.append(m)
        kept.sort(key=lambda m: (m.start, -m.length))
        return kept


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """Loaded once per process: the files are read-only at run time."""
    return Vocabulary()


def midpoint(bounds: tuple[int, int]) -> int:
    """The middle of a BPM range (a genre's, a reference's): the one place it is computed."""
    return round((bounds[0] + bounds[1]) / 2)


@lru_cache(maxsize=None)
def genre_list(name: str) -> tuple[str, ...]:
    """A list of prompts/vocab/genre_lists.yaml: 'fallback', 'starters' or 'examples'."""
    with open(VOCAB_DIR / "genre_lists.yaml", encoding="utf-8") as fh:
        return tuple(yaml.safe_load(fh)[name])
