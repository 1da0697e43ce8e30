"""Fill the controls the user left open from the genre profile, and say which ones were filled."""
from __future__ import annotations

import random

from assistant.brief import MAX_ITEMS, MusicBrief, before_outro, is_empty, with_value
from assistant.vocab import GenreProfile, genre_list, vocabulary

# Picked when the user gave no genre and nothing they said points to one.


def rank_genres(brief: MusicBrief) -> list[tuple[int, str]]:
    """Genres scored by fit with what is known (moods, instruments, tempo), best first."""
    vocab = vocabulary()
    moods = vocab.canonical_all("mood", brief.style.mood)
    instruments = vocab.canonical_all("instrument", brief.palette.instruments)
    suited = [g for mood in moods for g in vocab.mood_styles.get(mood, [])]
    scored = []
    for profile in vocab.genres.values():
        score = 2 * len(moods & set(profile.moods))
        score += 3 if profile.name in suited else 0
        score += len(instruments & set(profile.instruments))
        if brief.tempo.bpm and profile.bpm[0] <= brief.tempo.bpm <= profile.bpm[1]:
            score += 1
        scored.append((score, profile.name))
    return sorted(scored, key=lambda item: (-item[0], item[1]))


def choose_genre(brief: MusicBrief, seed: int) -> str:
    """The best-fitting genre; a seeded choice among ties, or among varied fallbacks."""
    scored = rank_genres(brief)
    best = scored[0][0]
    pool = [name for score, name in scored if score == best] if best > 0 else list(genre_list("fallback"))
    return random.Random(seed).choice(sorted(pool))


def _mood_position(brief: MusicBrief) -> float:
    """Where the moods put an unsaid tempo in the genre's range: a sad song sits low, an energetic one high."""
    positions = vocabulary().mood_tempo_positions
    said = [positions[m] for m in vocabulary().canonical_all("mood", brief.style.mood) if m in positions]
    return sum(said) / len(said) if said else 0.5


def _defaults(brief: MusicBrief, profile: GenreProfile) -> dict[str, object]:
    vocab = vocabulary()
    bpm = profile.bpm_at(_mood_position(brief))
    tempo_word = vocab.canonical("tempo", brief.tempo.feel.split(", ")[0]) if brief.tempo.feel else None
    if tempo_word:  # "slow" said before the genre was known
        bpm = profile.bpm_at(vocab.tempo_positions[tempo_word])
    excluded = vocab.excluded(brief.exclude)
    instruments = [i for i in profile.instruments if i not in excluded and vocab.family_of(i) not in excluded]
    if "other instruments" in excluded:
        instruments = []
    sections = profile.sections
    if len(brief.structure.sections) == 1 and brief.structure.sections[0] not in sections:
        sections = before_outro(sections, brief.structure.sections[0])[:MAX_ITEMS]
    return {
        "style.mood": profile.moods,
        "tempo.bpm": bpm,
        "tempo.feel": profile.feel,
        "palette.instruments": instruments,
        "palette.production": [p for p in profile.production if p not in excluded],
        "structure.sections": sections,
        "mix.brightness": profile.mix[0],
        "mix.width": profile.mix[1],
        "mix.space": profile.mix[2],
    }


def fill_gaps(brief: MusicBrief, seed: int) -> tuple[MusicBrief, list[str]]:
    """Every empty control gets the profile's value; returns the brief and the filled paths."""
    filled: list[str] = []
    if not brief.style.genre:
        brief = with_value(brief, "style.genre", choose_genre(brief, seed))
        filled.append("style.genre")
    profile = vocabulary().genre(brief.style.genre)
    if profile is None:  # a genre outside the vocabulary: borrow the closest known profile
        profile = vocabulary().genres[choose_genre(brief, seed)]
    for path, value in _defaults(brief, profile).items():
        section, leaf = path.split(".")
        current = getattr(getattr(brief, section), leaf)
        incomplete_structure = path == "structure.sections" and len(current) == 1
        if (is_empty(current) or incomplete_structure) and not is_empty(value) and current != value:
            brief = with_value(brief, path, value)
            filled.append(path)
    return brief, filled
