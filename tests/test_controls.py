"""One writer: what the user said (in words or with a slider) wins over the settings' defaults."""
from assistant.dialogue.controls import set_by_user
from assistant.app.session import Session
from assistant.dialogue.state import Settings, State


def test_a_length_said_in_the_chat_outlives_the_settings_default() -> None:
    session = Session(Settings(), duration_s=10)
    session.apply_settings(2, 10)
    first = session.send("a house track, a 30 second song with a long intro")
    assert first.action == "ask" and session.state.brief.duration_s == 30
    session.apply_settings(2, 10)  # the UI sends its defaults with every message
    record = session.send("123 bpm")
    assert record.action == "generate" and record.brief["duration_s"] == 30
    assert "intro" in record.brief["structure"]["sections"]


def test_takes_said_in_the_chat_hold_until_changed() -> None:
    session = Session(Settings())
    session.send("techno at 130 bpm with acid bass, 3 takes, go")
    session.apply_settings(1, 10)
    assert len(session.send("faster").seeds) == 3
    session.send("make 2 takes")
    session.apply_settings(4, 10)
    assert session.state.settings.takes == 2


def test_a_slider_is_an_edit_like_a_chat_message() -> None:
    state = set_by_user(State(), takes=3, duration_s=42)
    assert state.settings.takes == 3 and "takes" in state.said_settings
    assert state.brief.duration_s == 42 and "duration_s" in state.user_paths
    session = Session(Settings())
    session.set_by_user(duration_s=42)
    session.apply_settings(2, 10)  # a default never overrides it
    assert session.state.brief.duration_s == 42


def test_unreadable_or_out_of_range_controls_change_nothing() -> None:
    state = State()
    for takes, seconds in [(0, 0.1), (9, 1e9), ("x", float("nan")), (2.5, float("inf")), (None, None)]:
        after = set_by_user(state, takes=takes, duration_s=seconds)
        assert after.settings.takes == state.settings.takes and after.brief.duration_s == state.brief.duration_s
        assert after.user_paths == [] and after.said_settings == []
