"""Typos of vocabulary words, corrected before reading: "tecnho" -> "techno", "saxaphone" -> "saxophone".

Deterministic and grounded: a word is only replaced by a vocabulary word it is close to, and only
when it is not itself a known word (vocabulary, filler, common English, or a reference name).
"""
from __future__ import annotations

import re
from functools import lru_cache

from assistant.limits import SPELLING_LONG_WORD, SPELLING_MAX_EDITS_LONG, SPELLING_MIN_LETTERS
from assistant.resources import VOCAB_DIR
from assistant.understanding.references import phrase_key, reference_index
from assistant.vocab import vocabulary

WORD = re.compile(r"[a-z][a-z'-]*[a-z]")


@lru_cache(maxsize=1)
def _targets() -> tuple[dict[str, list[str]], frozenset[str]]:
    """Single vocabulary words by first letter, and every word that must be left as typed."""
    vocab = vocabulary()
    targets: set[str] = set()
    for category in ("genre", "instrument", "mood", "production", "section", "tempo", "feel"):
        targets |= {w for p in vocab.by_category[category].phrases for w in p.split() if w.isalpha()}
    targets |= {w for w in vocab.timbre_words | vocab.role_words if w.isalpha()}
    known = set(reference_index().known_words) | targets
    for key in reference_index().by_key:
        known |= set(key.split())
    known |= english_words()  # English words are never "typos" of ours
    by_letter: dict[str, list[str]] = {}
    for word in targets:
        if len(word) >= SPELLING_MIN_LETTERS:
            by_letter.setdefault(word[0], []).append(word)
    return by_letter, frozenset(known)


def edits(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
    neighbours ("tecnho"). A typo is one or two of these; "instructions" is no "introduction"."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def correct(text: str) -> str:
    """Normalised text with typos of vocabulary words replaced by the words."""
    by_letter, known = _targets()

    def fix(m: re.Match) -> str:
        word = m.group(0)
        if len(word) < SPELLING_MIN_LETTERS or word in known or phrase_key(word) in known:
            return word
        allowed = SPELLING_MAX_EDITS_LONG if len(word) >= SPELLING_LONG_WORD else 1
        near = [w for w in by_letter.get(word[0], []) if abs(len(w) - len(word)) <= 1]
        scored = sorted((edits(word, w), w) for w in near)
        return scored[0][1] if scored and scored[0][0] <= allowed else word

    return WORD.sub(fix, text)


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Common and frequent English words (prompts/vocab/common_words.txt, english_words.txt): never
    typos of ours, and what a subject is said in ("mickey mouse"; "blorp zint" is in no language)."""
    words: set[str] = set()
    for name in ("common_words.txt", "english_words.txt"):
        text = (VOCAB_DIR / name).read_text(encoding="utf-8")
        words |= {w for line in text.splitlines() if not line.startswith("#") for w in line.split()}
    return frozenset(words)
