"""One writer, one record: every change of state goes through the dialogue or a Session method under
its lock; a turn is one record (the dialogue's reply plus what the session adds), kept in the state's
log with the takes it made; who set each value is one mapping."""
from __future__ import annotations

import threading

from assistant.app.session import Session
from assistant.dialogue.state import Round, Settings, State
from assistant.dialogue.turns import step
from tests.doubles import FlakyRenderer


class SlowReader:
    """An LLM helper that holds the turn in its reading until told to go on."""

    def __init__(self) -> None:
        self.reading, self.go_on = threading.Event(), threading.Event()

    def enrich(self, state, text, ex, intents, **_):
        self.reading.set()
        assert self.go_on.wait(10)
        return ex, intents


def test_a_slider_moved_while_a_turn_reads_is_not_undone_by_that_turn() -> None:
    reader = SlowReader()
    session = Session(Settings(), understand=reader)
    ticket = session.post(session_say("a song about the sea"))
    assert reader.reading.wait(10)
    session.set_by_user(duration_s=42)  # the user drags the length slider meanwhile
    reader.go_on.set()
    assert ticket.done.wait(10)
    assert session.state.brief.duration_s == 42 and "duration_s" in session.state.user_paths
    assert session.state.brief.theme  # and the turn's own change is in too


def session_say(text: str):
    from assistant.actions import Say

    return Say(text=text)


def test_takes_are_kept_once_in_the_log_and_outlive_a_new_song() -> None:
    session = Session(Settings(), music=FlakyRenderer("ok", "ok"))
    first = session.send("house at 124 bpm with piano, go")
    assert "takes" not in Round.model_fields  # a round says what to play; its takes are its turn's
    assert session.records is session.state.turns and session.state.turns[-1] == first
    assert session.state.takes_of(first.round) == first.takes and len(first.takes) == 2
    session.send("new song")
    assert session.records[0].takes == first.takes and session.state.rounds == []
    assert session.state.takes_of(first.round) == first.takes  # an earlier song's takes stay playable


def test_who_set_each_value_is_one_mapping() -> None:
    state, _ = step(State(), "house in the style of daft punk, go")
    sources = state.sources
    assert sources["style.genre"].kind == "said"
    inferred = [path for path, source in sources.items() if source.kind == "inferred"]
    assert inferred and all(sources[p].origin == "daft punk" for p in inferred)
    state, out = step(State(), "a jazz song, go")
    sources = state.sources
    filled = [path for path, source in sources.items() if source.kind == "filled"]
    assert out.action == "generate" and filled == out.filled and all(sources[p].origin == "jazz" for p in filled)
    assert state.user_paths == [p for p in state.user_paths if sources[p].kind == "said"]
    assert set(state.user_paths).isdisjoint(state.inferred_paths) and set(state.inferred_paths).isdisjoint(state.filled_paths)
