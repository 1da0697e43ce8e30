"""A message's characters made plain once, before anything reads it: NFKC, and combining marks
collapsed ("zalgo" text: "h̶o̸use" is house, and 100,000 stacked marks cost nothing to read)."""
from __future__ import annotations

import unicodedata

from assistant.limits import MAX_COMBINING_MARKS, MAX_MESSAGE_CHARS


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch) in ("Mn", "Me")


def plain(message: str) -> str:
    """A run of more than MAX_COMBINING_MARKS marks on one character is dropped whole; then NFKC
    (which composes "e" and an accent into "é"); then a mark still left on an ASCII letter (a
    strike-through overlay) is dropped. Scripts that need their marks keep them. At most
    MAX_MESSAGE_CHARS characters come back, and only a bounded prefix is ever looked at."""
    text = message[: MAX_MESSAGE_CHARS * (MAX_COMBINING_MARKS + 2)]
    kept: list[str] = []
    run: list[str] = []
    for ch in text:
        if _is_mark(ch):
            run.append(ch)
            continue
        if len(run) <= MAX_COMBINING_MARKS:
            kept.extend(run)
        run = []
        kept.append(ch)
    if len(run) <= MAX_COMBINING_MARKS:
        kept.extend(run)
    composed = unicodedata.normalize("NFKC", "".join(kept))
    out: list[str] = []
    for ch in composed:
        if _is_mark(ch) and out and out[-1].isascii():
            continue
        out.append(ch)
    return "".join(out)[:MAX_MESSAGE_CHARS]
