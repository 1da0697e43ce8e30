"""Reliability through the session API: cancelled work stays cancelled, one generation limit for the
whole process, bounded messages, strict numbers and characters."""
import math
import threading
import time
from pathlib import Path

import pytest

import assistant.music.renderer as music_module
from assistant.music.renderer import MusicRenderer
from assistant.actions import Say
from assistant.app.session import Finished, Progress, Session
from assistant.dialogue.state import Settings

pytestmark = pytest.mark.slow  # loads models, renders audio or starts the app


def sketch_session(tmp_path: Path) -> Session:
    return Session(Settings(seed=1), music=MusicRenderer("sketch", tmp_path), duration_s=2.0)


def _wait_for_round(session: Session, count: int) -> None:
    """Until the turn under test has started generating (its round exists), not a fixed sleep."""
    deadline = time.monotonic() + 30
    while len(session.state.rounds) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)


def _wavs(tmp_path: Path) -> set[str]:
    return {p.name for p in tmp_path.rglob("*.wav")}


def test_a_cancelled_round_writes_nothing_and_never_touches_the_next_round(tmp_path: Path) -> None:
    session = sketch_session(tmp_path)
    first = session.send("house at 124 bpm with piano")
    before = _wavs(tmp_path)
    slow = threading.Thread(target=session.send, args=("make it 170 seconds long",))
    slow.start()
    _wait_for_round(session, 2)
    session.stop()  # Stop, while the 170 s takes render
    slow.join(timeout=30)
    assert not slow.is_alive()
    assert _wavs(tmp_path) == before  # the stopped round wrote no file
    third = session.send("make it brighter")
    takes = [session.state.takes_of(r.number) for r in session.state.rounds]
    assert [len(t) for t in takes] == [2, 2] and takes[-1][0].path == third.takes[0].path
    assert takes[0][0].path == first.takes[0].path
    time.sleep(0.5)
    assert _wavs(tmp_path) == before | {Path(t.path).name for t in third.takes}  # nothing late


def test_a_message_sent_during_a_round_waits_for_it_and_never_stops_it(tmp_path: Path) -> None:
    session = sketch_session(tmp_path)
    session.send("house at 124 bpm")
    session.send("make it 20 seconds long")  # a round long enough to type during
    running = session.post(Say(text="more variations"))
    _wait_for_round(session, 3)
    queued = session.post(Say(text="make it darker"))  # typed and sent while it runs
    assert session.waiting == [Say(text="make it darker")]
    assert queued.done.wait(60) and running.done.is_set()
    assert not running.record.stopped and len(running.record.takes) == 2  # the round was not stopped
    assert queued.record.action == "generate" and session.records[-2:] == [running.record, queued.record]


def test_stop_cancels_the_running_round_and_what_waits_behind_it(tmp_path: Path) -> None:
    session = sketch_session(tmp_path)
    session.send("house at 124 bpm")
    before = _wavs(tmp_path)
    running = session.post(Say(text="make it 170 seconds long"))
    queued = session.post(Say(text="more variations"))
    _wait_for_round(session, 2)
    session.stop()
    assert running.done.wait(30) and queued.done.wait(30)
    assert running.record.stopped and queued.record.stopped and "before it started" in queued.record.reply
    time.sleep(0.3)
    assert _wavs(tmp_path) == before and not session.busy


def test_session_events_report_steps_with_an_eta_then_the_finished_turn(tmp_path: Path) -> None:
    session = sketch_session(tmp_path)
    session.send("house at 124 bpm")
    session.post(Say(text="make it 60 seconds long"))
    seen = [e for e in session.events(tick_s=0.1) if e is not None]
    progress = [e for e in seen if isinstance(e, Progress)]
    assert isinstance(seen[-1], Finished) and seen[-1].record.action == "generate"
    assert len(progress) > 20 and progress[-1].eta_s is not None  # per bar, not per take
    fractions = [p.fraction for p in progress]
    assert fractions == sorted(fractions) and fractions[-1] > 0.6  # the last take is being mixed


def test_a_three_minute_sketch_round_reports_progress_at_least_every_two_seconds(tmp_path: Path) -> None:
    session = sketch_session(tmp_path)
    session.send("house at 124 bpm")
    stamps: list[float] = []
    record = session.send("make it 3 minutes long", progress=lambda f, label: stamps.append(time.monotonic()))
    stamps.append(time.monotonic())
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    print(f"\n3-minute round: {len(stamps)} progress reports, longest gap {max(gaps):.2f} s")
    assert record.action == "generate" and max(gaps) < 3.0  # the chat also counts the seconds left down, every second


def test_six_parallel_generations_never_run_more_than_two_at_once(tmp_path: Path, monkeypatch) -> None:
    running, peak, lock = [0], [0], threading.Lock()
    real = music_module.render_buses

    def instrumented(*args, **kwargs):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            time.sleep(0.15)
            return real(*args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(music_module, "render_buses", instrumented)
    sessions = [sketch_session(tmp_path / str(i)) for i in range(6)]
    threads = [threading.Thread(target=s.send, args=("techno at 130 bpm, surprise me",)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(len(s.state.takes_of(s.state.rounds[-1].number)) == 2 for s in sessions)
    assert peak[0] == 2


def test_a_huge_message_gives_a_bounded_record(tmp_path: Path) -> None:
    session = Session(Settings())
    record = session.send("techno " * 3_000_000)  # 21 MB
    assert len(record.model_dump_json()) < 100_000
    assert "first 2000 characters" in record.reply


@pytest.mark.parametrize("message, bpm, duration, refused", [
    ("house, 1e9 seconds", None, 10.0, True), ("1e309 bpm techno", None, 10.0, True),
    ("inf bpm house", None, 10.0, True), ("tech\u200dno at 128 bpm", 128, 10.0, False),
    ("house at 12\u200b4 bpm", 124, 10.0, False),
])
def test_numbers_and_characters_are_read_strictly(message: str, bpm, duration, refused: bool) -> None:
    session = Session(Settings())
    record = session.send(message)
    assert session.state.brief.tempo.bpm == bpm and session.state.brief.duration_s == duration
    if refused:
        assert "isn't one, so I left it out" in record.reply
    else:
        assert session.state.brief.style.genre in ("techno", "house")


@pytest.mark.parametrize("takes, duration", [(math.nan, math.nan), ("x", "y"), (99, math.inf), (None, -5)])
def test_invalid_settings_from_a_client_keep_the_valid_ones(takes, duration) -> None:
    session = Session(Settings(takes=3), duration_s=12.0)
    session.apply_settings(takes, duration)
    assert session.state.settings.takes == 3 and session.state.brief.duration_s == 12.0
    record = session.send("house at 124 bpm, surprise me")
    assert record.action == "generate"


def test_what_the_user_said_wins_over_the_settings() -> None:
    session = Session(Settings(takes=2), duration_s=10.0)
    session.send("a 30 second house song with 3 takes")
    session.apply_settings(2, 10.0)  # the UI's sliders, before the next turn
    record = session.send("surprise me")
    assert session.state.brief.duration_s == 30.0 and len(record.seeds) == 3


def test_a_refused_number_alone_says_so_instead_of_off_topic() -> None:
    record = Session(Settings()).send("1e309 bpm")
    assert "1e309 isn't one" in record.reply and "shape music" not in record.reply


def test_words_inside_links_are_not_read_as_music() -> None:
    session = Session(Settings())
    session.send("![x](http://evil.example/sad-piano.png) [go](javascript:alert(1))")
    assert session.state.brief.style.mood == [] and session.state.brief.palette.instruments in ([], ["click"]) \
        and "piano" not in session.state.brief.palette.instruments


def test_one_users_volume_never_deletes_another_users_kept_take(tmp_path: Path, monkeypatch) -> None:
    from assistant import limits

    monkeypatch.setattr(limits, "MAX_TOTAL_MB", 0.8)  # 3 takes of 2 s (256 kB each), not 4
    keeper, filler = sketch_session(tmp_path), sketch_session(tmp_path)
    first = keeper.send("house at 124 bpm")
    keeper.send("keep 1")
    kept = Path(first.takes[0].path)
    for _ in range(4):
        filler.send("techno at 130 bpm, more variations" if filler.state.rounds else "techno at 130 bpm")
    assert kept.exists()
    assert not Path(first.takes[1].path).exists()  # the other, unkept take made room


def test_one_conversation_can_queue_only_a_few_turns(tmp_path: Path) -> None:
    from assistant import limits

    session = sketch_session(tmp_path)
    session.send("house at 124 bpm")
    running = session.post(Say(text="make it 60 seconds long"))
    _wait_for_round(session, 2)
    waiting = [session.post(Say(text=f"{bpm} bpm")) for bpm in range(100, 100 + limits.MAX_WAITING_TURNS)]
    refused = session.post(Say(text="90 bpm"))
    assert refused.done.is_set() and "already waiting" in refused.record.reply and not refused.record.stopped
    session.stop()
    assert running.done.wait(30) and all(t.done.wait(30) for t in waiting)


def test_a_client_picks_only_the_backends_the_operator_allows() -> None:
    from assistant.app.config import AppConfig

    sketch_only = AppConfig(llm="off", music="sketch")
    assert sketch_only.allowed("embedded", "musicgen:/etc") == ("off", "sketch")
    assert sketch_only.allowed(None, "off") == ("off", "off")
    full = AppConfig(llm="embedded", music="musicgen:/models/melody")
    assert full.allowed("off", "sketch") == ("off", "sketch")
    assert full.allowed("hf:evil/x.gguf", "musicgen") == ("embedded", "musicgen:/models/melody")


def test_a_stop_while_the_first_turn_is_still_queued_is_honoured(tmp_path: Path) -> None:
    session = sketch_session(tmp_path)  # the web app posts a turn, and the queue runs it later
    queued = session.post(Say(text="techno at 130 bpm, 3 minutes long, just go"), run=False)
    session.stop()  # Stop 3 s after submitting was ignored: the turn ran 29 s later and wrote 4 takes
    session.run_pending()
    assert queued.done.wait(5) and queued.record.stopped and "before it started" in queued.record.reply
    assert not session.busy and _wavs(tmp_path) == set() and not session.state.rounds
    record = session.send("house at 124 bpm, just go")  # and the next turn runs as always
    assert len(record.takes) == 2
