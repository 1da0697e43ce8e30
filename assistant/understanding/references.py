"""The reference layer: occasions, scenes, media, eras and artists, read from prompts/references/.

Most people name a dinner party, a film or a band instead of a genre. Each reference maps to what
MusicGen can use (genre candidates, moods, a tempo, a palette); a name itself is never sent to
MusicGen (`names_in` finds them so the renderer can strip any that slipped through).

Matching works on word keys, so it survives case, accents, possessives and plurals ("daft punk's",
"zimmers"), suffixes ("beatles-y", "zeppelin-esque") and typos of longer names ("radiohed").
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict

from assistant.limits import REFERENCE_FUZZY_CUTOFF, REFERENCE_FUZZY_MIN_LETTERS, REFERENCE_MAX_WORDS
from assistant.resources import REFERENCES_DIR, VOCAB_DIR
from assistant.vocab import vocabulary

Kind = Literal["occasion", "media", "era", "artist"]
WORD = re.compile(r"[^\W_]+(?:['’.][^\W_]+)*")
SUFFIXES = ("esque", "ish", "like", "y")  # "beatles-y", "zeppelinesque"


class Reference(BaseModel):
    """One occasion, scene, medium, era or artist and the sound it stands for."""

    model_config = ConfigDict(frozen=True)

    kind: Kind
    key: str  # the entry's first name: for logs and tests, never for MusicGen
    is_name: bool  # an artist or a franchise: must never reach a prompt
    genres: tuple[str, ...] = ()
    moods: tuple[str, ...] = ()
    tempo: Optional[str] = None  # a tempo word from prompts/vocab/tempo.yaml
    bpm: Optional[tuple[int, int]] = None
    instruments: tuple[str, ...] = ()
    production: tuple[str, ...] = ()
    sound: Optional[str] = None  # an artist's sound, in words ("french house")


@dataclass(frozen=True)
class ReferenceMatch:
    reference: Reference
    start: int
    end: int
    surface: str
    fuzzy: bool = False


def word_key(word: str) -> str:
    """Lowercase, no accents, no apostrophes or dots: "Beyoncé's" -> "beyonces"."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch) and ch not in "'’.")


def phrase_key(phrase: str) -> str:
    return " ".join(word_key(w) for w in WORD.findall(phrase.replace("-", " ").replace("/", " ")))


def _word_forms(word: str) -> list[str]:
    """The word as typed, then without a plural or possessive s, then without a style suffix."""
    forms = [word]
    if len(word) > 3 and word.endswith("s"):
        forms.append(word[:-1])
        if word.endswith("es"):
            forms.append(word[:-2])
    for suffix in SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            forms.append(word[: -len(suffix)])
    return forms


class ReferenceIndex:
    """Every reference by the keys of its names, with a fuzzy fallback for long names."""

    def __init__(self, references: list[tuple[Reference, list[str]]], known_words: set[str]):
        self.by_key: dict[str, Reference] = {}
        for reference, names in references:
            for name in names:
                key = phrase_key(name)
                if key:
                    self.by_key.setdefault(key, reference)
        self.by_length: dict[int, list[str]] = {}
        for key in self.by_key:
            if sum(c.isalpha() for c in key) >= REFERENCE_FUZZY_MIN_LETTERS:
                self.by_length.setdefault(len(key.split()), []).append(key)
        self.known_words = known_words
        self.references = list(dict.fromkeys(r for r, _ in references))

    def _exact(self, keys: list[str]) -> Optional[str]:
        head = " ".join(keys[:-1])
        for form in _word_forms(keys[-1]):
            key = f"{head} {form}".strip()
            if key in self.by_key:
                return key
        return None

    def _fuzzy(self, keys: list[str]) -> Optional[str]:
        """Only for words the vocabularies and dictionaries don't know: 'radiohed', 'beethovan'."""
        if all(k in self.known_words or k.isdigit() for k in keys):
            return None
        joined = " ".join(keys)
        if sum(c.isalpha() for c in joined) < REFERENCE_FUZZY_MIN_LETTERS:
            return None
        pool = [k for k in self.by_length.get(len(keys), []) if k[0] == joined[0]]
        found = difflib.get_close_matches(joined, pool, n=1, cutoff=REFERENCE_FUZZY_CUTOFF)
        return found[0] if found else None

    def find(self, text: str) -> list[ReferenceMatch]:
        """Non-overlapping matches in order; a longer name wins over a shorter one inside it."""
        words = [(m.start(), m.end(), word_key(m.group(0))) for m in WORD.finditer(text.replace("-", " "))]
        candidates: list[ReferenceMatch] = []
        for size in range(min(REFERENCE_MAX_WORDS, len(words)), 0, -1):
            for i in range(len(words) - size + 1):
                span = words[i: i + size]
                keys = [k for _, _, k in span]
                key, fuzzy = self._exact(keys), False
                if key is None:
                    key, fuzzy = self._fuzzy(keys), True
                if key is not None:
                    start, end = span[0][0], span[-1][1]
                    candidates.append(ReferenceMatch(self.by_key[key], start, end, text[start:end], fuzzy))
        kept: list[ReferenceMatch] = []
        for m in sorted(candidates, key=lambda m: (m.fuzzy, -(m.end - m.start), m.start)):
            if not any(k.start < m.end and m.start < k.end for k in kept):
                kept.append(m)
        return sorted(kept, key=lambda m: m.start)


def _entry(kind: Kind, raw: dict, key: str, is_name: bool) -> Reference:
    bpm = raw.get("bpm")
    return Reference(kind=kind, key=key, is_name=is_name, genres=tuple(raw.get("genres") or [raw["genre"]]),
                     moods=tuple(raw.get("moods", [])), tempo=raw.get("tempo"),
                     bpm=tuple(bpm) if bpm else None, instruments=tuple(str(i) for i in raw.get("instruments", [])),
                     production=tuple(str(p) for p in raw.get("production", [])), sound=raw.get("sound"))


def load_references(directory: Path = REFERENCES_DIR) -> list[tuple[Reference, list[str]]]:
    """(reference, its names) for every entry of every file."""
    out: list[tuple[Reference, list[str]]] = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        kind = data["kind"]
        for raw in data.get("entries", []):
            names = [str(n) for n in raw["names"]]
            entry_kind = "era" if raw.get("era") else kind
            out.append((_entry(entry_kind, raw, names[0], bool(raw.get("name"))), names))
        for sound, raw in (data.get("sounds") or {}).items():
            for artist in raw["artists"]:
                names = str(artist).split("/")
                out.append((_entry(kind, {**raw, "sound": sound}, names[0], True), names))
    return out


def _known_words() -> set[str]:
    """Words fuzzy matching must leave alone: every vocabulary word, filler, and common English."""
    vocab = vocabulary()
    words = set(vocab.filler["vague"]) | set(vocab.timbre_words) | set(vocab.role_words)
    for matcher in vocab.matchers:
        for phrase in matcher.phrases:
            words |= {word_key(w) for w in phrase.split()}
    common = (VOCAB_DIR / "common_words.txt").read_text(encoding="utf-8").split()
    return words | set(common)


@lru_cache(maxsize=1)
def reference_index() -> ReferenceIndex:
    return ReferenceIndex(load_references(), _known_words())


def names_in(text: str) -> list[ReferenceMatch]:
    """Artist and franchise names in a text: what must be stripped before MusicGen sees it."""
    return [m for m in reference_index().find(text.lower()) if m.reference.is_name]
