"""How words attach to each other: the words that colour an instrument, and a genre's qualifier.

"bright piano" is a piano's timbre, not a bright mix; "solo piano" an arrangement, not a solo
section; "horn stabs" a way of playing horns; "jazz piano" a piano that also names the style.
"""
from __future__ import annotations

import re

from assistant.limits import GENRE_MAX_WORDS, MAX_WORDS
from assistant.vocab import Match, vocabulary

ROLE_BEFORE = re.compile(r"(?<![\w])(\w+)\s+(?:is |are )?(?:being )?(?:played |carried |sung )?(?:on|by|of|from)\s+(?:an? |the |some )?(?:\w+ )?$")
ROLE_AFTER = re.compile(  # "cellos playing a melody", "a male voice singing the main melody"
    r"\s+(?:(?:is |are )?(?:playing|plays|play|played|carrying|providing|holding|singing|sings|sing|humming|hums)"
    r" (?:a |an |the |some |its |their )?)?(\w+)(?: (\w+))?(?: (\w+))?")
COLOURING = ("genre", "section") + tuple(f"mix.{axis}" for axis in ("brightness", "width", "space"))


def instrument_phrase(text: str, m: Match) -> str:
    """The instrument with the words that colour it: 'soft female vocals', 'piano melody'."""
    vocab = vocabulary()
    head = text[: m.start]
    mods: list[str] = []
    before_words = head.split()
    if head.endswith(" ") and len(before_words) >= 2 and before_words[-1] in ("and", "&", "or") \
            and before_words[-2] in vocab.timbre_words:  # "male and female vocalists"
        mods = before_words[-2:]
    elif head.endswith(" ") and head.rstrip()[-1:].isalnum():
        for word in reversed(before_words[-2:]):
            if word not in vocab.timbre_words and word not in vocab.by_category["genre"].phrases:
                break
            mods.insert(0, word)
    role = _role_after(text[m.end:])
    if not role:  # "the melody is played on a flute" -> "flute melody"
        before = ROLE_BEFORE.search(head)
        role = before.group(1) if before and before.group(1) in vocab.role_words else role
    words = [w for w in mods if w not in m.surface.split() or w in ("and", "&", "or")] + m.surface.split()
    words += [r for r in role.split() if r in vocab.role_words and r not in words]
    while len(words) > MAX_WORDS and mods:
        words.remove(mods.pop(0))
    return " ".join(words[-MAX_WORDS:])


def _role_after(tail: str) -> str:
    """The role word after an instrument, maybe after a verb and one timbre word ("playing a simple melody")."""
    vocab = vocabulary()
    found = ROLE_AFTER.match(tail)
    if not found:
        return ""
    first, second, third = found.group(1), found.group(2), found.group(3)
    if first in vocab.role_words:  # "solo melody": two role words stay together
        return f"{first} {second}" if second in vocab.role_words and second != first else first
    if first in vocab.timbre_words and second in vocab.role_words:
        return f"{second} {third}" if third in vocab.role_words and third != second else second
    return ""


def _next_instrument(text: str, m: Match, matches: list[Match]) -> Match | None:
    """The instrument right after m, with at most timbre words between ("dark analog pad")."""
    following = [o for o in matches if o.category == "instrument" and o.start >= m.end]
    if not following:
        return None
    nxt = min(following, key=lambda o: o.start)
    between = text[m.end:nxt.start].split()
    return nxt if all(w in vocabulary().timbre_words for w in between) and len(between) <= 1 else None


def colours_an_instrument(text: str, m: Match, matches: list[Match]) -> bool:
    """A genre word right before an instrument ("orchestral percussion") describes the instrument."""
    return _next_instrument(text, m, matches) is not None


def describes_an_instrument(text: str, m: Match, matches: list[Match]) -> bool:
    """A mix word or "solo" right before an instrument ("airy vocal", "solo piano"), or a role word
    right after one ("horn stabs"), belongs to the instrument's phrase, not to another control."""
    if m.category in COLOURING[1:] and _next_instrument(text, m, matches) is not None:
        return True
    if m.category == "instrument" and m.surface in vocabulary().role_words:
        before = [o for o in matches if o.category == "instrument" and o.end <= m.start]
        return bool(before) and not text[max(o.end for o in before):m.start].strip()
    return False


def genre_inside(m: Match) -> list[str]:
    """A genre that an instrument's own name starts with: 'flamenco guitar' -> flamenco."""
    vocab = vocabulary()
    found = vocab.by_category["genre"].find(m.surface)
    return [g.value for g in found[:1] if g.start == 0 and g.end < len(m.surface)
            and g.value not in vocab.colour_only_genres]


def genre_phrase(text: str, m: Match) -> str:
    """The genre with a qualifier said right before it: 'traditional folk', 'latin pop'; a named
    style of a genre as said ('heavy metal', not metal)."""
    name = vocabulary().genre_kinds.get(m.surface, m.value)  # "hard rock" stays hard rock
    before = text[: m.start].split()[-1:] if text[: m.start].endswith(" ") else []
    if before and before[0] in vocabulary().genre_qualifiers and before[0] not in name.split() \
            and len(name.split()) < GENRE_MAX_WORDS:  # "modern drum and bass" would read as two styles
        return f"{before[0]} {name}"
    return name
