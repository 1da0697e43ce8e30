"""Numbers in what people type: BPM, durations, seeds, take references and counts.

Kept apart from the vocabulary matcher because numbers need context ("at 105" is a tempo,
"at 30 seconds" is not, "90s" is a decade) rather than a word list.
"""
from __future__ import annotations

import re
from typing import Optional

from assistant.brief import BPM_MAX, BPM_MIN
from assistant.limits import NUMBER_MAX_DIGITS

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "a": 1, "an": 1, "half a": 0.5, "half an": 0.5,
}
ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "last": -1, "final": -1,
}

_NUM = r"-?\d+(?:\.\d+)?"
BPM_EXPLICIT = re.compile(rf"({_NUM})\s*(?:bpm|b\.p\.m\.?|beats per minute|beats a minute|beats/min)(?![\w])")
BPM_PREFIX = re.compile(rf"(?:\bbpm|\btempo|\btempo of)\s*[:=]?\s*({_NUM})(?![\d.])(?!\s*(?:%|s\b|sec|second|min|minute|hour|hr|h\b|x\b|takes?\b|versions?\b|variations?\b|\.\d|'s|am\b|pm\b|o'clock))")
BPM_NEAR = re.compile(rf"(?:\bat|@|\baround|\babout|\broughly)\s*({_NUM})(?![\d.])(?!\s*(?:%|s\b|sec|second|min|minute|hour|hr|h\b|x\b|takes?\b|versions?\b|variations?\b|'s|am\b|pm\b|o'clock|[a-z]))")
BARE_NUMBER = re.compile(r"(?<![\w.#-])(\d{2,3})(?![\w.%:/'])(?!\s*(?:s\b|sec|second|min|minute|hour|hr|takes?\b|versions?\b|variations?\b|times\b|seconds))")
# "80s", "1990s", "'70s", "1970's", "2020s": a decade; 20xx decades keep their century ("2020s").
DECADE = re.compile(r"(?<![\w'])(?:(19)(\d0)|(20)(\d0)|'?([2-9]0|00|10))'?s(?![\w])")
YEAR = re.compile(r"(?<![\w.:/-])(19\d\d|20[0-4]\d)(?![\w.:/%]|'?s\b|\s*(?:sec|second|min|minute|hour|hr|bpm))")
# A length is a number token and a unit token: never letters inside a word ("ide-a s", "benj-a min"),
# and never "a second" (a second verse, a second chance).
_BOUND = r"(?<![\w.'])"
_NUMBER_WORD = r"one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|thirty|forty|fifty|sixty|half an?|an?"
DURATION_UNIT = re.compile(
    rf"{_BOUND}(?:({_NUM})\s*-?\s*(seconds?|secs?|s|minutes?|mins?|hours?|hrs?|h)"
    rf"|(?!an?[\s-]+sec)({_NUMBER_WORD})[\s-]+(seconds?|secs?|minutes?|mins?|hours?|hrs?))(?![\w'])"
)
DURATION_CLOCK = re.compile(r"(?<![\w:])(\d{1,2}):([0-5]\d)(?![\w:])")
MINUTE_AND_HALF = re.compile(r"\b(a|one)\s+minute\s+and\s+a\s+half\b|\bone and a half minutes?\b")
SEED = re.compile(r"\bseed\s*(?:number|no\.?|#|=|:|of|to|is)?\s*(-?\d+)\b")
TAKE_REF = re.compile(
    r"\b(?:take|version|variation|option|number|no\.?|#)\s*#?\s*(\d)\b"
    r"|\b(first|second|third|fourth|1st|2nd|3rd|4th|last|final)\b(?:\s+(?:one|take|version|variation))?"
    r"|\b(?:keep|like|love|prefer|pick|choose|want)\s+(\d)\b"
    r"|^\s*(\d)\s*$"
)
TAKE_COUNT = re.compile(r"\b(\d|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?:takes|variations|versions|options|alternatives)\b")


UNREADABLE = re.compile(r"(?<![\w.])[-+]?(?:\d+(?:\.\d+)?e[-+]?\d+|\d*\.?\d+(?:e[-+]?\d+)?(?=\s*(?:inf|nan)\b)|inf(?:inity)?|nan"
                        rf"|\d{{{NUMBER_MAX_DIGITS + 1},}}(?:\.\d+)?|\d+\.\d{{{NUMBER_MAX_DIGITS + 1},}})(?![\w.])")


def find_unreadable_numbers(text: str) -> list[tuple[str, tuple[int, int]]]:
    """Numbers written in scientific notation, as inf/nan, or with more than NUMBER_MAX_DIGITS digits
    before or after the point: refused with a message, and their digits are never read as a tempo or
    a length ("1e309 bpm" is not 309 BPM; 400 nines are no tempo at all)."""
    return [(m.group(0), m.span()) for m in UNREADABLE.finditer(text)]


def parse_number(token: str) -> float:
    token = token.strip()
    if token in NUMBER_WORDS:
        return float(NUMBER_WORDS[token])
    return float(token)


def _decade_name(m: re.Match) -> str:
    if m.group(1):
        return f"{m.group(2)}s"  # 1990s -> 90s
    if m.group(3):
        return f"20{m.group(4)}s"  # 2020s stays 2020s
    return f"{m.group(5)}s"


def find_decades(text: str) -> list[tuple[str, tuple[int, int]]]:
    """'80s', '1990s', "'70s", '1970's', and years ('1976' -> 70s): an era is a style cue, never
    a duration or a tempo."""
    found = [(_decade_name(m), m.span()) for m in DECADE.finditer(text)]
    for m in YEAR.finditer(text):
        year = m.group(1)
        found.append((f"{year[2]}0s" if year.startswith("19") else f"{year[:3]}0s", m.span()))
    return sorted(found, key=lambda item: item[1])


def find_durations(text: str, decade_spans: list[tuple[int, int]]) -> list[float]:
    """Durations in seconds, in order of appearance; negative values are kept so they can be refused."""
    found: list[tuple[int, float]] = []
    for m in MINUTE_AND_HALF.finditer(text):
        found.append((m.start(), 90.0))
    for m in DURATION_UNIT.finditer(text):
        if any(s < m.end() and m.start() < e for s, e in decade_spans):  # "mid-90s" is no -90 s
            continue
        if any(abs(m.start() - pos) < 3 for pos, _ in found):
            continue
        value = parse_number(m.group(1) or m.group(3))
        unit = m.group(2) or m.group(4)
        scale = 3600 if unit.startswith("h") else 60 if unit.startswith("m") else 1
        found.append((m.start(), value * scale))
    for m in DURATION_CLOCK.finditer(text):
        found.append((m.start(), int(m.group(1)) * 60 + int(m.group(2))))
    return [v for _, v in sorted(found)]


def find_bpms(text: str, *, tempo_context: bool, blocked: list[tuple[int, int]]) -> list[tuple[float, tuple[int, int]]]:
    """BPM values with their spans. A bare number counts only in a music context ("dnb, 174")."""
    out: list[tuple[float, tuple[int, int]]] = []

    def add(value: str, span: tuple[int, int]) -> None:
        if any(s < span[1] and span[0] < e for s, e in blocked + [sp for _, sp in out]):
            return
        out.append((float(value), span))

    for m in BPM_EXPLICIT.finditer(text):
        add(m.group(1), m.span())
    for m in BPM_PREFIX.finditer(text):
        add(m.group(1), m.span(1))
    if tempo_context:  # "house at 105"; but "a song about 100 friends" is no tempo
        for m in BPM_NEAR.finditer(text):
            add(m.group(1), m.span(1))
    if tempo_context and not out:
        for m in BARE_NUMBER.finditer(text):
            if BPM_MIN <= int(m.group(1)) <= BPM_MAX:
                add(m.group(1), m.span(1))
    return sorted(out, key=lambda item: item[1][0])


def find_seed(text: str) -> Optional[tuple[int, tuple[int, int]]]:
    m = SEED.search(text)
    return (int(m.group(1)), m.span()) if m else None


def find_take_ref(text: str) -> Optional[int]:
    """1-based take number, or -1 for 'the last one'."""
    m = TAKE_REF.search(text)
    if not m:
        return None
    token = next(g for g in m.groups() if g)
    return ORDINALS[token] if token in ORDINALS else int(token)


def find_take_count(text: str) -> Optional[int]:
    m = TAKE_COUNT.search(text)
    return int(parse_number(m.group(1))) if m else None
