"""The conversation policy: a pure `step(state, message) -> (state, Turn)`.

It decides (ask, generate or answer) from what the deterministic reader found; an optional
LLM only adds grounded proposals and wording (assistant.understanding.understand), never the decision.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from assistant.understanding import numbers
from assistant.actions import Action, EditControls, HeardClip, KeepTake
from assistant.brief import LEAF_PATHS, Melody, MusicBrief, diff, get_path, with_value
from assistant.understanding.extract import Extraction, extract, normalise
from assistant.understanding.spelling import correct, english_words
from assistant.dialogue.answers import answer, looks_like_request, mentions_music, pure_question, split_question, then_ask
from assistant.understanding.guard import text_kind
from assistant.understanding.inference import described_artists, from_references
from assistant.understanding.intents import detect_intents
from assistant.understanding.references import Reference
from assistant.limits import DURATION_MAX_S, EXTEND_DEFAULT_S, GENRE_MAX_WORDS, MAX_MESSAGE_CHARS, MELODY_MAX_S, MAX_QUESTIONS_PER_SONG, MAX_TAKES, SUBJECT_MAX_WORDS, SUBJECT_MOOD_MARGIN, THEME_MAX_WORDS
from assistant.understanding.reading import Reading, read, read_and_extract, with_reading
from assistant.vocab import midpoint, vocabulary
from assistant.dialogue.rounds import remixable, said_changes, same_seeds, seeds_from, start_round
from assistant.dialogue.questions import (Question, build_question, conflict_question, next_control,
                                 ready_to_generate)
from assistant.prompt.render import render_prompt
from assistant.dialogue.quick_actions import quick_actions
from assistant.dialogue.state import State, TakeRef, Turn, new_song_state
from assistant.facts import fact
from assistant.wording import reply, reply_list, say
from assistant.understanding.understand import Understanding
from assistant.dialogue.update import Update, apply_extraction



def act(state: State, action: Action, understand: Optional[Understanding] = None) -> tuple[State, Turn]:
    """One turn of any kind: a chat message, a 👍 on a take, or an edit of the brief's controls."""
    if isinstance(action, KeepTake):
        return keep_take(state.model_copy(deep=True), action.round, action.number)
    if isinstance(action, EditControls):
        return edit_controls(state.model_copy(deep=True), action)
    if action.heard is not None:
        return with_clip(state.model_copy(deep=True), action.text, action.heard, understand)
    return step(state, action.text, understand=understand)


def with_clip(state: State, text: str, heard: HeardClip, understand: Optional[Understanding]) -> tuple[State, Turn]:
    """A message with a clip: a clip kept becomes the melody the takes follow (an edit after a round,
    same seeds), or with "continue this" the start of every take; a refused one is said, and the
    words of the message are read as always."""
    if heard.refused is not None:
        notice = reply(f"clip_{heard.refused}", **heard.values)
        if not text.strip() or EXTEND.search(text.strip().lower()):  # "continue this" has nothing to continue
            return state, _answer(state, notice)
        state, out = step(state, text, understand)
        return state, _lead(out, notice)
    before = state.brief
    clip = Melody(clip_id=heard.clip_id, seconds=heard.seconds)
    state.clip = clip
    cut = heard.original_seconds > heard.seconds + 0.01
    if EXTEND.search(text.strip().lower()):  # "continue this": the clip is the start of the takes
        notices = [reply("clip_cut_continue", seconds=f"{heard.original_seconds:.0f}", limit=f"{MELODY_MAX_S:g}")] \
            if cut else []
        return _continue_clip(state, text, clip, notices)
    state.brief = state.brief.model_copy(update={"melody": clip})
    state.set_sources(["melody"], "said")
    notices = [reply("melody_set", seconds=f"{heard.seconds:.0f}")]
    if cut:
        notices.append(reply("clip_cut", seconds=f"{heard.original_seconds:.0f}", limit=f"{MELODY_MAX_S:g}"))
    if text.strip():
        generated = state.phase == "generated"
        state, out = step(state, text, understand)
        if state.brief.melody is None:  # "new song, follow this": the new song follows the clip
            state.brief = state.brief.model_copy(update={"melody": clip})
            state.set_sources(["melody"], "said")
            if out.action == "generate" and state.last_round is not None:
                state.last_round.brief = state.last_round.brief.model_copy(update={"melody": clip})
        if out.action == "generate" and state.last_round is not None:
            state.last_round.remix_of = None  # a new melody is heard only in a new render
        elif generated:  # "follow this" after a round: the same seeds, now with the melody
            state, out = start_round(state, seeds=same_seeds(state), before=before)
        return state, _lead(out, " ".join(notices))
    if state.phase == "generated":
        return start_round(state, seeds=same_seeds(state), notices=notices, before=before)
    return _decide(state, notices)


def _lead(out: Turn, text: str) -> Turn:
    """A reply with a line before it, in the chat's summary too."""
    return out.model_copy(update={"reply": f"{text} {out.reply}", "summary": f"{text} {out.summary or out.reply}",
                                  "notices": [text, *out.notices]})


def step(state: State, message: str, understand: Optional[Understanding] = None) -> tuple[State, Turn]:
    """One user turn. `understand` is an optional assistant.understanding.understand.Understanding (LLM helper).

    Never raises on any string: bad input gets a specific answer and the brief keeps its values.
    """
    message = message if isinstance(message, str) else str(message or "")
    state, out = _step(state.model_copy(deep=True), message, understand)
    if len(message) > MAX_MESSAGE_CHARS:
        out = out.model_copy(update={"reply": f"{reply('truncated', limit=MAX_MESSAGE_CHARS)} {out.reply}"})
    return state, out


@dataclass
class _Turn:
    """One message as read once: its words, what the reader found in them, and its intents."""

    message: str
    reading: Reading
    text: str
    ex: Extraction
    intents: set[str]


def _step(state: State, message: str, understand: Optional[Understanding]) -> tuple[State, Turn]:
    state.turn += 1
    if state.pending == "new_or_edit":
        return _new_or_edit(state, message, understand)
    turn = _read_turn(state, message)
    if not isinstance(turn, _Turn):
        return turn
    done = _about_this_conversation(state, turn, understand)
    if done is not None:
        return done
    bare_subject = _subject_or_references(state, turn)
    if understand is not None and not _is_command(turn.text, turn.ex, turn.intents):  # a title's mood only when clear
        turn.ex, turn.intents = understand.enrich(state, turn.text, turn.ex, turn.intents,
                                                  mood_text=turn.reading.mood_text,
                                                  mood_margin=SUBJECT_MOOD_MARGIN if bare_subject else 0.0)
    if "new_song" in turn.intents:
        state = new_song_state(state.settings, song=state.song + 1, carried=state)
        if not turn.ex.names_music():
            return _ask(state, "style", [], lead=reply("new_song"))
    _set_take_count(state, turn.ex)
    return _take_command(state, turn) or _request(state, turn)


def _read_turn(state: State, message: str) -> _Turn | tuple[State, Turn]:
    """Read once: lyrics, quotes and unknown names are no description of the sound. Empty, junk,
    injected and unreadable messages are answered here."""
    reading = read(message)
    text = reading.text
    if not text.strip(" .,!?;:-_*~") and not (reading.has_lyrics or reading.sections or reading.names):
        return state, _answer(state, reply("junk" if message.strip() and text_kind(message) == "junk" else "empty"))
    intents = detect_intents(text)
    text = correct(text)
    ex = with_reading(extract(text), reading)
    if "injection" in intents and not ex.names_music():
        return state, _answer(state, reply("injection"))
    kind = text_kind(text)
    if kind == "foreign" and not ex.names_music() and state.phase != "generated":  # a song request we can't read
        ex.theme = " ".join(message.split()[:THEME_MAX_WORDS])
        return _update_and_generate(state, ex, force=False, lead=reply("foreign_theme"))
    if kind != "text" and not ex.names_music() and not ex.lyrics:
        return state, _answer(state, reply(kind))
    return _Turn(message=message, reading=reading, text=text, ex=ex, intents=intents)


def _about_this_conversation(state: State, turn: _Turn, understand: Optional[Understanding]
                             ) -> Optional[tuple[State, Turn]]:
    """Dropping the melody, comparing takes and questions: none of them describes a sound."""
    text, ex, intents = turn.text, turn.ex, turn.intents
    continuing = state.last_round is not None and state.last_round.continues is not None
    if DROP_MELODY.search(text) and (state.brief.melody is not None or continuing):
        return _drop_melody(state)
    if COMPARE.search(text) and (state.rounds or state.rounds_started) and not ex.names_music():
        return _compare(state, text)
    asked = split_question(text) if not intents & {"help", "show_brief"} else None
    if asked is not None and _is_request_in_question_form(asked[0], ex):
        asked = None
    return _question(state, asked, ex, intents, understand) if asked is not None else None


def _subject_or_references(state: State, turn: _Turn) -> bool:
    """A bare title becomes the song's subject; named artists and works add what they sound like.
    True for a bare subject (its mood then needs a clear lead from the LLM)."""
    ex = turn.ex
    bare = not (ex.names_music() or ex.theme) and state.phase != "generated" and _names_a_subject(turn.text, turn.intents)
    if bare:
        ex.theme = turn.text  # "mickey mouse", "hollow world": a title or a subject to write a song about
    turn.ex = from_references(ex)
    return bare


def _set_take_count(state: State, ex: Extraction) -> None:
    if ex.take_count:
        state.settings.takes = max(1, min(MAX_TAKES, ex.take_count))
        state.said_settings = sorted({*state.said_settings, "takes"})
        if ex.take_count > MAX_TAKES:
            ex.notices.append(fact("takes_capped", max=MAX_TAKES))


def _take_command(state: State, turn: _Turn) -> Optional[tuple[State, Turn]]:
    """Commands about takes: continue, extend, play, keep, try again, more variations, re-render."""
    text, ex, intents = turn.text, turn.ex, turn.intents
    generated = state.phase == "generated"
    if EXTEND.search(text) and MY_CLIP.search(text):  # "continue my clip": the last clip sent
        if state.clip is None:
            return state, _answer(state, reply("no_clip"))
        return _continue_clip(state, text, state.clip, [])
    if generated and EXTEND.search(text):
        return _extend(state, text)
    if generated and PLAY_TAKE.search(text) and numbers.find_take_ref(text) is not None:
        return _play(state, text)  # "play take 1" plays it, and keeps nothing
    if generated and ("like" in intents or _is_bare_take_ref(text)) and not ex.names_music():
        return _keep(state, text)
    if not generated and "more_variations" in intents and state.rounds_started and not ex.names_music():
        return start_round(state, seeds=None)  # "try again" after Stop: the brief runs again
    bare_keep = numbers.find_take_ref(text) is not None and ("like" in intents or _is_bare_take_ref(text))
    if not generated and (bare_keep or "more_variations" in intents) and not ex.names_music():
        return state, _answer(state, reply("no_takes"))
    if generated and "rerender" in intents and not ex.names_music():  # after an instant re-mix
        return start_round(state, seeds=list(state.last_round.seeds), before=state.brief)
    if generated and "more_variations" in intents and not ex.names_music():
        before = state.brief
        state.brief = state.brief.model_copy(update={"seed": None})  # new seeds: a fixed one no longer holds
        return start_round(state, seeds=state.derived_seeds(state.settings.takes), before=before,
                           lead=reply("more_variations"))
    return None


def _request(state: State, turn: _Turn) -> tuple[State, Turn]:
    """A description, a request with its style open, or small talk."""
    text, ex, intents = turn.text, turn.ex, turn.intents
    if "surprise" in intents:
        return _update_and_generate(state, ex, force=True)
    if state.phase == "generated" and _describes_new_piece(state, ex, text):
        return _ask_new_or_edit(state, turn.message)
    if ex.names_music() or ex.seed is not None:  # "trap beat, go": the user asked for a take now
        return _update_and_generate(state, ex, force="generate" in intents and state.phase != "generated")
    if "help" in intents:
        return state, _answer(state, reply("help"))
    if "show_brief" in intents:
        return state, _answer(state, reply("brief_summary", prompt=render_prompt(state.brief)))
    if state.phase == "collecting" and "generate" in intents:
        return _update_and_generate(state, ex, force=True)
    if ex.theme or ex.lyrics or ex.unknown_names:  # "a song about my job": a request, its style still open
        return _update_and_generate(state, ex, force=False)
    if "request" in intents and state.phase in ("new", "collecting"):  # also right after "new song"
        return _decide(state, [])
    if ex.notices and not ex.names_music():  # "1e309 bpm": say what was refused, not "off-topic"
        pending = reply(f"ask_{state.pending}", **_ask_vars(state)) if state.pending else ""
        return state, _answer(state, " ".join([*map(say, ex.notices), pending]).strip())
    if "greeting" in intents:
        return state, _answer(state, reply("greeting"))
    if "thanks" in intents:
        return state, _answer(state, reply("thanks"))
    return _off_topic(state)


QUESTION_FORM = re.compile(
    r"^(?:what|how|why|who|where|when|which)(?:'s|'re|\s+(?:is|are|was|were|do|does|did|can|could|should|would|will|"
    r"makes?|kind|type|sort|genre|genres|bpm|tempo|tempos|instruments?|about|if|many|much|fast|slow|long|often|"
    r"exactly|would|a|an|the|to))(?![\w'])"
    r"|^(?:explain|tell me|compare|define|describe|is|are|does|do|can|could|should|difference|meaning)(?![\w'])"
    r"|\b(?:vs\.?|versus|difference between)(?![\w])")


def _is_request_in_question_form(question: str, ex: Extraction) -> bool:
    """"What Worries Me, a jazz standard, mid-tempo swing" is a title and a request; "explain
    sidechain" and "how does trap differ from drill" are questions: a question has a question's
    form (a question mark, or one clause) and no request after it."""
    if question.rstrip().endswith("?"):
        return False
    if ex.lyrics or ex.unknown_names:
        return True
    if ex.names_music() and not QUESTION_FORM.search(question):  # "when we were kids, j-pop, jazz"
        return True
    if pure_question(question):
        return False
    title, *described = [p for p in question.split(",") if p.strip()]  # a title, then what it should sound like
    return bool(described) and not extract(title).names_music() and extract(", ".join(described)).names_music()


def _names_a_subject(text: str, intents: set[str]) -> bool:
    """A message with no command and no question is a subject to write a song about
    ("mickey mouse", "hollow world"); words of no language ("blorp zint") are not."""
    words = re.findall(r"[a-z']+", text)
    if not words or len(words) > SUBJECT_MAX_WORDS or intents & (COMMAND_INTENTS | {"dislike"}) or "?" in text:
        return False
    said = [w for w in words if w not in vocabulary().filler["vague"]]  # "make a cool song" says no subject
    return bool(said) and (len(words) >= 4 or any(w in english_words() for w in said))


def _off_topic(state: State) -> tuple[State, Turn]:
    """Always the template: the 135M model's own wording, even checked, claimed an age and
    apologised for nothing on held-out questions (bench/answers.py), and never helped."""
    pending = reply(f"ask_{state.pending}", **_ask_vars(state)) if state.pending else ""
    return state, _answer(state, reply("off_topic", pending=pending))


COMMAND_INTENTS = {"new_song", "surprise", "more_variations", "rerender", "like", "help", "show_brief", "generate",
                   "greeting", "thanks", "injection"}


def _is_command(text: str, ex: Extraction, intents: set[str]) -> bool:
    """Commands and values the rules handle ("keep 2", "use seed 4", "new song", "120") never go to
    the LLM: a 135M model turns "keep 1" into condolences."""
    return bool(intents & COMMAND_INTENTS) or ex.seed is not None or ex.take_count is not None \
        or numbers.find_take_ref(text) is not None or bool(re.fullmatch(r"[\d\s.,:%x-]+(?:bpm|s|sec|seconds)?", text))


EDIT_CUE = re.compile(r"(?<![\w])(?:make it|make this|change|switch|turn it|turn this|more|less|add|remove|instead|"
                      r"but|same|keep|swap|replace|use|try|now|again|version|it|this)(?![\w])|\w{3,}er(?![\w])")


def _describes_new_piece(state: State, ex: Extraction, text: str) -> bool:
    """A new genre with no edit word ("a jazz trio with piano"): maybe a new song, maybe an edit."""
    current = state.brief.style.genre
    return bool(ex.genres) and current is not None and ex.genres[0] not in current and not EDIT_CUE.search(text)


def _ask_new_or_edit(state: State, message: str) -> tuple[State, Turn]:
    state.pending, state.pending_options, state.pending_message = "new_or_edit", reply_list("new_or_edit_options"), message
    return state, Turn(reply=reply("new_or_edit"), action="ask", asks_about=["new_or_edit"],
                        options=state.pending_options)


def _new_or_edit(state: State, message: str, understand: Optional[Understanding]) -> tuple[State, Turn]:
    """The answer to "new song or change this one?": the earlier message, as one or the other."""
    earlier, answer = state.pending_message or "", normalise(message)
    state.pending, state.pending_options, state.pending_message = None, [], None
    if re.search(r"(?<![\w])new(?![\w])", answer):
        fresh = new_song_state(state.settings, song=state.song + 1, carried=state)
        fresh.turn = state.turn
        return _step(fresh, earlier, understand)
    if re.search(r"(?<![\w])(?:change|this one|edit|current|same)(?![\w])", answer):
        ex = from_references(read_and_extract(earlier)[2])
        return _update_and_generate(state, ex, force=False)
    return _step(state, message, understand)


REFERS_BACK = re.compile(r"(?<![\w])(?:that|it|there|this|so|one|some)(?![\w])")
COMMANDS_IN_QUESTION_FORM = {"new_song", "surprise", "more_variations", "generate", "like"}


def _question(state: State, asked: tuple[str, str], ex: Extraction, intents: set[str],
              understand: Optional[Understanding]) -> Optional[tuple[State, Turn]]:
    """Answer a question without touching the brief; a mixed message also applies its request part.
    None when the message is a request or command in question form, or off-topic."""
    question, rest = asked
    found = answer(state, question)
    if found is None:
        commands = intents & COMMANDS_IN_QUESTION_FORM - (set() if state.phase == "generated" else {"like"})
        if (ex.names_music() and not pure_question(question)) or looks_like_request(question) or commands:
            return None
        if not mentions_music(question):
            return _off_topic(state)
        return state, _answer(state, then_ask(reply("dont_know"), state))
    if rest:
        rest_ex = extract(correct(rest))
        about = extract(f"{rest} {found.subject}") if found.subject else Extraction()
        if found.suggestion and REFERS_BACK.search(rest) and not rest_ex.names_music():
            state, out = _update_and_generate(state, Extraction(bpm=found.suggestion["bpm"]), force=False)
        elif REFERS_BACK.search(rest) and not rest_ex.names_music() and about.names_music():
            state, out = _update_and_generate(state, about, force=False)  # "what's a drop? add one"
        else:
            state, out = _step(state, rest, understand)
        return state, out.model_copy(update={"reply": f"{found.text} {out.reply}"})
    out = _answer(state, then_ask(found.text, state))
    return state, out if state.pending else out.model_copy(update={"options": found.options})


def _is_bare_take_ref(text: str) -> bool:
    return numbers.find_take_ref(text) is not None and len(text.split()) <= 3


def _answer(state: State, text: str) -> Turn:
    """An answer keeps any pending question's options clickable."""
    return Turn(reply=text, action="answer", options=state.pending_options,
                 asks_about=[state.pending] if state.pending else [])


def _ask_vars(state: State) -> dict[str, str]:
    return {"genre": state.brief.style.genre or "", "moods": ", ".join(state.brief.style.mood)}


def _ask(state: State, control: str, notices: list[str], lead: str = "",
         question: Optional[Question] = None) -> tuple[State, Turn]:
    question = question or build_question(state.brief, control)
    state.phase = "collecting"
    state.pending = question.control
    state.pending_options = question.options
    state.questions_asked += 1
    asked = "" if lead else reply(f"ask_{control}", **_ask_vars(state))
    text = " ".join(t for t in [lead, *notices, asked] if t)
    return state, Turn(reply=text, action="ask", asks_about=[control], options=state.pending_options,
                        notices=notices)


def _record_sources(state: State, update: Update, ex: Extraction) -> None:
    """Who set each value this message changed: the user's words, or an inference from what it named."""
    state.set_sources(update.user_paths, "said")
    state.set_sources(update.inferred_paths, "inferred", ", ".join(r.key for r in ex.references) or None)


def _update_and_generate(state: State, ex: Extraction, force: bool, lead: str = "") -> tuple[State, Turn]:
    before = state.brief
    update = apply_extraction(before, ex)
    notices = [say(f) for f in update.notices]
    if not state.told_instrumental and (ex.lyrics or ex.theme or _asks_for_voice(ex)):
        state.told_instrumental = True  # once per conversation: MusicGen sings no words
        if not ex.lyrics:  # pasted lyrics have their own notice
            notices.append(reply("instrumental_only"))
    notices += [_described(ref) for ref in described_artists(ex)[:1]]
    genre_changed = update.brief.style.genre != before.style.genre and before.style.genre is not None
    state.brief = update.brief
    _record_sources(state, update, ex)
    if genre_changed:  # defaults of the old genre give way to the new genre's defaults
        filled = state.filled_paths
        state.brief = _cleared(state.brief, filled)
        state.forget_sources(filled)
    if ex.conflicts:  # the notice itself is the question ("fast or slow?")
        question = conflict_question(ex.conflicts[0])
        said = [reply("conflict", values=" and ".join(ex.conflict_values.get(slot, [])), slot=slot)
                for slot in ex.conflicts]
        return _ask(state, question.control, [], lead=" ".join([*said, *notices]), question=question)
    style_open = not (state.brief.style.genre or state.brief.style.mood)
    if ex.unknown_names and not state.brief.style.genre and not force:  # never read a name word by word
        return _ask(state, "style", [], lead=" ".join([*notices, reply("unknown_artist", artist=ex.unknown_names[0])]))
    if lead and style_open and not force:
        return _ask(state, "style", [], lead=" ".join([*notices, lead]))
    if state.phase == "generated" and not force:
        return _edit(state, before, notices, asked=paths_named(ex))
    if force:
        return start_round(state, seeds=None, notices=notices, before=before)
    return _decide(state, notices)


def _described(ref: Reference) -> str:
    """One line: the artist's sound in words, because MusicGen can't imitate a name."""
    bpm = f"{midpoint(ref.bpm)} BPM" if ref.bpm else ""
    sound = ", ".join(p for p in [ref.sound or ref.genres[0], *ref.instruments[:2], *ref.production[:1], bpm] if p)
    return reply("artist_described", sound=sound)


def _cleared(brief: MusicBrief, paths: list[str]) -> MusicBrief:
    empty = MusicBrief()
    for path in paths:
        brief = with_value(brief, path, get_path(empty, path))
    return brief


def _decide(state: State, notices: list[str]) -> tuple[State, Turn]:
    if ready_to_generate(state.brief) or state.questions_asked >= MAX_QUESTIONS_PER_SONG:
        return start_round(state, seeds=None, notices=notices)
    return _ask(state, next_control(state.brief) or "style", notices)


def _edit(state: State, before: MusicBrief, notices: list[str], asked: Optional[list[str]] = None
          ) -> tuple[State, Turn]:
    changed = diff(before, state.brief)
    seed_asked = state.brief.seed is not None and state.last_round is not None and \
        state.last_round.seeds[:1] != [state.brief.seed]
    if not changed and not seed_asked:
        what = said_changes(state.brief, [p for p in asked or [] if get_path(state.brief, p) not in (None, [])])
        return state, _with_actions(state, _answer(state, " ".join(notices) or reply("no_change", what=what)))
    if changed == ["theme"]:  # MusicGen hears no story: nothing to regenerate
        return state, _answer(state, " ".join([*notices, reply("theme_noted", theme=state.brief.theme)]))
    if changed == ["seed"] or (not changed and seed_asked):  # "use seed 42", also to go back to it
        seeds = seeds_from(state.brief.seed, state.settings.takes)
        return start_round(state, seeds=seeds, notices=notices, before=before,
                           lead=reply("seed_set", seed=state.brief.seed))
    if remixable(state, changed):
        return start_round(state, seeds=list(state.last_round.seeds), notices=notices, before=before,
                           remix_of=state.last_round.number)
    return start_round(state, seeds=same_seeds(state), notices=notices, before=before)


PLAY_TAKE = re.compile(r"^(?:please )?(?:play|replay|listen to|let me hear|hear)(?![\w])")
COMPARE = re.compile(r"^(?:please )?(?:compare|a/?b|side by side)(?: (?:them|these|those|the takes|takes|the last two|"
                     r"(?:take )?\d+ (?:and|with|to|vs\.?) (?:take )?\d+))?[.!]?$")


DROP_MELODY = re.compile(r"(?<![\w])(?:drop|remove|forget|lose|no|without|ignore|stop following)(?: the| my| that)?"
                         r" (?:melody|clip|tune|humming)(?![\w])")


MY_CLIP = re.compile(r"(?<![\w])(?:my|the|that|this|our) (?:clip|recording|upload|humming|audio|loop|sample)(?![\w])")


def _continue_clip(state: State, text: str, clip: Melody, notices: list[str]) -> tuple[State, Turn]:
    """"continue this" with a clip, or "continue my clip": takes that start with the clip and go on
    for EXTEND_DEFAULT_S seconds unless said, in the brief's style and any style the message names."""
    before = state.brief
    said = EXTEND_BY.search(text.lower())
    extra = float(said.group(1)) if said else EXTEND_DEFAULT_S
    if extra <= 0 or clip.seconds + extra > DURATION_MAX_S:
        return state, _answer(state, reply("extend_too_long", max=f"{DURATION_MAX_S:g}", now=f"{clip.seconds:.0f}"))
    _, _, ex = read_and_extract(text)
    ex.duration_s, ex.take_count = None, None
    if ex.names_music():  # "continue this as lo-fi hip hop"
        update = apply_extraction(state.brief, ex)
        state.brief = update.brief
        _record_sources(state, update, ex)
        notices = [*notices, *map(say, update.notices)]
    state.brief = state.brief.model_copy(update={"duration_s": round(clip.seconds + extra, 2), "melody": None})
    state.forget_sources(["melody"], "said")
    return start_round(state, seeds=None, notices=notices, before=before, continues=clip)


def _drop_melody(state: State) -> tuple[State, Turn]:
    """"Drop the melody": the takes follow the text alone again (same seeds, so you hear the difference)."""
    before = state.brief
    state.brief = state.brief.model_copy(update={"melody": None})
    state.forget_sources(["melody"], "said")
    lead = reply("melody_dropped")
    if state.phase == "generated":
        return start_round(state, seeds=same_seeds(state), before=before, lead=lead, keep_clip=False)
    return state, _answer(state, lead)


EXTEND = re.compile(r"^(?:please )?(?:extend|continue|lengthen|keep going with)(?![\w])")
EXTEND_BY = re.compile(r"(?<![\w])(?:by|for|with|another|an extra|a further)? ?(\d+(?:\.\d+)?) ?(?:more )?"
                       r"(?:seconds?|secs?|s)(?![\w])")


def _extend(state: State, text: str) -> tuple[State, Turn]:
    """"extend take 2 by 20 seconds", "continue it": the named (or kept, or first) take goes on from
    its end with its own seed and brief; one take, EXTEND_DEFAULT_S longer unless said."""
    rnd = state.last_round
    ref = numbers.find_take_ref(text)
    if ref is None:
        kept = [i for i, s in enumerate(rnd.seeds, start=1) if s == state.kept_seed]
        ref = kept[0] if kept else 1
    number, refused = _take_number(state, ref)
    if refused:
        return state, _answer(state, refused)
    said = EXTEND_BY.search(text)
    extra = float(said.group(1)) if said else EXTEND_DEFAULT_S
    before = state.brief
    total = before.duration_s + extra
    if extra <= 0 or total > DURATION_MAX_S:
        return state, _answer(state, reply("extend_too_long", max=f"{DURATION_MAX_S:g}", now=f"{before.duration_s:g}"))
    state.brief = state.brief.model_copy(update={"duration_s": round(total, 2)})
    seed = rnd.seeds[number - 1]
    state.kept_seed, state.kept_number = seed, number
    return start_round(state, seeds=[seed], before=before, extends=TakeRef(round=rnd.number, number=number),
                       extend_s=extra)


def paths_named(ex: Extraction) -> list[str]:
    """The brief's fields a message spoke about, changed or not ("wider" when it is already wide)."""
    named = {"style.genre": ex.genres, "style.mood": ex.moods, "palette.instruments": ex.instruments,
             "palette.production": ex.production, "structure.sections": ex.sections, "style.key": ex.key,
             "tempo.bpm": ex.bpm or ex.tempo_word or ex.tempo_factor, "duration_s": ex.duration_s or ex.duration_factor,
             **{f"mix.{axis}": True for axis in ex.mix}}
    return [path for path in LEAF_PATHS if named.get(path)]


def _asks_for_voice(ex: Extraction) -> bool:
    return any(vocabulary().family_of(i) == "vocals" for i in ex.instruments)


def _with_actions(state: State, out: Turn) -> Turn:
    """After a round, an answer keeps the next steps clickable (a 👍 never makes them vanish)."""
    if state.phase != "generated" or out.options or state.last_round is None:
        return out
    return out.model_copy(update={"options": quick_actions(state.brief, takes=len(state.takes_of(state.last_round.number)))})


def _take_number(state: State, ref: int) -> tuple[int, Optional[str]]:
    """The take a reference names in the last round ("take 2", "the last one"), and the refusal
    when that round has no such take."""
    count = len(state.last_round.seeds)
    number = count if ref == -1 else ref
    return number, None if 1 <= number <= count else reply("no_such_take", number=number, count=count)


def _play(state: State, text: str) -> tuple[State, Turn]:
    """"play take 1": that take's player comes down to the reply; nothing is kept."""
    number, refused = _take_number(state, numbers.find_take_ref(text))
    if refused:
        return state, _answer(state, refused)
    out = _answer(state, reply("play_take", number=number))
    return state, _with_actions(state, out.model_copy(update={"shows": [TakeRef(round=state.last_round.number,
                                                                                  number=number)]}))


def _keep(state: State, text: str) -> tuple[State, Turn]:
    ref = numbers.find_take_ref(text)
    if ref is None:
        return state, _answer(state, reply("keep_what"))
    number, refused = _take_number(state, ref)
    if refused:
        return state, _answer(state, refused)
    return keep_take(state, state.last_round.number, number)


def keep_take(state: State, round_number: int, number: int) -> tuple[State, Turn]:
    """👍 on any take: its seed (and its place, so it keeps its number) is the base of the next edit.
    A take of an earlier round is kept too, and the reply says that the current brief goes with it."""
    rnd = next((r for r in state.rounds if r.number == round_number), None)
    if rnd is None or not 1 <= number <= len(rnd.seeds):
        return state, _answer(state, reply("no_takes" if not state.rounds else "no_such_take", number=number,
                                           count=len(rnd.seeds) if rnd else 0))
    state.kept_seed, state.kept_number = rnd.seeds[number - 1], number
    state.kept = TakeRef(round=rnd.number, number=number)
    latest = state.last_round is not None and rnd.number == state.last_round.number
    text = reply("kept", number=number, seed=state.kept_seed) if latest else \
        reply("kept_earlier", number=number, round=state.round_position(rnd.number), seed=state.kept_seed)
    return state, _with_actions(state, _answer(state, text))


def _compare(state: State, text: str) -> tuple[State, Turn]:
    """Two takes side by side: the two named, this round's against the kept take of an earlier
    round, or the last two takes."""
    count = {r.number: len(state.takes_of(r.number)) for r in state.rounds}
    rounds = [r for r in state.rounds if count[r.number]]
    if not rounds:
        return state, _answer(state, reply("no_takes"))
    last = rounds[-1]
    asked = [int(n) for n in re.findall(r"\d+", text)]
    if len(asked) == 2:
        if not all(1 <= n <= count[last.number] for n in asked):
            return state, _answer(state, reply("no_such_take", number=max(asked), count=count[last.number]))
        pair = [TakeRef(round=last.number, number=n) for n in asked]
    else:
        kept = next(((r, i) for r in reversed(rounds[:-1]) for i, s in enumerate(r.seeds, start=1)
                     if s == state.kept_seed), None) if state.kept_seed is not None else None
        if kept is not None:
            pair = [TakeRef(round=kept[0].number, number=kept[1]), TakeRef(round=last.number, number=1)]
        elif count[last.number] >= 2:
            pair = [TakeRef(round=last.number, number=n) for n in (count[last.number] - 1, count[last.number])]
        elif len(rounds) >= 2:
            pair = [TakeRef(round=rounds[-2].number, number=count[rounds[-2].number]),
                    TakeRef(round=last.number, number=1)]
        else:
            return state, _answer(state, reply("compare_one_take"))
    out = _answer(state, reply("compare", same_round=pair[0].round == pair[1].round))
    return state, _with_actions(state, out.model_copy(update={"shows": pair}))


def edit_controls(state: State, edit: EditControls) -> tuple[State, Turn]:
    """The brief form: the changed controls as values, applied like the same words in the chat,
    never asked "new song?". A genre outside our vocabulary stays in the user's words."""
    state.turn += 1
    changes = edit.changes()
    if not changes:
        return state, _with_actions(state, _answer(state, reply("form_unchanged")))
    ex = Extraction()
    if "genre" in changes:
        words = " ".join(str(changes["genre"]).split()).lower()
        known = extract(correct(words)).genres
        ex.genres = known[:1] if known else [" ".join(words.split()[:GENRE_MAX_WORDS])]
    if "bpm" in changes:
        ex.bpm = float(changes["bpm"])
    ex.mix = {axis: str(changes[axis]) for axis in ("brightness", "width", "space") if axis in changes}
    if state.phase == "new":
        state.phase = "collecting"
    return _update_and_generate(state, ex, force=False)
