"""What kind of text a message is, before reading it as music: so junk, emoji-only and other
languages each get a specific answer instead of a generic one."""
from __future__ import annotations

import unicodedata
from typing import Literal

TextKind = Literal["text", "emoji", "foreign", "junk"]


def text_kind(message: str) -> TextKind:
    letters = [ch for ch in message if ch.isalpha()]
    ascii_letters = [ch for ch in letters if ch.isascii()]
    symbols = [ch for ch in message if unicodedata.category(ch) in ("So", "Sk")]
    if not letters:
        return "emoji" if symbols else "junk"
    if len(ascii_letters) < 0.5 * len(letters):
        return "foreign"
    printable = sum(ch.isprintable() for ch in message)
    if printable < 0.8 * len(message):
        return "junk"
    return "text"
