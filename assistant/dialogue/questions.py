"""Which control to ask about next, and clickable options that fit what is already known.

Every option is written so that the extractor reads it back exactly (a genre name, "124 BPM",
"rhodes and upright bass"): clicking an option is the same as typing it.
"""
from __future__ import annotations

from typing import Optional

from pydantic import BaseModel

from assistant.brief import MusicBrief
from assistant.dialogue.fill import rank_genres
from assistant.vocab import genre_list, midpoint, vocabulary
from assistant.wording import reply

ASK_ORDER = ("style", "tempo", "palette")


class Question(BaseModel):
    control: str
    options: list[str]


def control_known(brief: MusicBrief, control: str) -> bool:
    if control == "style":
        return bool(brief.style.genre)
    if control == "tempo":
        return bool(brief.tempo.bpm or brief.tempo.feel)
    if control == "palette":
        return bool(brief.palette.instruments)
    if control == "structure":
        return bool(brief.structure.sections)
    return any([brief.mix.brightness, brief.mix.width, brief.mix.space])


def ready_to_generate(brief: MusicBrief) -> bool:
    """Specific enough to be worth a generation: a style, and a tempo or a palette."""
    return control_known(brief, "style") and (control_known(brief, "tempo") or control_known(brief, "palette"))


def next_control(brief: MusicBrief) -> Optional[str]:
    for control in ASK_ORDER:
        if not control_known(brief, control):
            return control
    return None


def _style_options(brief: MusicBrief) -> list[str]:
    fitting = [name for score, name in rank_genres(brief) if score > 0][:5]
    for name in genre_list("starters"):  # top up with varied starters so there is always a choice
        if len(fitting) >= 5:
            break
        if name not in fitting:
            fitting.append(name)
    return fitting


def _tempo_options(brief: MusicBrief) -> list[str]:
    vocab = vocabulary()
    profile = vocab.genre(brief.style.genre)
    lo, hi = profile.bpm if profile else vocab.general_bpm_range
    points = [("slow", lo), ("mid-tempo", midpoint((lo, hi))), ("fast", hi)]
    if hi - lo >= 40:  # wide ranges (jazz, metal) deserve an extra step
        points.insert(2, ("uptempo", round(lo + (hi - lo) * 0.75)))
    return [f"{bpm} BPM, {vocab.tempo_band(bpm)}" for _, bpm in points]  # one word per BPM range, as everywhere


def _palette_options(brief: MusicBrief) -> list[str]:
    vocab = vocabulary()
    profile = vocab.genre(brief.style.genre)
    family = profile.family if profile else None
    combos: list[str] = []
    candidates = [profile] if profile else []
    candidates += [g for g in vocab.genres.values() if g.family == family and g is not profile]
    if not candidates:
        candidates = [vocab.genres[name] for name in genre_list("starters")]
    for genre in candidates:
        usable = [i for i in genre.instruments if i not in vocabulary().excluded(brief.exclude)][:3]
        combo = ", ".join(usable[:-1]) + f" and {usable[-1]}" if len(usable) > 1 else "".join(usable)
        if combo and combo not in combos:
            combos.append(combo)
        if len(combos) == 4:
            break
    return combos


def build_question(brief: MusicBrief, control: str) -> Question:
    """A question about one control with 3-6 options, the last one always 'Surprise me'."""
    builders = {"style": _style_options, "tempo": _tempo_options, "palette": _palette_options}
    options = builders[control](brief)[:5]
    return Question(control=control, options=[*options, reply("option_surprise")])


def conflict_question(slot: str) -> Question:
    """Contradictions ("fast and slow") are asked back, each side an option."""
    if slot == "tempo":
        return Question(control="tempo", options=["slow", "mid-tempo", "fast"])
    axis = slot.split(".", 1)[1]
    values = {"brightness": ["dark", "bright"], "width": ["narrow", "wide"],
              "space": ["dry", "reverberant"]}[axis]
    return Question(control="mix", options=[*values, f"balanced {axis}"])
