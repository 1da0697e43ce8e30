"""Apply what a message said (an Extraction) to a brief, validating every value.

A value that fails validation is refused with a notice and the earlier valid value stays:
nothing the user said is dropped without a word.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from assistant.brief import LEAF_PATHS, BriefRefused, MusicBrief, before_outro, get_path, with_value
from assistant.facts import Fact, fact
from assistant.limits import (BPM_MAX, BPM_MIN, DURATION_MAX_S, DURATION_MIN_S, MAX_INFLUENCES, MAX_ITEMS,
                              MAX_LISTED_ITEMS, TEMPO_WORD_MIN_CHANGE)
from assistant.understanding.extract import Extraction
from assistant.vocab import vocabulary

ONLY_EXCLUDES = ("drums", "bass", "vocals", "other instruments")
INFERRED_PATHS = {"genres": "style.genre", "moods": "style.mood", "instruments": "palette.instruments",
                  "production": "palette.production", "bpm": "tempo.bpm", "tempo_word": "tempo.bpm"}


class Update(BaseModel):
    brief: MusicBrief
    user_paths: list[str] = Field(default_factory=list)  # paths the user's words set this turn
    inferred_paths: list[str] = Field(default_factory=list)  # paths set by inference (references, LLM)
    notices: list[Fact] = Field(default_factory=list)  # coded: the dialogue words them


def _merge(current: list[str], new: list[str], path: str, notices: list[Fact],
           category: str = "") -> list[str]:
    """Union in order; with a category, two words for the same thing ('relaxed', 'relaxing') count once."""
    def key(item: str) -> str:
        return (vocabulary().canonical(category, item) if category else None) or item

    merged = list(current)
    replaceable = {key(m): i for i, m in reversed(list(enumerate(current)))}
    for item in new:
        if item in merged:
            continue
        slot = replaceable.pop(key(item), None)
        if slot is not None:  # said again, maybe in other words ("soft piano"): the new words win, in place
            merged[slot] = item
        else:  # new, or a second description said in the same message ("wooden", "clapping percussion")
            merged.append(item)
    if len(merged) > MAX_ITEMS:
        left_out = merged[MAX_ITEMS:]
        named = ", ".join(left_out[:MAX_LISTED_ITEMS])
        more = max(0, len(left_out) - MAX_LISTED_ITEMS)
        notices.append(fact("too_many_items", max=MAX_ITEMS, what_path=f"list.{path}", named=named, more=more))
        merged = merged[:MAX_ITEMS]
    return merged


def _excluded_by(instrument: str | None, excluded: set[str]) -> bool:
    """'no vocals' also removes 'female vocals': a family name excludes the whole family."""
    family = vocabulary().family_of(instrument)
    return instrument in excluded or (family in excluded and family in ONLY_EXCLUDES)


def _with_sections(current: list[str], new: list[str], adds: bool) -> list[str]:
    if len(new) >= 2 or not current:
        return new
    if new[0] in current and not adds:
        return current
    return before_outro(current, new[0])


def _bpm_for_word(brief: MusicBrief, word: str) -> int | None:
    profile = vocabulary().genre(brief.style.genre)
    if profile is None:
        return None  # filled later from the genre, once there is one
    return profile.bpm_at(vocabulary().tempo_positions[word])


def _audibly_moved(current: int | None, target: int, word: str) -> int:
    """"slow" after a 126 BPM round must sound slow: at least TEMPO_WORD_MIN_CHANGE away, that way."""
    if current is None or word == "mid-tempo":
        return target
    direction = -1 if word == "slow" else 1
    if word in ("slow", "fast") and (target - current) * direction < current * TEMPO_WORD_MIN_CHANGE:
        target = round(current * (1 + direction * TEMPO_WORD_MIN_CHANGE))
    return max(BPM_MIN, min(BPM_MAX, target))


def _scaled_bpm(brief: MusicBrief, factor: float, notices: list[Fact]) -> int:
    base = brief.tempo.bpm or vocabulary().default_bpm(brief.style.genre)
    target = round(base * factor)
    if target == base:  # "a bit faster" must be audible even at slow tempos
        target = base + (1 if factor > 1 else -1)
    clamped = max(BPM_MIN, min(BPM_MAX, target))
    if clamped != target:
        notices.append(fact("bpm_clamped", target=target, low=BPM_MIN, high=BPM_MAX, set=clamped))
    return clamped


def apply_extraction(brief: MusicBrief, ex: Extraction) -> Update:
    """The brief after this message, the paths it set, and notices (coded facts) for anything refused."""
    notices = list(ex.notices)
    changes = {**_style_changes(brief, ex, notices), **_palette_changes(brief, ex, notices)}
    if ex.sections:
        changes["structure.sections"] = _sections_within_limit(brief, ex, notices)
    b = brief
    for path, value in changes.items():
        b = _set(b, path, value, notices)
    b = _apply_tempo(b, ex, notices)
    for axis, value in ex.mix.items():
        b = _set(b, f"mix.{axis}", value, notices)
    b = _apply_length(b, ex, notices)
    for path, value, what in (("seed", ex.seed, ""), ("theme", ex.theme, ""), ("style.key", ex.key, "")):
        if value is not None and value != "":
            b = _set(b, path, value, notices, what)
    changed = [p for p in LEAF_PATHS if get_path(brief, p) != get_path(b, p)]
    inferred = {INFERRED_PATHS[f] for f in ex.inferred if f in INFERRED_PATHS}
    return Update(brief=b, user_paths=[p for p in changed if p not in inferred],
                  inferred_paths=[p for p in changed if p in inferred], notices=notices)


def _style_changes(b: MusicBrief, ex: Extraction, notices: list[Fact]) -> dict[str, Any]:
    """The first named style is the user's main intent; the next ones colour it."""
    changes: dict[str, Any] = {}
    if ex.genres:
        main = ex.genres[0]
        influences = [g for g in dict.fromkeys(ex.genres[1:]) if not set(g.split()) <= set(main.split())]
        changes["style.genre"] = main
        changes["style.influences"] = influences[:MAX_INFLUENCES]
        left_out = influences[MAX_INFLUENCES:]
        if left_out:
            notices.append(fact("genres_left_out", genre=main, influences=" and ".join(influences[:MAX_INFLUENCES]),
                                left_out=", ".join(left_out)))
    elif ex.weak_genres and not b.style.genre:
        changes["style.genre"] = ex.weak_genres[0]
    if ex.moods:
        changes["style.mood"] = _merge(b.style.mood, ex.moods, "style.mood", notices, "mood")
    return changes


def _palette_changes(b: MusicBrief, ex: Extraction, notices: list[Fact]) -> dict[str, Any]:
    """Exclusions first ("add drums" lifts "no drums"), then what they leave of the palette."""
    changes: dict[str, Any] = {}
    excluded = list(ex.exclude)
    vocab = vocabulary()
    named = vocab.canonical_all("instrument", ex.instruments)
    if ex.only:
        first = vocab.canonical("instrument", ex.instruments[0])
        excluded += [x for x in ONLY_EXCLUDES if x not in named and vocab.family_of(first) != x]
    ruled_out = vocab.excluded(excluded)
    still_excluded = [x for x in b.exclude if vocab.excluded([x]).isdisjoint(named)]
    if excluded:
        changes["exclude"] = _merge(still_excluded, excluded, "exclude", notices, "instrument")
    elif still_excluded != b.exclude:
        changes["exclude"] = still_excluded
    kept_instruments = [] if ex.only else [
        i for i in b.palette.instruments if not _excluded_by(vocab.canonical("instrument", i), ruled_out)]
    if ex.instruments or kept_instruments != b.palette.instruments:
        changes["palette.instruments"] = _merge(kept_instruments, ex.instruments, "palette.instruments", notices,
                                                "instrument")
    kept_production = [p for p in b.palette.production
                       if p not in ruled_out and vocab.canonical("production", p) not in ruled_out]
    if ex.production or kept_production != b.palette.production:
        changes["palette.production"] = _merge(kept_production, ex.production, "palette.production",
                                               notices, "production")
    return changes


def _sections_within_limit(b: MusicBrief, ex: Extraction, notices: list[Fact]) -> list[str]:
    sections = _with_sections(b.structure.sections, ex.sections, ex.adds)
    if len(sections) > MAX_ITEMS:
        notices.append(fact("too_many_sections", max=MAX_ITEMS, kept=", ".join(sections[:MAX_ITEMS]),
                            left_out=", ".join(sections[MAX_ITEMS:])))
        sections = sections[:MAX_ITEMS]
    return sections


def _apply_length(b: MusicBrief, ex: Extraction, notices: list[Fact]) -> MusicBrief:
    if ex.duration_s is not None:
        if ex.duration_s <= 0:
            notices.append(fact("duration_impossible", asked=f"{ex.duration_s:g}", kept=f"{b.duration_s:g}"))
            return b
        return _set(b, "duration_s", ex.duration_s, notices, what="refused.duration_s")
    if ex.duration_factor:
        target = round(b.duration_s * ex.duration_factor, 1)
        b = _set(b, "duration_s", max(DURATION_MIN_S, min(DURATION_MAX_S, target)), notices)
        if not DURATION_MIN_S <= target <= DURATION_MAX_S:
            notices.append(fact("duration_clamped", target=f"{target:g}", low=f"{DURATION_MIN_S:g}",
                                high=f"{DURATION_MAX_S:g}", set=f"{b.duration_s:g}"))
    return b


def _apply_tempo(b: MusicBrief, ex: Extraction, notices: list[Fact]) -> MusicBrief:
    # "slow" is also how the piece feels; with a groove word too: "slow, swing"
    feel = ", ".join(f for f in (ex.tempo_surface, ex.feel) if f)
    if feel:
        b = _set(b, "tempo.feel", feel, notices)
    if ex.bpm is not None:
        b = _set(b, "tempo.bpm", round(ex.bpm), notices)
        if not ex.tempo_surface and b.tempo.feel:  # an earlier "mid-tempo" never contradicts 129 BPM
            b = _set(b, "tempo.feel", _feel_for(b.tempo.feel, b.tempo.bpm), notices)
    elif ex.tempo_word:
        bpm = _bpm_for_word(b, ex.tempo_word)
        if bpm is not None:
            b = _set(b, "tempo.bpm", _audibly_moved(b.tempo.bpm, bpm, ex.tempo_word), notices)
    elif ex.tempo_factor:
        b = _set(b, "tempo.bpm", _scaled_bpm(b, ex.tempo_factor, notices), notices)
    return b


def _feel_for(feel: str, bpm: int | None) -> str | None:
    """The feel without tempo words another BPM range names ('mid-tempo, swing' at 129: 'swing')."""
    vocab = vocabulary()
    kept = [part for part in feel.split(", ") if bpm is None or vocab.canonical("tempo", part) is None
            or vocab.tempo_band(bpm) == vocab.canonical("tempo", part)]
    return ", ".join(kept) or None


def _set(b: MusicBrief, path: str, value: Any, notices: list[Fact], what: str = "") -> MusicBrief:
    """`what` names the field in a refusal where its label would not ('duration', not 'length')."""
    try:
        return with_value(b, path, value)
    except BriefRefused as err:
        kept = get_path(b, path)
        notices.append(fact("value_refused", what_path=what or path, error=err.facts,
                            kept_value=kept if kept not in (None, []) else ""))
        return b
