"""The key people ask for ("in D minor", "minor key", "key: f# major"), read from whole tokens.

MusicGen's training metadata carries the key ("key: d minor"), and 152 tag uses of the study of
real requests name one. "a minor" alone is ambiguous ("a minor change"), so the letter a needs a
key context: "in a minor", "key of a minor", "a minor key".
"""
from __future__ import annotations

import re
from typing import Optional

_ACCIDENTAL = r"(#|♯|sharp|b|♭|flat)?"
_MODE = r"(major|minor|maj|min)"
KEY_NAMED = re.compile(rf"(?<![\w'#])(?:(in |key of |key: ?|in the key of )?)([a-g]){_ACCIDENTAL}[ -]?{_MODE}"
                       r"(\s+(?:key|scale|tonality))?(?![\w#])")
KEY_MODE = re.compile(r"(?<![\w])(?:in )?(major|minor)(?:\s+(?:key|scale|tonality|mode))(?![\w])|(?<![\w])in (major|minor)(?![\w])"
                      r"|(?:^|,)\s*(major|minor)\s*(?=,|$)")  # a tag of its own: "sad, minor, piano"


def find_key(text: str) -> Optional[tuple[str, tuple[int, int]]]:
    """("d minor", span), ("f# major", span) or ("minor", span) in normalised text, or None."""
    for m in KEY_NAMED.finditer(text):
        context, letter, accidental, mode, suffix = m.groups()
        if letter == "a" and not (context or suffix):
            continue
        sharp = "#" if accidental in ("#", "♯", "sharp") else "b" if accidental in ("b", "♭", "flat") else ""
        return f"{letter}{sharp} {'major' if mode.startswith('maj') else 'minor'}", m.span()
    m = KEY_MODE.search(text)
    if m:
        return m.group(1) or m.group(2) or m.group(3), m.span()
    return None
