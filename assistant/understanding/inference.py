"""From the references a message names to the slots it left open: inferred, never said.

"music for a dinner party" names no genre; the dinner-party entry does (jazz, bossa nova, ...).
What a reference supplies only fills slots the message itself left empty, and every field it fills
is listed in `Extraction.inferred`, so the brief shows it as inferred rather than as the user's words.
An artist comes first (the most specific), then a medium, an occasion or scene, and an era last;
within a kind, the longer phrase ("tokyo at night" before "driving").
"""
from __future__ import annotations

from assistant.understanding.extract import Extraction
from assistant.limits import REFERENCE_MAX_MOODS
from assistant.understanding.references import Reference
from assistant.vocab import midpoint, vocabulary

PRIORITY = {"artist": 0, "media": 1, "occasion": 2, "era": 3}


def by_priority(references: list[Reference]) -> list[Reference]:
    return sorted(references, key=lambda r: PRIORITY[r.kind])


def genre_candidates(references: list[Reference]) -> list[str]:
    """Every genre the references suggest, best first, each a known profile."""
    vocab = vocabulary()
    out: list[str] = []
    for ref in by_priority(references):
        for genre in ref.genres:
            if vocab.genre(genre) and genre not in out:
                out.append(genre)
    return out


def from_references(ex: Extraction) -> Extraction:
    """Fill what the message left open from its references (the best genre candidate first).

    The more the user said, the less is inferred: with a genre named, references add moods only;
    with instruments named, an artist, medium or era adds its genre only (an occasion adds nothing,
    its genres become the options of the style question); a message that names only references
    gets everything they imply.
    """
    refs = by_priority(ex.references)
    if not refs:
        return ex
    vocab = vocabulary()
    update: dict[str, object] = {}
    inferred = list(ex.inferred)
    named_genre = bool(ex.genres or ex.weak_genres)
    named_palette = any(vocab.family_of(i) != "textures" for i in ex.instruments)
    style_refs = [r for r in refs if r.kind != "occasion"]
    if not named_genre and (style_refs or not named_palette):
        candidates = genre_candidates(style_refs if named_palette else refs)
        if candidates:
            update["genres"] = candidates[:1]
            inferred.append("genres")
    if named_palette:
        return ex.model_copy(update={**update, "inferred": inferred})
    if not ex.moods:
        moods = list(dict.fromkeys(m for r in refs for m in r.moods if vocab.canonical("mood", m)))
        if moods:
            update["moods"] = moods[:REFERENCE_MAX_MOODS]
            inferred.append("moods")
    if named_genre:
        return ex.model_copy(update={**update, "inferred": inferred})
    if not (ex.bpm or ex.tempo_word or ex.tempo_factor):
        timed = next((r for r in refs if r.bpm or r.tempo), None)
        if timed and timed.bpm:
            update["bpm"] = float(midpoint(timed.bpm))
            inferred.append("bpm")
        elif timed and timed.tempo in vocab.tempo_positions:
            update["tempo_word"] = timed.tempo
            inferred.append("tempo_word")
    ruled_out = vocab.excluded(ex.exclude)
    instruments = [i for r in refs for i in r.instruments
                   if vocab.canonical("instrument", i) and vocab.canonical("instrument", i) not in ruled_out]
    if instruments:
        update["instruments"] = list(dict.fromkeys(instruments))[:3]
        inferred.append("instruments")
    production = [p for r in refs for p in r.production if vocab.canonical("production", p)]
    if production:
        update["production"] = list(dict.fromkeys(production))[:2]
        inferred.append("production")
    return ex.model_copy(update={**update, "inferred": inferred})


def described_artists(ex: Extraction) -> list[Reference]:
    """Artists whose sound was used: the reply says it describes them rather than imitating them."""
    return [r for r in ex.references if r.kind == "artist"]
