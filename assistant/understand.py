"""What the LLM adds to the deterministic reading, and the grounding that keeps it honest.

The embedded 135M model hallucinates and puts values in the wrong slot, so it never fills a slot
directly: it describes the music in free words, and only what the vocabularies recognise in that
description may fill a slot that the rules and the user left empty. Turn classification is JSON
constrained by a pydantic schema, validated again, and accepted only with the user's words behind it.
"""
from __future__ import annotations

import difflib
import logging
import re
from typing import Literal, Optional

from pydantic import BaseModel

from assistant.extract import Extraction, extract
from assistant.llm import LanguageModel, LLMError
from assistant.state import State
from assistant.templates import prompt_file
from assistant.vocab import vocabulary

log = logging.getLogger(__name__)

MAX_PROPOSED = {"moods": 2, "instruments": 3, "production": 2}
PROPOSABLE_FAMILIES_EXCLUDED = {"textures"}  # "audiences" is no instrument the user asked for
PLACED_INTENTS = {"new_song", "surprise", "more_variations", "like", "help", "show_brief", "generate",
                  "greeting", "thanks", "request"}
ANSWER_MAX_WORDS = 40
QUESTION = re.compile(r"\?\s*$|^(?:what|how|why|who|where|when|which|is|are|do|does|can|could)\b")
SLOT_LABELS = {"genres": "genre", "moods": "mood", "instruments": "instruments", "production": "production"}


class TurnKind(BaseModel):
    kind: Literal["edit", "new_song", "question", "other"]


def unexplained_words(text: str) -> list[str]:
    """Words the vocabularies did not place and that are not filler: what the LLM may explain."""
    vocab = vocabulary()
    covered = list(text)
    for m in vocab.find_all(text):
        covered[m.start:m.end] = " " * (m.end - m.start)
    vague = set(vocab.filler["vague"])
    return [w for w in re.findall(r"[a-z][a-z']+", "".join(covered)) if w not in vague]


class Understanding:
    """LLM helper: grounded proposals, classification of unplaced turns, and off-topic wording."""

    def __init__(self, llm: LanguageModel):
        self.llm = llm

    def enrich(self, state: State, text: str, ex: Extraction, intents: set[str]) -> tuple[Extraction, set[str]]:
        words = unexplained_words(text)
        if not words:
            return ex, intents  # nothing the rules missed: no model call, no risk
        if QUESTION.search(text) and "request" not in intents:
            return ex, intents | self.classify(state, text)  # a question is not a song description
        messages = [{"role": "system", "content": prompt_file("understand")},
                    {"role": "user", "content": text}]
        try:  # free words, not JSON: constrained JSON makes the 135M model echo the request
            description = self.llm.chat(messages, max_tokens=48)
        except LLMError as err:
            log.debug("LLM proposal skipped: %s", err)
            return ex, intents
        ex = ground(ex, extract(description), state, text, words, indirect=not ex.names_music())
        if not ex.names_music() and not intents & PLACED_INTENTS:
            intents = intents | self.classify(state, text)
        return ex, intents

    def classify(self, state: State, text: str) -> set[str]:
        """An intent for a turn the rules could not place, accepted only with the user's words behind it."""
        messages = [{"role": "system", "content": prompt_file("classify", has_music=state.phase == "generated")},
                    {"role": "user", "content": text}]
        try:
            kind = self.llm.complete_json(messages, TurnKind, max_tokens=16).kind
        except LLMError as err:
            log.debug("LLM classification skipped: %s", err)
            return set()
        words = set(re.findall(r"[a-z]+", text))
        if kind == "new_song" and words & set(vocabulary().filler["new_song_cues"]):
            return {"new_song"}
        if kind == "question" and (text.rstrip().endswith("?") or words & {"what", "how", "why", "which", "can"}):
            return {"help"}
        log.debug("LLM classification %r rejected for %r", kind, text)
        return set()

    def answer(self, state: State, text: str) -> Optional[str]:
        """A friendly off-topic reply in the LLM's words, or None to use the template."""
        messages = [{"role": "system", "content": prompt_file("answer")}, {"role": "user", "content": text[:500]}]
        try:
            wording = self.llm.chat(messages, max_tokens=48)
        except LLMError as err:
            log.debug("LLM answer skipped: %s", err)
            return None
        return wording if acceptable_answer(wording, state) else None


def acceptable_answer(wording: str, state: State) -> bool:
    """Short, on-topic, and naming no musical value the brief doesn't hold."""
    words = wording.split()
    if not 3 <= len(words) <= ANSWER_MAX_WORDS or "\n\n" in wording:
        return False
    lowered = wording.lower()
    if not re.search(r"\b(music|song|track|sound|tune)", lowered):
        return False
    if re.search(r"system prompt|instruction|http|<|```", lowered):
        return False
    said = extract(wording)
    brief = state.brief
    held = {brief.style.genre, *brief.style.mood, *brief.palette.instruments}
    named = set(said.genres + said.moods + said.instruments)
    return named <= held


def supported_by_words(value: str, words: list[str]) -> bool:
    """A value the user typed, give or take a typo: 'tecno' supports techno, 'pianno' piano."""
    parts = [p for p in value.split() if len(p) >= 3]
    return bool(parts) and all(
        any(difflib.SequenceMatcher(None, part, w).ratio() >= 0.8 for w in words) for part in parts)


def ground(ex: Extraction, proposed: Extraction, state: State, text: str, words: list[str],
           indirect: bool) -> Extraction:
    """Accept proposed values only for slots that both the rules and the brief left empty, and only
    when the user's own words back them: a near spelling of words the rules could not read, or, for a
    request the rules found nothing musical in ("music for a rainy sunday"), a mood the assistant can
    act on (one with styles in mood_styles.yaml). Measured on tests/data/understanding.yaml, unbacked
    genres and other unbacked moods from the 135M model were wrong too often, so they are not taken.
    `words` are the message's unexplained words, computed once by the caller."""
    brief = state.brief
    update: dict[str, object] = {}
    accepted: list[str] = []

    def backed(values: list[str], allow_unbacked: bool) -> list[str]:
        kept = [v for v in values if supported_by_words(v, words) or allow_unbacked]
        for v in values:
            if v not in kept:
                log.debug("LLM proposal %r rejected: nothing in %r supports it", v, text)
        return kept

    def take(slot: str, values: list[str], empty: bool) -> None:
        if not values:
            return
        if empty:
            kept = values[: MAX_PROPOSED.get(slot, 1)]
            update[slot] = kept
            accepted.append(f"{SLOT_LABELS[slot]} {', '.join(kept)}")
        else:
            log.debug("LLM proposal for %s rejected (slot already set): %s", slot, values)

    vocab = vocabulary()
    genres = backed([g for g in proposed.genres + proposed.weak_genres if vocab.genre(g)], False)
    take("genres", genres[:1], not (ex.genres or ex.weak_genres or brief.style.genre))
    # An unbacked mood must also be one the assistant can act on: one with styles in mood_styles.yaml.
    actionable = [m for m in proposed.moods if vocab.canonical("mood", m) in vocab.mood_styles]
    moods = backed(proposed.moods, False) or backed(actionable, indirect)
    take("moods", moods, not (ex.moods or brief.style.mood))
    instruments = [i for i in proposed.instruments
                   if vocab.instrument_family.get(vocab.canonical("instrument", i) or "") not in PROPOSABLE_FAMILIES_EXCLUDED
                   and vocab.canonical("instrument", i) not in ex.exclude + brief.exclude]
    take("instruments", backed(instruments, False), not (ex.instruments or brief.palette.instruments))
    take("production", backed(proposed.production, False), not (ex.production or brief.palette.production))
    tempo_free = not (ex.tempo_word or ex.bpm or ex.tempo_factor or brief.tempo.bpm or brief.tempo.feel)
    if proposed.tempo_word and tempo_free and supported_by_words(proposed.tempo_surface or "", words):
        update.update(tempo_word=proposed.tempo_word, tempo_surface=proposed.tempo_surface)
        accepted.append(f"tempo {proposed.tempo_surface}")
    if not accepted:
        return ex
    note = f"From '{text[:60]}' I took: {'; '.join(accepted)}."
    return ex.model_copy(update={**update, "notices": [*ex.notices, note]})
