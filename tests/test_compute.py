"""CPU-parallel work runs in passing threads, one MusicGen generation at a time (assistant.compute)."""
import threading
import time

import pytest

from assistant.compute import in_passing_thread, one_at_a_time


def test_the_work_runs_in_a_thread_that_ends_with_it() -> None:
    seen: list[threading.Thread] = []
    assert in_passing_thread(lambda x: seen.append(threading.current_thread()) or x * 2, 21) == 42
    assert seen[0] is not threading.current_thread()
    seen[0].join(1)
    assert not seen[0].is_alive()


def test_an_exception_reaches_the_caller_and_nesting_makes_no_second_thread() -> None:
    with pytest.raises(ValueError, match="bad"):
        in_passing_thread(lambda: (_ for _ in ()).throw(ValueError("bad")))
    outer = in_passing_thread(lambda: (threading.current_thread(), in_passing_thread(threading.current_thread)))
    assert outer[0] is outer[1]


def test_a_cancel_while_waiting_for_the_turn_leaves_without_running() -> None:
    lock, cancel = threading.Lock(), threading.Event()
    lock.acquire()
    threading.Timer(0.1, cancel.set).start()
    began = time.monotonic()
    with pytest.raises(InterruptedError):
        with one_at_a_time(lock, cancel):
            pytest.fail("ran without its turn")
    assert time.monotonic() - began < 1.0


@pytest.mark.slow
def test_musicgen_generates_in_passing_threads_one_at_a_time(tmp_path) -> None:
    from assistant.music.musicgen import MusicGenModel
    from support.random_model import build_random_musicgen

    model = MusicGenModel(str(build_random_musicgen(tmp_path / "tiny")), batching=False)
    spans: dict[str, list] = {"a": [], "b": []}
    threads: dict[str, set] = {"a": set(), "b": set()}

    def progress(name):
        def hear(fraction, _):
            spans[name].append(time.monotonic())
            threads[name].add(threading.current_thread())
        return hear

    callers = [threading.Thread(target=model.generate, args=([text], [1], 1.0), kwargs=dict(progress=progress(text)))
               for text in ("a", "b")]
    for t in callers:
        t.start()
    for t in callers:
        t.join(120)
    first, second = sorted(spans.values(), key=lambda s: s[0])
    assert first[-1] <= second[0]  # one generation at a time on the CPU
    workers = threads["a"] | threads["b"]
    assert not workers & set(callers) and len(workers) == 2  # each in its own passing thread
    assert not any(w.is_alive() for w in workers)  # gone with its work: no libgomp team left behind
