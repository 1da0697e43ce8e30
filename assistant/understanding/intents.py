"""What a turn wants, from the phrases in prompts/vocab/intents.yaml.

Short generic words ("go", "yes", "again") only count in short messages, so "go wild with the
drums" stays an edit rather than a command to generate.
"""
from __future__ import annotations

import re
from functools import lru_cache

import yaml

from assistant.resources import VOCAB_DIR
from assistant.vocab import vocabulary

SHORT_MESSAGE_WORDS = 4


@lru_cache(maxsize=1)
def _patterns() -> dict[str, tuple[re.Pattern, re.Pattern | None]]:
    out = {}
    for intent, phrases in vocabulary().intents.items():
        multi = [p for p in phrases if " " in p]
        single = [p for p in phrases if " " not in p]

        def alternation(items: list[str]) -> re.Pattern | None:
            if not items:
                return None
            body = "|".join(re.escape(p) for p in sorted(items, key=len, reverse=True))
            return re.compile(rf"(?<![\w'])(?:{body})(?![\w'])")

        out[intent] = (alternation(multi), alternation(single))
    return out


def detect_intents(text: str) -> set[str]:
    """Intent names found in normalised text."""
    bare = re.sub(r"[^\w\s'&-]", " ", text)
    short = len(bare.split()) <= SHORT_MESSAGE_WORDS
    found = set()
    for intent, (multi, single) in _patterns().items():
        if multi is not None and multi.search(bare):
            found.add(intent)
        elif single is not None and (short or intent == "request") and single.search(bare):
            found.add(intent)
    return found


@lru_cache(maxsize=1)
def _question_starts() -> tuple[str, ...]:
    with open(VOCAB_DIR / "questions.yaml", encoding="utf-8") as fh:
        return tuple(yaml.safe_load(fh)["question_start"])


def is_question(sentence: str) -> bool:
    """A sentence in a question's form: a question mark, a question word first, or "vs": the one
    question detector (the answers split messages with it; the LLM helper classifies with it)."""
    s = sentence.strip()
    return s.endswith("?") or any(re.match(rf"{re.escape(w)}\b", s) for w in _question_starts()) \
        or bool(re.search(r"\bvs\.?\s|\bversus\b", s))
