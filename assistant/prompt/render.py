"""Brief -> one MusicGen text prompt.

MusicGen was trained on descriptions with metadata appended
("... bpm: 120. genre: house. moods: uplifting. instrument: piano"), so the prompt speaks that
form: a short description carrying production, groove, structure and mix, then the metadata.
"""
from __future__ import annotations

import math
import re

from assistant.brief import MusicBrief
from assistant.limits import MIN_SECTION_S, MUSICGEN_WINDOW_S, PROMPT_MAX_WORDS
from assistant.takes import Window
from assistant.understanding.references import names_in
from assistant.vocab import vocabulary



def _mix_phrase(brief: MusicBrief) -> str:
    """Only the axes that say something: an all-balanced mix adds words and no information."""
    named = [a for a in (brief.mix.brightness, brief.mix.width, brief.mix.space) if a and a != "balanced"]
    return f"{', '.join(named)} mix" if named else ""


def _article(word: str) -> str:
    """'an uptempo', 'a slow tempo'."""
    return "an" if word[:1] in "aeiou" else "a"


def _tempo_word(bpm: int) -> str:
    return [word for word, start in vocabulary().tempo_render_bands if bpm >= start][-1]


def sections_that_fit(brief: MusicBrief) -> list[str]:
    """The sections one generation can hold at MIN_SECTION_S each: the peak (drop, chorus) first,
    then the intro and the outro, in the piece's order. Ten seconds hold one: the peak."""
    unique = list(dict.fromkeys(brief.structure.sections))  # a clip can't repeat; name each part once
    room = max(1, int(brief.duration_s // MIN_SECTION_S))
    if len(unique) <= room:
        return unique
    peaks = [s for s in vocabulary().peak_sections if s in unique]
    ranked = list(dict.fromkeys([*peaks[:1], unique[0], unique[-1], *unique]))
    chosen = set(ranked[:room])
    return [s for s in unique if s in chosen]


def _instrument_names(instruments: list[str]) -> tuple[list[str], list[str]]:
    """(standard names for the metadata, the user's phrases that say more than those names).

    MusicGen's metadata names instruments in a fixed vocabulary ("female vocals", "electric guitar");
    the user's description ("soft female vocal", "e-guitar chords") stays in the text before it."""
    vocab = vocabulary()
    names: list[str] = []
    described: list[str] = []
    for phrase in instruments:
        name = vocab.canonical("instrument", phrase) or phrase
        if name not in names:
            names.append(name)
        if not set(phrase.split()) <= set(name.split()):
            described.append(phrase)
    return names, described


def _description(brief: MusicBrief, sections: list[str], described: list[str]) -> str:
    vocab = vocabulary()
    sung = "vocals" not in vocab.excluded(brief.exclude) \
        and any(vocab.family_of(i) == "vocals" for i in brief.palette.instruments)
    # A palette without a voice is instrumental, said positively: MusicGen otherwise tends to add
    # wordless vocals, and "no vocals" in the text names vocals (the negative prompt steers away).
    instrumental = not sung and bool(brief.palette.instruments or brief.exclude)
    production = ", ".join(["instrumental"] * instrumental + brief.palette.production)
    noun = "song" if sung else "music"
    head = f"{production} {noun}" if production else noun
    parts_of_feel = [p for p in (brief.tempo.feel or "").split(", ") if p]  # "medium tempo, swing"
    if brief.tempo.bpm and not any(vocabulary().canonical("tempo", p) for p in parts_of_feel):
        head += f" at a {_tempo_word(brief.tempo.bpm)} tempo"  # the words MusicGen's captions use
    for part in parts_of_feel:
        if vocabulary().canonical("tempo", part):
            head += f" at {_article(part)} {part}" + ("" if "tempo" in part else " tempo")
        else:
            head += f" with a {part} groove"
    parts = [head[0].upper() + head[1:], *described]
    if brief.style.influences:  # MusicGen's captions name one genre; the others colour it
        parts.append(f"with {' and '.join(brief.style.influences)} influences")
    if sections:
        parts.append(" > ".join(sections))
    mix = _mix_phrase(brief)
    if mix:
        parts.append(mix)
    parts += [f"no {x}" for x in brief.exclude]
    return ", ".join(parts)


def _metadata(brief: MusicBrief, instruments: list[str]) -> list[str]:
    meta = []
    if brief.tempo.bpm:
        meta.append(f"bpm: {brief.tempo.bpm}")
    if brief.style.key:
        meta.append(f"key: {brief.style.key}")  # MusicGen's metadata form: "key: d minor"
    if brief.style.genre:
        meta.append(f"genre: {brief.style.genre}")
    if brief.style.mood:
        meta.append(f"moods: {', '.join(brief.style.mood)}")
    if instruments:
        meta.append(f"instrument: {', '.join(instruments)}")
    return meta


def without_names(text: str) -> str:
    """MusicGen can't imitate an artist or a franchise, and a name only adds noise: none is sent."""
    for m in reversed(names_in(text)):
        text = text[: m.start] + text[m.end:]
    return re.sub(r"\s+([,.])", r"\1", re.sub(r"\s{2,}", " ", text)).strip()


def render_prompt(brief: MusicBrief, section: str | None = None) -> str:
    """The MusicGen prompt for a brief, at most PROMPT_MAX_WORDS words.

    `section` renders the prompt for one part of a longer piece (music generated section by
    section): the part's name replaces the structure list. Otherwise the structure names the
    sections the clip has room for.
    """
    sections = [section] if section else sections_that_fit(brief)
    instruments = list(brief.palette.instruments)
    while True:
        names, described = _instrument_names(instruments)
        text = without_names(". ".join([_description(brief, sections, described), *_metadata(brief, names)]))
        if len(text.split()) <= PROMPT_MAX_WORDS:
            return text
        # Over budget: shorten the structure first (the model hears little of it), then the palette.
        if len(sections) > 2:
            sections = [sections[0], sections[-1]]
        elif sections:
            sections = []
        elif len(instruments) > 2:
            instruments.pop()
        else:
            return " ".join(text.split()[:PROMPT_MAX_WORDS])


def section_plan(brief: MusicBrief) -> list[tuple[str | None, float]]:
    """(section or None, seconds) per generation window: one window when it fits, else per section."""
    sections = list(brief.structure.sections)
    total = brief.duration_s
    if total <= MUSICGEN_WINDOW_S and (len(sections) < 2 or total < 2 * MIN_SECTION_S):
        return [(None, total)]
    count = max(len(sections), math.ceil(total / MUSICGEN_WINDOW_S))
    count = min(count, max(1, int(total // MIN_SECTION_S)))
    names = [sections[i * len(sections) // count] if sections else None for i in range(count)]
    return [(name, total / count) for name in names]


def negative_prompt(brief: MusicBrief) -> str | None:
    """What MusicGen is steered away from (classifier-free guidance's negative text)."""
    return ", ".join(x for x in brief.exclude if x != "other instruments") or None


def generation_windows(brief: MusicBrief) -> list[Window]:
    """Every text MusicGen is sent for this brief, window by window: one window when the piece fits,
    else one per section, each continuing from the audio before it."""
    return [Window(section=section, seconds=seconds, prompt=render_prompt(brief, section=section))
            for section, seconds in section_plan(brief)]
