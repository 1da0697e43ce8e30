"""Deterministic understanding of one message: what it says about each control.

`extract` only reads; `assistant.dialogue.update` decides how a reading changes a brief. Everything here
is grounded in the vocabularies under prompts/, so it never invents a value.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Optional

from pydantic import BaseModel, Field

from assistant.understanding import numbers
from assistant.understanding.phrasing import colours_an_instrument, describes_an_instrument, genre_inside, genre_phrase, instrument_phrase
from assistant.understanding.musical_key import find_key
from assistant.understanding.characters import plain
from assistant.limits import GENRE_MAX_WORDS
from assistant.understanding.references import Reference, reference_index
from assistant.facts import Fact, fact
from assistant.vocab import Match, vocabulary


NEGATION_CUE = re.compile(
    r"(?<![\w])(?:no|without|minus|not|never|zero|nothing like|don'?t want|do not want|don'?t add|"
    r"remove|lose the|drop the|cut the|cut out|take out|get rid of|kill the|mute the|leave out|skip the)(?![\w])"
)
NEGATION_FILLER = re.compile(r"^(?:[\s,&/+]|\b(?:the|any|a|an|or|and|nor|more|of|its|it|those|these|all)\b)*$")
ONLY_BEFORE = re.compile(r"(?<![\w])(?:only|just|solo|purely|nothing but)\s+(?:(?:a|an|the)\s+)?$")
ONLY_AFTER = re.compile(r"^\s*(?:only|alone)(?![\w])")  # "sax solo" is a solo, "solo sax" an arrangement
ADD_CUE = re.compile(r"(?<![\w])(?:add|adding|plus|bring in|more|with|include|throw in|layer)(?![\w])")



class Extraction(BaseModel):
    """What one message says, per control, before it touches a brief."""

    genres: list[str] = Field(default_factory=list)
    weak_genres: list[str] = Field(default_factory=list)  # also another word ("lo-fi", "swing")
    moods: list[str] = Field(default_factory=list)
    instruments: list[str] = Field(default_factory=list)
    production: list[str] = Field(default_factory=list)
    sections: list[str] = Field(default_factory=list)
    feel: Optional[str] = None
    tempo_word: Optional[str] = None  # canonical: slow | mid-tempo | uptempo | fast
    tempo_surface: Optional[str] = None  # as said: "medium tempo"
    tempo_factor: Optional[float] = None
    bpm: Optional[float] = None
    mix: dict[str, str] = Field(default_factory=dict)
    exclude: list[str] = Field(default_factory=list)
    only: bool = False
    adds: bool = False
    duration_s: Optional[float] = None
    duration_factor: Optional[float] = None
    seed: Optional[int] = None
    key: Optional[str] = None  # "d minor", or only the mode: "minor"
    take_count: Optional[int] = None
    conflicts: list[str] = Field(default_factory=list)  # slots said two ways ("fast and slow")
    conflict_values: dict[str, list[str]] = Field(default_factory=dict)  # slot -> what was said
    notices: list[Fact] = Field(default_factory=list)  # coded facts: the dialogue words them
    references: list[Reference] = Field(default_factory=list)  # occasions, scenes, media, eras, artists named
    inferred: list[str] = Field(default_factory=list)  # fields filled by inference (references, LLM), not said
    theme: Optional[str] = None  # what the song is about ("crazy ideas"): the brief keeps it, MusicGen never sees it
    lyrics: bool = False  # lyrics were pasted: read for mood and structure only
    unknown_names: list[str] = Field(default_factory=list)  # "in the style of Alter Bridge": a name we don't know

    def names_music(self) -> bool:
        """True when the message says anything about the music itself."""
        return bool(
            self.genres or self.weak_genres or self.moods or self.instruments or self.production
            or self.sections or self.feel or self.tempo_word or self.tempo_factor or self.bpm
            or self.mix or self.exclude or self.duration_s or self.duration_factor or self.conflicts
            or self.references or self.key
        )


LINK = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]*:)?//\S+|\b(?:javascript|data|vbscript|mailto):\S*")


def normalise(message: str) -> str:
    """Lowercase, unify quotes and dashes, drop control characters, bound the length."""
    text = plain(message)
    text = text.replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", " - ")
    # Zero-width and other format characters vanish ("tech\u200dno" is techno); other control
    # characters become spaces.
    text = "".join("" if unicodedata.category(ch) == "Cf" else ch if ch.isprintable() else " " for ch in text)
    text = LINK.sub(" ", text)  # a link's words ("http://evil/...") are not a description of music
    return " ".join(text.lower().split())


def _is_negated(text: str, match: Match, others: list[Match]) -> bool:
    clause_start = max(text.rfind(sep, 0, match.start) for sep in (".", ";", "!", "?", " but ", " with "))
    window = text[clause_start + 1: match.start]
    cues = list(NEGATION_CUE.finditer(window))
    if not cues:
        return False
    between = window[cues[-1].end():]
    offset = clause_start + 1 + cues[-1].end()
    for other in others:  # a list of negated items: "no drums or vocals"
        if offset <= other.start and other.end <= match.start:
            rel_s, rel_e = other.start - offset, other.end - offset
            between = between[:rel_s] + " " * (rel_e - rel_s) + between[rel_e:]
    return bool(NEGATION_FILLER.match(between))


def _one_side(tempo_words: list[str]) -> list[str]:
    """"fast with a quick beat" is one tempo: only slow against uptempo or fast is a contradiction."""
    sides = {"slow": -1, "mid-tempo": 0, "uptempo": 1, "fast": 1}
    if len({sides[w] for w in tempo_words} - {0}) <= 1 and tempo_words:
        return [max(tempo_words, key=lambda w: abs(sides[w]))]
    return tempo_words


def _single(values: list[str], slot: str, ex: Extraction) -> Optional[str]:
    """One value for a one-value slot; two different ones are a contradiction to ask about."""
    distinct = list(dict.fromkeys(values))
    if len(distinct) > 1:
        ex.conflicts.append(slot)
        ex.conflict_values[slot] = distinct  # the dialogue asks it back
        return None
    return distinct[0] if distinct else None


def _add_phrase(phrases: list[str], keys: list[str], phrase: str, key: str) -> None:
    """Two descriptions of one instrument ("wooden percussion", "clapping percussion") are both
    kept; one that only repeats another ("the piano" after "soft piano") is not."""
    words = _stems(phrase)
    family = vocabulary().instrument_family.get(key)
    if any(words <= _stems(old) and vocabulary().instrument_family.get(k) == family
           for old, k in zip(phrases, keys)):  # "the voices" after "male voices" (a guitar after a bass guitar stays)
        return
    for i, (old, old_key) in enumerate(zip(phrases, keys)):
        if old_key == key and _stems(old) <= words:  # "piano", then "soft piano": the fuller words win, in place
            phrases[i] = phrase
            return
    phrases.append(phrase)
    keys.append(key)


def _stems(phrase: str) -> set[str]:
    """The words of a phrase without a plural s: "voices" repeats "male voice"."""
    return {w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in phrase.split()}


def _add_word(words: list[str], keys: list[str], word: str, key: str) -> None:
    """The user's own words, once per word: "brutal" and "aggressive" both stay, "relaxed" and
    "relaxing" are one word said twice."""
    if any(k == key and (w == word or w[:5] == word[:5]) for w, k in zip(words, keys)):
        return
    words.append(word)
    keys.append(key)


# The story's subject: "a song about crazy ideas", "a ballad called Hollow World". Its words are the
# theme, read for mood and references only: never as a genre ("about my house"), instruments, tempo or length.
SUBJECT = re.compile(r"(?<![\w])(?:about|called|titled|named|dedicated to)\s+(?!\d|a minute|an hour)(.+?)"
                     r"(?=[.;!?]|,\s|\s+(?:with|in the style|that sounds|featuring|feat|using|at \d|around \d)(?![\w])|$)")
STORY_ONLY_STYLE = {"genre", "instrument", "production", "section", "feel", "tempo", "tempo_rel", "mix.brightness",
                    "mix.width", "mix.space"}


def story_span(text: str) -> Optional[tuple[int, int]]:
    """Where the song's subject is said, in normalised text."""
    m = SUBJECT.search(text)
    return m.span(1) if m and m.group(1).strip(" ,'\"") else None


GENRE_JOINER = re.compile(r"^[\s/-]*$")  # "jazz hip hop", "synth-pop", "rock/metal"; never a comma


@dataclass
class _Said:
    """A genre as said: its phrase (with any qualifier) and where its name ends."""
    phrase: str
    start: int  # where the name itself starts (a qualifier comes before)
    end: int
    surface: str


def _named_styles(text: str, said: list[_Said]) -> list[str]:
    """Genres said one after another with only a space or a hyphen between form runs. A run of two
    named styles ("jazz hip hop", "synth pop") is one style while it fits GENRE_MAX_WORDS and repeats
    no word; a longer run ("j pop jazz electronic tech house") is a list, read like a tag list. Inside
    a run, the genre before is no qualifier of the next ("electronic tech house")."""
    named = set(vocabulary().genres) | set(vocabulary().genre_kinds.values())
    runs: list[list[_Said]] = []
    for item in said:
        if runs and GENRE_JOINER.match(text[runs[-1][-1].end:item.start]):
            runs[-1].append(item)
        else:
            runs.append([item])
    out: list[str] = []
    for run in runs:
        phrases = [run[0].phrase] + [_without_qualifier(i.phrase, prev.phrase) for prev, i in zip(run, run[1:])]
        if len(run) == 2 and phrases[0] in named and phrases[1] in named \
                and set(run[1].surface.replace("-", " ").split()) <= set(phrases[1].replace("-", " ").split()):
            words = f"{phrases[0]} {phrases[1]}".split()
            if len(words) <= GENRE_MAX_WORDS and len(set(words)) == len(words):
                out.append(" ".join(words))
                continue
        out += phrases
    return out


def _without_qualifier(phrase: str, before: str) -> str:
    """"acoustic folk" after "acoustic": the qualifier was the genre before it."""
    words = phrase.split()
    return " ".join(words[1:]) if len(words) > 1 and words[0] == before.split()[-1] else phrase


@dataclass
class _Scan:
    """One message's vocabulary matches and what they add up to, while `extract` reads it."""

    text: str
    ex: Extraction
    matches: list[Match]
    blocked: list[tuple[int, int]]  # spans no number is read in: a seed, a name, a story
    story: Optional[tuple[int, int]]
    spans_by_category: dict[tuple[int, int], set[str]] = field(default_factory=dict)
    negatable: list[Match] = field(default_factory=list)  # what "no" may apply to
    tempo_words: list[str] = field(default_factory=list)
    mix_values: dict[str, list[str]] = field(default_factory=dict)
    tempo_surfaces: dict[str, str] = field(default_factory=dict)  # canonical -> as first said
    instrument_keys: list[str] = field(default_factory=list)
    genre_keys: list[str] = field(default_factory=list)
    mood_keys: list[str] = field(default_factory=list)
    production_keys: list[str] = field(default_factory=list)
    colour_genres: list[str] = field(default_factory=list)
    said_genres: list[_Said] = field(default_factory=list)
    usage_genres: list[str] = field(default_factory=list)  # "soundtrack", "video game": what the music is for


def extract(message: str) -> Extraction:
    """Read one message into an Extraction: one reader per control. Pure; never raises on any string."""
    scan = _scan(normalise(message))
    _read_numbers_first(scan)
    for m in scan.matches:
        _read_match(scan, m)
    _settle_style(scan)
    _settle_palette(scan)
    _settle_tempo_and_mix(scan)
    _read_bpm_and_length(scan)
    _read_key_and_story(scan)
    return scan.ex


def _scan(text: str) -> _Scan:
    """The references and vocabulary words of a message. A name hides the vocabulary words inside it
    ("daft punk" is no punk, "blink-182" no tempo), and so do phrases of several words ("dinner party")."""
    ex = Extraction()
    refs = reference_index().find(text)
    longest_first = sorted(refs, key=lambda r: r.start - r.end)
    ex.references = list(dict.fromkeys(r.reference for r in longest_first))
    names = [r for r in refs if r.reference.is_name or " " in r.surface.strip()]
    story = story_span(text)
    matches = [m for m in vocabulary().find_all(text) if not any(r.start < m.end and m.start < r.end for r in names)
               and not (story and m.category in STORY_ONLY_STYLE and story[0] <= m.start < story[1])]
    blocked = [(r.start, r.end) for r in refs if r.reference.is_name] + ([story] if story else [])
    scan = _Scan(text=text, ex=ex, matches=matches, blocked=blocked, story=story)
    for m in matches:
        scan.spans_by_category.setdefault((m.start, m.end), set()).add(m.category)
    scan.negatable = [m for m in matches if m.category in ("instrument", "production", "genre", "mood")]
    return scan


def _read_numbers_first(scan: _Scan) -> None:
    """A seed, numbers written so they can't be read ("1e9 seconds" is not 9 seconds), and decades."""
    text, ex = scan.text, scan.ex
    seed = numbers.find_seed(text)
    if seed:
        scan.blocked.insert(0, seed[1])
    for written in numbers.find_unreadable_numbers(text):
        scan.blocked.append(written[1])
        number = written[0] if len(written[0]) <= 16 else f"{written[0][:8]}… ({len(written[0])} characters)"
        ex.notices.append(fact("number_format", number=number))
    if seed:
        ex.seed = seed[0]
    decades = numbers.find_decades(text)
    scan.blocked += [span for _, span in decades]
    ex.production += [d for d, _ in decades]


def _read_match(scan: _Scan, m: Match) -> None:
    text, ex, vocab = scan.text, scan.ex, vocabulary()
    if describes_an_instrument(text, m, scan.matches):
        return  # "bright piano", "solo piano", "horn stabs": words of the instrument, not controls
    if m.category in ("instrument", "production") and _is_negated(text, m, scan.negatable):
        if m.value not in vocab.excluded(ex.exclude):
            ex.exclude.append(m.surface)  # the user's word: "no voices", "no singer"
        return
    if m.category == "genre":
        _read_genre(scan, m)
    elif m.category == "instrument":
        if m.value not in scan.instrument_keys:
            scan.colour_genres += genre_inside(m)  # "flamenco guitar"
        _add_phrase(ex.instruments, scan.instrument_keys, instrument_phrase(text, m), m.value)
        if ONLY_BEFORE.search(text[: m.start]) or ONLY_AFTER.match(text[m.end:]):
            ex.only = True
    elif m.category in ("mood", "production"):  # the user's own word, grounded by its canonical
        seen = scan.mood_keys if m.category == "mood" else scan.production_keys
        word = m.surface if re.search(r"[a-z]", m.surface) else m.value  # an emoji names its mood
        _add_word(ex.moods if m.category == "mood" else ex.production, seen, word, m.value)
    elif m.category == "section":
        ex.sections.append(m.value)
    elif m.category == "feel":
        ex.feel = ex.feel or m.value
    elif m.category == "tempo":
        scan.tempo_words.append(m.value)
        scan.tempo_surfaces.setdefault(m.value, m.surface)
    elif m.category == "tempo_rel":
        ex.tempo_factor = float(m.value)
    elif m.category.startswith("mix."):
        scan.mix_values.setdefault(m.category.split(".", 1)[1], []).append(m.value)


def _read_genre(scan: _Scan, m: Match) -> None:
    text, ex, vocab = scan.text, scan.ex, vocabulary()
    if colours_an_instrument(text, m, scan.matches):
        if m.value not in vocab.colour_only_genres:  # "jazz piano": also the style, if none is named
            scan.colour_genres.append(m.value)
        return  # "electronic drums", "acoustic guitar": a sound's colour, not the style
    shared = scan.spans_by_category[(m.start, m.end)] - {"genre"}
    if m.value in scan.genre_keys:
        return
    scan.genre_keys.append(m.value)
    phrase = genre_phrase(text, m)
    if shared:
        ex.weak_genres.append(phrase)
    else:
        scan.said_genres.append(_Said(phrase, m.start, m.end, m.surface))
    if m.surface in vocab.usage_genres:
        scan.usage_genres.append(phrase)


def _settle_style(scan: _Scan) -> None:
    text, ex, vocab = scan.text, scan.ex, vocabulary()
    if any(w not in vocab.mood_frames for w in ex.moods):  # "an eerie atmosphere": the mood is eerie
        ex.moods = [w for w in ex.moods if w not in vocab.mood_frames]
    ex.genres = list(dict.fromkeys(_named_styles(text, scan.said_genres)))
    if any(g not in scan.usage_genres for g in ex.genres):  # "a folk song for a movie soundtrack" is folk
        ex.genres = [g for g in ex.genres if g not in scan.usage_genres]
    if not (ex.genres or ex.weak_genres) and scan.colour_genres:
        ex.genres = scan.colour_genres[:1]


def _settle_palette(scan: _Scan) -> None:
    text, ex, vocab = scan.text, scan.ex, vocabulary()
    if INSTRUMENTAL.search(text):
        ex.exclude.append("vocals") if "vocals" not in vocab.excluded(ex.exclude) else None
    if NO_OTHER_INSTRUMENTS.search(text):
        ex.exclude.append("other instruments")
    if A_CAPPELLA.search(text):
        ex.instruments = ["vocals", *[i for i in ex.instruments if i != "vocals"]]
        ex.only = True
    ruled_out = vocab.excluded(ex.exclude)
    ex.instruments = [i for i in ex.instruments if vocab.canonical("instrument", i) not in ruled_out]
    ex.adds = bool(ADD_CUE.search(text)) and bool(ex.instruments)


def _settle_tempo_and_mix(scan: _Scan) -> None:
    ex = scan.ex
    ex.tempo_word = _single(_one_side(scan.tempo_words), "tempo", ex)
    ex.tempo_surface = scan.tempo_surfaces[ex.tempo_word] if ex.tempo_word else None  # "medium ... fast": fast
    for axis, values in scan.mix_values.items():
        value = _single(values, f"mix.{axis}", ex)
        if value:
            ex.mix[axis] = value


def _read_bpm_and_length(scan: _Scan) -> None:
    text, ex = scan.text, scan.ex
    music_context = bool(ex.genres or ex.weak_genres or scan.tempo_words or ex.feel or ex.instruments
                         or TEMPO_CONTEXT.search(text))
    bpms = numbers.find_bpms(text, tempo_context=music_context, blocked=scan.blocked)
    if bpms:
        ex.bpm = bpms[0][0]
        ex.tempo_factor = None  # "faster, 174 bpm": the number is the precise answer
    scan.blocked += [span for _, span in bpms]
    durations = numbers.find_durations(text, scan.blocked)
    if durations:
        ex.duration_s = durations[0]
    else:
        ex.duration_factor = next((factor for pattern, factor in LENGTH_FACTORS if pattern.search(text)), None)
    ex.take_count = numbers.find_take_count(text)


def _read_key_and_story(scan: _Scan) -> None:
    text, ex, story = scan.text, scan.ex, scan.story
    key = find_key(text)
    if key and not (story and story[0] <= key[1][0] < story[1]):
        ex.key = key[0]
    if story:
        ex.theme = text[story[0]:story[1]].strip(" ,'\"")


INSTRUMENTAL = re.compile(r"(?<![\w])(?:instrumental|no singing|no voice|no vocals?)(?![\w])")
NO_OTHER_INSTRUMENTS = re.compile(r"(?<![\w])(?:no|without|without any) other instruments?(?![\w])")
A_CAPPELLA = re.compile(r"(?<![\w])a ?cappella(?![\w])")
TEMPO_CONTEXT = re.compile(r"(?<![\w])(?:tempo|beat|groove)(?![\w])")
LENGTH_FACTORS = ((re.compile(r"(?<![\w])(?:twice as long|double the length)(?![\w])"), 2.0),
                  (re.compile(r"(?<![\w])(?:longer|extend it|make it long)(?![\w])"), 1.5),
                  (re.compile(r"(?<![\w])(?:shorter|make it short|cut it down)(?![\w])"), 2 / 3))
