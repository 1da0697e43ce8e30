"""One reading of a message before any reader looks at it: what describes the music, and what doesn't.

People paste lyrics with Suno's structure tags, quote titles, name bands nobody knows and tell a
story about their cat. Read as a music description, "I'm too tired to leave the house" is house
and "Tom Browne" is toms. So the message is read once, on its lines and tokens, into:
- `text`: the normalised description every reader (numbers, vocabulary, references, intents) reads,
  with lyric lines, quoted text and unknown names blanked out (the story's subject, "about ...",
  is read there for mood and references only: `extract.story_span`);
- `mood_text`: the lyrics and quotes, read for mood only;
- `sections`: the structure tags ([Verse], (Chorus), **Bridge**, Outro:), in order;
- `names`: capitalised names after "in the style of", "like", "by" that no reference knows;
- `title`: a quoted title, the song's theme when no subject is said ("about ..." is found by extract).
"""
from __future__ import annotations

import re
from typing import Optional

from pydantic import BaseModel, Field

from assistant.understanding.extract import Extraction, extract, normalise
from assistant.understanding.characters import plain
from assistant.limits import LYRIC_MAX_MOODS, LYRIC_MIN_LINES, MAX_ITEMS, NAME_MAX_WORDS
from assistant.understanding.references import reference_index
from assistant.understanding.spelling import correct
from assistant.facts import fact
from assistant.vocab import vocabulary

SECTION_WORDS = (r"pre[- ]?chorus|post[- ]?chorus|chorus|verse|bridge|intro|outro|hook|drop|refrain|breakdown|"
                 r"build[- ]?up|interlude|instrumental|solo|break|coda|final chorus")
_TAG_BODY = rf"\s*(?:final |last )?({SECTION_WORDS})\b[^\]\)\*\n]{{0,30}}?"
METATAG = re.compile(rf"\[{_TAG_BODY}\]|\({_TAG_BODY}\)|\*\*{_TAG_BODY}\*\*", re.I)
TAG_LINE = re.compile(rf"^\s*(?:final |last )?({SECTION_WORDS})(?:\s*\d+)?(?:\s*(?:&|and)\s*\d+)?\s*:?\s*$", re.I)
LABEL_LINE = re.compile(rf"^\s*(?:final |last )?({SECTION_WORDS})(?:\s*\d+)?\s*:\s*(.*)$", re.I)
OTHER_TAG = re.compile(r"\[[^\]\n]{1,40}\]")  # [Epic opera], [Inpaint]: Suno's other tags, read without brackets
QUOTED = re.compile(r"\"([^\"\n]{3,})\"|“([^”\n]{3,})”")
REFERENCE_CUE = re.compile(r"(?<![\w'])(?:in the style of|in the vein of|similar to|sounds? like|inspired by|à la|a la|like|by)\s+",
                           re.I)
NAME_WORD = r"[A-Z0-9][\w'’&.!-]*"
NAME = re.compile(rf"(?:the\s+|The\s+)?({NAME_WORD}(?:\s+(?:of|the|and|&|de|la|von)?\s*{NAME_WORD}){{0,{NAME_MAX_WORDS - 1}}})")

NAME_BEFORE_CUE = re.compile(rf"(?<![\w'])({NAME_WORD}(?:\s+{NAME_WORD}){{0,{NAME_MAX_WORDS - 1}}})(?=[\s-]+(?:style|"
                             r"type beat|vibes?|sound|inspired|esque)\b)")


NAME_FILLER = {"a", "an", "the", "my", "our", "your", "this", "that", "some", "of", "and", "in", "i", "it", "music",
               "song", "songs", "track", "beat", "sound", "new", "old"}


class Reading(BaseModel):
    """A message read once: the description, and the parts that describe no sound."""

    text: str  # normalised description, lowercase: what the readers read
    mood_text: str = ""  # lyrics and quoted titles: read for mood only
    sections: list[str] = Field(default_factory=list)  # from structure tags, in order
    lyric_lines: int = 0  # lines of lyrics pasted (none reach the prompt)
    names: list[str] = Field(default_factory=list)  # unknown names after a reference phrase, as written
    title: Optional[str] = None  # a quoted title ("Hollow World"): the theme when no subject is said

    @property
    def has_lyrics(self) -> bool:
        return self.lyric_lines > 0


SECTION_ALIASES = {"hook": "chorus", "refrain": "chorus", "post-chorus": "chorus", "final chorus": "chorus",
                   "instrumental": "solo", "break": "breakdown", "buildup": "build", "build-up": "build",
                   "build up": "build", "prechorus": "pre-chorus", "pre chorus": "pre-chorus"}


def _section(word: str) -> Optional[str]:
    """A structure tag's section in our vocabulary: [Hook] is a chorus, [Break] a breakdown."""
    word = " ".join(word.lower().split())
    return vocabulary().canonical("section", SECTION_ALIASES.get(word, word))


def _describes_music(line: str) -> bool:
    """A line of a pasted song that is a style description ("pop punk, energetic, 180 BPM"), not a lyric."""
    text = normalise(line)
    words = re.findall(r"[a-z0-9']+", text)
    if not words:
        return False
    if re.search(r"\d+\s*bpm|\bstyle\s*:|\bgenre\s*:|\btempo\s*:", text):
        return True
    matches = vocabulary().find_all(text)
    if not matches:
        return False
    if _is_tag_list(text):
        return True
    covered = sum(m.end - m.start for m in matches)
    return covered >= 0.35 * sum(len(w) for w in words)


def _is_tag_list(text: str) -> bool:
    """"pop punk, energetic, male vocals": most comma-separated parts name music."""
    parts = [p for p in text.split(",") if p.strip()]
    if len(parts) < 3:
        return False
    naming = sum(bool(vocabulary().find_all(p.strip())) for p in parts)
    return naming >= 0.6 * len(parts) and sum(len(p.split()) for p in parts) / len(parts) <= 3.5


def _structure(lines: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(sections from the tags, description lines, lyric lines)."""
    sections: list[str] = []
    description: list[str] = []
    tags = 0
    body = [line for line in lines if line.strip()]
    in_song = False  # Suno's form: the style first, then the tagged lyrics
    lyric_after_tag: list[str] = []
    for line in body:
        found = [next(g for g in m.groups() if g) for m in METATAG.finditer(line)]
        stripped = OTHER_TAG.sub(lambda t: f" {t.group(0)[1:-1]} ", METATAG.sub(" ", line)).strip(" -:*")
        whole = TAG_LINE.match(line.strip(" *[]()"))
        label = LABEL_LINE.match(line) if not found and not whole else None
        if whole:
            found, stripped = [whole.group(1)], ""
        elif label and not _describes_music(label.group(2)):
            found, stripped = [label.group(1)], label.group(2)
        tags += len(found)
        sections += [s for s in (_section(f) for f in found) if s]
        in_song = in_song or bool(found)
        if stripped and in_song and not _is_tag_list(normalise(stripped)) \
                and not re.search(r"\d+\s*bpm|\bstyle\s*:|\bgenre\s*:", stripped, re.I):
            lyric_after_tag.append(stripped)
        elif stripped:
            description.append(stripped)
    shaped = tags > 0 or len(body) >= LYRIC_MIN_LINES
    if not shaped:
        return sections, description, []
    if lyric_after_tag:
        return sections, description, lyric_after_tag
    lyric_lines = [line for line in description if not _describes_music(line)]
    kept = [line for line in description if line not in lyric_lines]
    if len(lyric_lines) < 2 and tags == 0:  # a few lines of description, not a song
        return sections, description, []
    return sections, kept, lyric_lines


def _names(raw: str) -> list[tuple[str, int, int]]:
    """Capitalised names after a reference phrase that no reference knows ("in the style of Alter Bridge")."""
    letters = [c for c in raw if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) > 0.6 * len(letters):
        return []  # ALL CAPS: capitals say nothing about names
    vocab = vocabulary()
    out = []
    found = [m for cue in REFERENCE_CUE.finditer(raw) if (m := NAME.match(raw, cue.end()))]
    found += [m for m in NAME_BEFORE_CUE.finditer(raw)]  # "Joy Division style", "Drake type beat"
    for m in found:
        name = re.sub(r"['’]s$", "", m.group(1)).rstrip(".!,")
        if any(start <= m.start(1) < end for _, start, end in out):
            continue
        key = name.lower()
        known = reference_index().find(key)
        if known and any(k.start == 0 and k.end >= len(key) - 1 for k in known):
            continue  # a reference we know: described as today
        words = re.findall(r"[a-z0-9]+", key)
        covered = {w for mt in vocab.find_all(key) for w in re.findall(r"[a-z0-9]+", mt.surface)}
        if not re.search(r"[^\W\d_]", name):
            continue  # "by 4 seconds", "like 90": a number is no name
        if not words or all(w in covered or w in NAME_FILLER for w in words):
            continue  # "like Jazz", "by Heavy Metal", "A Rock style": music words, not a name
        out.append((name, m.start(1), m.start(1) + len(name)))
    return out


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + " , " + text[end:]
    return text


def read(message: str) -> Reading:
    """Read one message once. Pure; never raises on any string."""
    raw = plain(message if isinstance(message, str) else str(message or "")).replace("’", "'")
    sections, description, lyric_lines = _structure(raw.splitlines() or [raw])
    described = "\n".join(description)
    quotes = [(m.start(), m.end()) for m in QUOTED.finditer(described) if not _describes_music(m.group(0))]
    if not re.search(r"[^\W\d_]", _blank(described, quotes).replace(",", "")):
        quotes = []  # the whole request in quotes: it is the request, not a title
    quoted = [described[s:e] for s, e in quotes]
    names = _names(described)
    masked = _blank(described, quotes + [(s, e) for _, s, e in names
                                         if not any(qs <= s < qe for qs, qe in quotes)])
    return Reading(text=normalise(masked), title=quoted[0].strip('"“” ') if quoted else None,
                   mood_text=normalise(" . ".join([*lyric_lines, *quoted])), sections=_dedupe_runs(sections)[:MAX_ITEMS],
                   lyric_lines=len(lyric_lines), names=[n for n, _, _ in names])


def _dedupe_runs(sections: list[str]) -> list[str]:
    """[Chorus] [Chorus] is one chorus; verse chorus verse chorus keeps its repeats."""
    return [s for i, s in enumerate(sections) if i == 0 or sections[i - 1] != s]


def with_reading(ex: Extraction, reading: Reading) -> Extraction:
    """What the reading adds to the description's extraction: structure from the tags, moods from
    the lyrics and quotes, a quoted title as the theme when extract found no subject, and the
    names to ask about."""
    update: dict = {"unknown_names": reading.names, "lyrics": reading.has_lyrics}
    if reading.sections and not ex.sections:
        update["sections"] = reading.sections
    if not ex.moods and reading.mood_text:
        moods = list(dict.fromkeys(m.surface for m in vocabulary().find_all(reading.mood_text) if m.category == "mood"))
        update["moods"] = moods[:LYRIC_MAX_MOODS]
    if reading.title and not ex.theme:
        update["theme"] = reading.title
    if reading.has_lyrics:
        update["notices"] = [*ex.notices, fact("lyrics_instrumental", structure=" > ".join(reading.sections))]
    return ex.model_copy(update=update)


def read_and_extract(message: str) -> tuple[Reading, str, Extraction]:
    """The reading, the corrected description text and its extraction: for callers that read a
    whole message outside the dialogue's turn (the prompt coach, a held message)."""
    reading = read(message)
    text = correct(reading.text)
    return reading, text, with_reading(extract(text), reading)
