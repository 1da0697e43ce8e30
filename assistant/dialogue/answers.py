"""Answers to questions, from our own data: the glossary, genre profiles, the brief, and our limits.

A question never changes the brief. It is recognised by its form (a question word, a question
mark, "explain", "difference between"); a request in question form ("can you make a sad song?")
stays a request unless it asks about a topic answered here. Answers are facts we hold, so they are
true with the LLM off, and a 135M model is never asked what it knows.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

import yaml
from pydantic import BaseModel, Field

from assistant.brief import LEAF_PATHS, get_path
from assistant.wording import describe_value
from assistant.limits import BPM_MAX, BPM_MIN, DURATION_MAX_S, DURATION_MIN_S, MAX_TAKES, MUSICGEN_WINDOW_S
from assistant.dialogue.state import State
from assistant.wording import reply
from assistant import wording
from assistant.resources import PROMPTS_DIR, VOCAB_DIR
from assistant.understanding.intents import is_question
from assistant.vocab import GenreProfile, genre_list, vocabulary

SENTENCE = re.compile(r"[^.?!]+[.?!]*")


class Answer(BaseModel):
    topic: str
    text: str
    options: list[str] = Field(default_factory=list)  # one example to click, where it helps
    suggestion: dict[str, float] = Field(default_factory=dict)  # what "make it around that" means
    subject: Optional[str] = None  # the term explained: what "add one" refers to


@lru_cache(maxsize=1)
def _data() -> tuple[dict, dict, dict]:
    def load(path):
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    glossary = {str(term): entry for term, entry in load(PROMPTS_DIR / "glossary.yaml").items()}  # YAML reads 808 as a number
    return glossary, load(VOCAB_DIR / "questions.yaml"), load(PROMPTS_DIR / "labels.yaml")


@lru_cache(maxsize=1)
def _glossary_aliases() -> dict[str, str]:
    glossary = _data()[0]
    return {str(alias).lower(): term for term, entry in glossary.items()
            for alias in [term, *entry.get("aliases", [])]}


def label(path: str) -> str:
    return wording.label(path)


def split_question(text: str) -> Optional[tuple[str, str]]:
    """(the question, the rest of the message), or None when nothing is asked."""
    sentences = [s.strip() for s in SENTENCE.findall(text) if s.strip(" .?!")]
    asked = [s for s in sentences if is_question(s)]
    if not asked:
        return None
    rest = " ".join(s for s in sentences if s not in asked).strip(" .,;-")
    return " ".join(asked), rest


def looks_like_request(question: str) -> bool:
    return any(re.search(p, question) for p in _data()[1]["request_form"])


def pure_question(question: str) -> bool:
    """'is it going to rain?', 'who won?': never a request, whatever music words it holds."""
    return any(re.search(p, question) for p in _data()[1]["pure_question"])


def _topic(question: str) -> Optional[str]:
    for topic, patterns in _data()[1]["topics"].items():
        if any(re.search(p, question) for p in patterns):
            return topic
    return None


def _genres_in(text: str) -> list[GenreProfile]:
    vocab = vocabulary()
    names = dict.fromkeys(m.value for m in vocab.by_category["genre"].find(text))
    return [vocab.genres[name] for name in names]


def _listed(items: list[str]) -> str:
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)


def _genre_facts(profile: GenreProfile) -> dict[str, object]:
    return {"lo": profile.bpm[0], "hi": profile.bpm[1], "instruments": _listed(profile.instruments[:3]),
            "moods": _listed(profile.moods[:2])}


def _term_answer(term: str) -> Optional[Answer]:
    """A glossary entry and, for a style, its facts ("swing" is both); else the longest glossary
    term inside the words."""
    term = term.strip(" ?.!").removeprefix("a ").removeprefix("an ").removeprefix("the ")
    aliases = _glossary_aliases()
    profile = vocabulary().genre(term)
    profile = profile if profile and (term == profile.name or term in profile.aliases) else None
    found = aliases.get(term)
    if found is None and profile is None:  # the first term named, the longer one on a tie
        hits = [(m.start(), -len(a), a) for a in aliases
                for m in [re.search(rf"(?<![\w]){re.escape(a)}(?![\w])", term)] if m]
        found = aliases[min(hits)[2]] if hits else None
    texts, options = [], []
    if found is not None:
        entry = _data()[0][found]
        texts.append(reply("answer_term", means=entry["means"]))
        options += [entry["try"]] if entry.get("try") else []
    if profile is not None:
        texts.append(reply("answer_genre", genre=profile.name, **_genre_facts(profile)))
        options.append(f"{profile.name} at {profile.default_bpm} bpm")
    if not texts:
        return None
    return Answer(topic="glossary" if found else "genre", text=" ".join(texts), options=options[:1],
                  subject=found or (profile.name if profile else None))


def _provenance(state: State, path: str) -> str:
    value = describe_value(get_path(state.brief, path))
    if path in state.user_paths:
        return reply("answer_said", value=value, label=label(path))
    source = state.sources.get(path)
    if source is not None and source.kind == "inferred":
        return reply("answer_inferred", value=value, label=label(path),
                     source=source.origin or reply("answer_source_request"))
    return reply("answer_filled", value=value, label=label(path),
                 genre=state.brief.style.genre or reply("answer_source_default"))




@lru_cache(maxsize=1)
def _field_words() -> dict[str, str]:
    """prompts/vocab/field_words.yaml: a question's word for a field -> its brief path."""
    with open(VOCAB_DIR / "field_words.yaml", encoding="utf-8") as fh:
        return {str(word): str(path) for word, path in yaml.safe_load(fh).items()}


def _why(state: State, question: str) -> Optional[Answer]:
    """'why 124?', 'why so dark?', 'why these instruments?': where a value came from."""
    numbers = {int(n) for n in re.findall(r"\d+", question)}
    words = set(re.findall(r"[a-z][a-z&'-]+", question))
    for path in LEAF_PATHS:
        value = get_path(state.brief, path)
        values = value if isinstance(value, list) else [value]
        if any((isinstance(v, (int, float)) and v in numbers) or (isinstance(v, str) and set(v.split()) <= words and v)
               for v in values if not isinstance(v, bool)):  # a melody is found by its field word
            return Answer(topic="why", text=_provenance(state, path))
    fields = [_field_words()[w] for w in words if w in _field_words()]
    if fields and get_path(state.brief, fields[0]) not in (None, []):
        return Answer(topic="why", text=_provenance(state, fields[0]))
    named = [str(n) for n in numbers] or [w for w in words if vocabulary().canonical("mood", w) or vocabulary().genre(w)]
    if named:
        return Answer(topic="why", text=reply("answer_not_in_brief", value=named[0]))
    return None


def _filled(state: State) -> Answer:
    def values(paths: list[str]) -> str:
        return "; ".join(f"{label(p)} {describe_value(get_path(state.brief, p))}" for p in paths)
    if not state.filled_paths:
        return Answer(topic="filled", text=reply("answer_nothing_filled", said=values(state.user_paths)))
    return Answer(topic="filled", text=reply("answer_filled_list", genre=state.brief.style.genre or reply("answer_source_default"),
                                             filled=values(state.filled_paths), said=values(state.user_paths),
                                             inferred=values(state.inferred_paths)))


def _tempo(state: State, question: str) -> Answer:
    genres = _genres_in(question) or ([vocabulary().genre(state.brief.style.genre)] if state.brief.style.genre
                                      else [])
    profile = genres[0] if genres and genres[0] else None
    if profile is None:
        lo, hi = vocabulary().general_bpm_range
        return Answer(topic="tempo", text=reply("answer_tempo_general", lo=lo, hi=hi), options=["100 bpm"])
    middle = profile.default_bpm
    return Answer(topic="tempo", text=reply("answer_tempo", genre=profile.name, lo=profile.bpm[0],
                                            hi=profile.bpm[1], middle=middle),
                  options=[f"{middle} bpm"], suggestion={"bpm": middle})


def answer(state: State, question: str) -> Optional[Answer]:
    """The answer to a question about music, the brief or the assistant; None when we hold no facts."""
    topic = _topic(question)
    limits = {"duration": lambda: reply("answer_duration", min=f"{DURATION_MIN_S:g}", max=f"{DURATION_MAX_S:g}",
                                        now=f"{state.brief.duration_s:g}", window=f"{MUSICGEN_WINDOW_S:g}"),
              "takes": lambda: reply("answer_takes", max=MAX_TAKES, now=state.settings.takes),
              "lyrics": lambda: reply("answer_lyrics"), "imitate": lambda: reply("answer_imitate"),
              "licence": lambda: reply("answer_licence"), "model": lambda: reply("answer_model")}
    if topic in limits:
        return Answer(topic=topic, text=limits[topic]())
    if topic == "genres":
        names = sorted(vocabulary().genres)
        return Answer(topic=topic, text=reply("answer_genres", count=len(names),
                                              examples=_listed(list(genre_list("examples")))))
    if topic == "filled":
        return _filled(state)
    if re.match(r"(?:why|how come)\b", question):
        return _why(state, question)
    if topic == "compare" and len(_genres_in(question)) >= 2:
        a, b = _genres_in(question)[:2]
        fa, fb = _genre_facts(a), _genre_facts(b)
        return Answer(topic=topic, text=reply("answer_compare", a=a.name, b=b.name,
                                              **{f"a_{k}": v for k, v in fa.items()}, **{f"b_{k}": v for k, v in fb.items()}))
    if topic == "bpm_limits":
        return Answer(topic=topic, text=reply("answer_bpm_limits", min=BPM_MIN, max=BPM_MAX))
    if topic == "tempo":
        return _tempo(state, question)
    if topic == "genre" and _genres_in(question):
        profile = _genres_in(question)[0]
        return Answer(topic=topic, text=reply("answer_genre", genre=profile.name, **_genre_facts(profile)),
                      options=[f"{profile.name} at {profile.default_bpm} bpm"])
    for pattern in _data()[1]["definition"]:
        m = re.search(pattern, question)
        if m and (found := _term_answer(m.group("term"))):
            return found
    if not looks_like_request(question):
        return _term_answer(question)
    return None


def then_ask(answer_text: str, state: State) -> str:
    """The answer, then the pending question again, so the conversation picks up where it was."""
    if not state.pending:
        return answer_text
    genre = state.brief.style.genre or ""
    moods = ", ".join(state.brief.style.mood)
    pending = reply(f"ask_{state.pending}", genre=genre, moods=moods) if state.pending != "new_or_edit" \
        else reply("new_or_edit")
    return reply("answer_then", answer=answer_text, pending=pending)


MUSIC_WORDS = re.compile(r"(?<![\w])(?:music|musical|song|songs|track|tracks|tune|tunes|beat|beats|sound|sounds|"
                         r"album|band|artist|singer|melody|instrument|instruments|genre|genres|chord|rhythm)(?![\w])")


def mentions_music(question: str) -> bool:
    """A question about music we hold no facts for gets "I don't know that one", not the off-topic reply."""
    vocab = vocabulary()
    sounds = [m for m in vocab.find_all(question) if m.category != "instrument"
              or vocab.family_of(m.value) != "textures"]  # "rain" is weather before it is a sound
    return bool(MUSIC_WORDS.search(question) or sounds)
