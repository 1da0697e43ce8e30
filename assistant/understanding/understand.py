"""What the LLM adds to the deterministic reading: it chooses among our candidates, never invents.

The embedded 135M model hallucinates, so it never writes values we then hope to ground. It picks:
a mood from the moods the assistant can act on, when the rules and the reference layer left the
style open (each candidate scored by its likelihood, so only a candidate can come out); and a turn
kind for messages nothing else could place (a grammar built from the kinds, validated again). What
it chooses is marked as inferred, never as said. It writes no sentence a user reads: its off-topic
wording, even checked, invented facts on held-out questions, so replies come from the templates.
"""
from __future__ import annotations

import logging
import re
from typing import Literal, Optional, Protocol

from pydantic import BaseModel

from assistant.brief import MusicBrief
from assistant.understanding.extract import Extraction
from assistant.understanding.intents import is_question
from assistant.understanding.llm import LanguageModel, LLMError
from assistant.understanding.references import reference_index
from assistant.wording import prompt_file
from assistant.vocab import vocabulary


class Conversation(Protocol):
    """What the helper reads of a conversation (the dialogue's State has it): understanding never
    imports the dialogue."""

    brief: MusicBrief
    phase: str

log = logging.getLogger(__name__)

PLACED_INTENTS = {"new_song", "surprise", "more_variations", "like", "help", "show_brief", "generate",
                  "greeting", "thanks", "request"}


NULL_REQUEST = "some music"  # the baseline a title's mood scores are compared with


class TurnKind(BaseModel):
    kind: Literal["edit", "new_song", "question", "other"]


def unexplained_words(text: str) -> list[str]:
    """Words the vocabularies and references did not place and that are not filler."""
    vocab = vocabulary()
    covered = list(text)
    spans = [(m.start, m.end) for m in vocab.find_all(text)] + [(m.start, m.end) for m in reference_index().find(text)]
    for start, end in spans:
        covered[start:end] = " " * (end - start)
    vague = set(vocab.filler["vague"])
    return [w for w in re.findall(r"[a-z][a-z']+", "".join(covered)) if w not in vague]


def style_open(state: Conversation, ex: Extraction) -> bool:
    return not (ex.genres or ex.weak_genres or ex.moods or state.brief.style.genre or state.brief.style.mood)


class Understanding:
    """LLM helper: a mood chosen by likelihood from our list, and a grammar-bound turn classification."""

    def __init__(self, llm: LanguageModel):
        self.llm = llm
        self._null: Optional[dict[str, float]] = None  # scores for a request that says nothing

    def enrich(self, state: Conversation, text: str, ex: Extraction, intents: set[str],
               mood_text: str = "", mood_margin: float = 0.0) -> tuple[Extraction, set[str]]:
        """`mood_text` (pasted lyrics, quoted lines) is read for a mood only, never classified; a mood
        is kept only when it leads the next one by `mood_margin` (log-likelihood)."""
        words = unexplained_words(text) + unexplained_words(mood_text)
        if not words:
            return ex, intents  # nothing the rules missed: no model call, no risk
        if is_question(text) and "request" not in intents:
            return ex, intents | self.classify(state, text)  # a question is not a song description
        asked_for_music = "request" in intents or state.phase == "collecting" or bool(ex.lyrics or ex.theme)
        text = f"{text} {mood_text}".strip()
        # With instruments named, the genre profiles rank the style from them; the model's mood,
        # chosen without them, made 68 of 500 MusicCaps train prompts worse or no better.
        if style_open(state, ex) and state.phase != "generated" and asked_for_music and not ex.instruments:
            mood = self.choose_mood(text, mood_margin)
            if mood:
                ex = ex.model_copy(update={"moods": [mood], "inferred": [*ex.inferred, "moods"]})
        if not ex.names_music() and not intents & PLACED_INTENTS:
            intents = intents | self.classify(state, text)
        return ex, intents

    def choose_mood(self, text: str, margin: float = 0.0) -> Optional[str]:
        """One mood from our list, for a request whose style nothing else could read.

        Each mood is scored by its log-likelihood after the request, minus its score after a
        request that says nothing ("some music"): the 135M model prefers "melancholic" for
        everything, and this calibration removes that prior. Greedy JSON choice placed 0 of 3
        unplaced slang requests; calibrated scoring is measured in bench/understanding.py."""
        moods = sorted(vocabulary().mood_styles)
        try:
            scores = self._mood_scores(text[:300], moods)
            if self._null is None:
                self._null = self._mood_scores(NULL_REQUEST, moods)
        except LLMError as err:
            log.debug("LLM mood choice skipped: %s", err)
            return None
        calibrated = {m: scores[m] - self._null.get(m, 0.0) for m in moods}
        best, second = sorted(calibrated.values(), reverse=True)[:2]
        if best - second < margin:
            return None  # no mood clearly fits a title ("bop for the group chat"): the style question decides
        return max(calibrated, key=calibrated.get)

    def _mood_scores(self, text: str, moods: list[str]) -> dict[str, float]:
        messages = [{"role": "user", "content": prompt_file("choose_mood", request=text)}]
        return self.llm.choice_scores(messages, prompt_file("mood_lead"), moods)

    def classify(self, state: Conversation, text: str) -> set[str]:
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
