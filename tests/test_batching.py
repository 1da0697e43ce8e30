"""Requests batched together: the scheduler with a stand-in generation, then MusicGen on a tiny model."""
import threading
import time

import numpy as np
import pytest

from assistant.music.batching import BatchScheduler
from assistant.music.musicgen import Generated


class FakeRun:
    """A generation whose take i is a constant array of its seed; records each call's seeds."""

    def __init__(self, steps: int = 4, step_s: float = 0.0):
        self.calls: list[list[int]] = []
        self.steps, self.step_s = steps, step_s

    def __call__(self, prompts, seeds, progress=None, cancel=None, on_chunk=None, **options):
        self.calls.append(list(seeds))
        for step in range(self.steps):
            if cancel is not None and cancel.is_set():
                raise InterruptedError("generation cancelled")
            time.sleep(self.step_s)
            if on_chunk is not None:
                on_chunk([np.full(2, s, dtype=np.float32) for s in seeds])
            if progress is not None:
                progress((step + 1) / self.steps, "generating")
        return Generated([np.full(4, s, dtype=np.float32) for s in seeds],
                         np.array([[[s]] for s in seeds], dtype=np.int32))


def _at_once(call, requests, timeout_s=10.0):
    """`call(*request)` for every request at the same moment, each from its own thread; results or
    errors in order."""
    results: list = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def one(i, request):
        start.wait()
        try:
            results[i] = call(*request)
        except BaseException as err:  # noqa: BLE001
            results[i] = err

    threads = [threading.Thread(target=one, args=(i, r)) for i, r in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout_s)
    return results


def _together(scheduler, requests):
    """Every (key, seeds, kwargs) submitted at once."""
    return _at_once(lambda key, seeds, kwargs: scheduler.submit(key, [f"p{s}" for s in seeds], seeds, **kwargs),
                    requests)


def test_requests_with_one_key_share_a_call_and_each_gets_its_own_takes() -> None:
    run = FakeRun()
    chunks: dict[int, list] = {1: [], 2: []}
    scheduler = BatchScheduler(run, window_s=0.3)
    a, b, other = _together(scheduler, [
        ("k", [1, 2], dict(on_chunk=chunks[1].append)),
        ("k", [3, 4], dict(on_chunk=chunks[2].append)),
        ("another length", [5], {})])
    assert sorted(map(sorted, run.calls)) == [[1, 2, 3, 4], [5]]  # one call for the shared key
    assert [float(x[0]) for x in a.audio] == [1, 2] and a.codes[:, 0, 0].tolist() == [1, 2]
    assert [float(x[0]) for x in b.audio] == [3, 4] and b.codes[:, 0, 0].tolist() == [3, 4]
    assert [float(x[0]) for x in other.audio] == [5]
    assert all([float(c[0]) for c in chunk] == [1, 2] for chunk in chunks[1]) and len(chunks[1]) == 4
    assert all([float(c[0]) for c in chunk] == [3, 4] for chunk in chunks[2])


def test_a_batch_never_passes_its_take_limit_and_padding_rows_are_dropped() -> None:
    run = FakeRun()
    scheduler = BatchScheduler(run, window_s=0.3, max_takes=4, pad_takes=lambda n: 4)
    results = _together(scheduler, [("k", [1, 2, 3], {}), ("k", [4, 5], {})])
    assert sorted(len(c) for c in run.calls) == [4, 4]  # 3 + 2 > 4: two batches, each padded to 4 rows
    assert sorted(len(r.audio) for r in results) == [2, 3]


def test_a_member_whose_callback_fails_leaves_alone() -> None:
    run = FakeRun()
    scheduler = BatchScheduler(run, window_s=0.3)

    def broken(fraction, label):
        raise ValueError("this user's progress display broke")

    bad, good = _together(scheduler, [("k", [1], dict(progress=broken)), ("k", [2], {})])
    assert isinstance(bad, ValueError)
    assert isinstance(good, Generated) and float(good.audio[0][0]) == 2


def test_a_cancelled_member_leaves_at_once_and_the_batch_goes_on() -> None:
    run = FakeRun(steps=20, step_s=0.05)
    scheduler = BatchScheduler(run, window_s=0.1)
    cancel = threading.Event()
    ended: dict[str, float] = {}

    def stop_at_once(fraction, label):
        cancel.set()

    def timed(name, **kwargs):
        try:
            return scheduler.submit("k", ["p"], [1 if name == "a" else 2], **kwargs)
        except InterruptedError as err:
            return err
        finally:
            ended[name] = time.monotonic()

    out: dict[str, object] = {}
    threads = [threading.Thread(target=lambda: out.update(a=timed("a", progress=stop_at_once, cancel=cancel))),
               threading.Thread(target=lambda: out.update(b=timed("b")))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert isinstance(out["a"], InterruptedError)
    assert isinstance(out["b"], Generated) and float(out["b"].audio[0][0]) == 2
    assert len(run.calls) == 1 and ended["b"] - ended["a"] > 0.5  # a left while the batch ran on


def test_the_batch_stops_once_every_member_is_cancelled() -> None:
    run = FakeRun(steps=200, step_s=0.01)
    scheduler = BatchScheduler(run, window_s=0.05)
    cancel = threading.Event()
    cancel_later = threading.Timer(0.2, cancel.set)
    cancel_later.start()
    began = time.monotonic()
    with pytest.raises(InterruptedError):
        scheduler.submit("k", ["p"], [1], cancel=cancel)
    assert time.monotonic() - began < 1.0  # not the 2 s the whole generation takes


# MusicGen on a tiny random model: batching changes nobody's take.

@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from support.random_model import build_random_musicgen

    return build_random_musicgen(tmp_path_factory.mktemp("models") / "tiny-musicgen")


def _both_at_once(model, requests):
    return _at_once(lambda prompts, seeds, kwargs: model.generate_with_codes(prompts, seeds, 1.0, **kwargs),
                    requests, timeout_s=120)


@pytest.mark.slow
@pytest.mark.parametrize("graphs", [False, True])
def test_two_requests_batched_give_exactly_the_takes_they_give_apart(folder, graphs) -> None:
    from assistant.music.musicgen import MusicGenModel

    apart_model = MusicGenModel(str(folder), batching=False, graphs=graphs)
    apart = [apart_model.generate_with_codes(["house music", "techno"], [1, 2], 1.0),
             apart_model.generate_with_codes(["ambient pads", "jazz trio"], [3, 4], 1.0)]
    model = MusicGenModel(str(folder), batching=True, graphs=graphs, batch_window_s=0.5)
    calls: list[int] = []
    real = model._generate

    def spy(prompts, seeds, **kwargs):
        calls.append(len(seeds))
        return real(prompts, seeds, **kwargs)

    model._generate = spy
    together = _both_at_once(model, [(["house music", "techno"], [1, 2], {}),
                                     (["ambient pads", "jazz trio"], [3, 4], {})])
    assert calls == [4]  # one batched generation for both users
    for alone, shared in zip(apart, together):
        assert len(shared.audio) == 2
        assert all(np.allclose(a, b, atol=1e-5) for a, b in zip(alone.audio, shared.audio))
        assert np.array_equal(alone.codes, shared.codes)


@pytest.mark.slow
def test_a_cancelled_request_in_a_shared_musicgen_batch_stops_only_itself(folder) -> None:
    from assistant.music.musicgen import MusicGenModel

    alone = MusicGenModel(str(folder), batching=False).generate_with_codes(["ambient pads"], [3], 1.0)
    model = MusicGenModel(str(folder), batching=True, batch_window_s=0.5)
    cancel = threading.Event()
    calls: list[int] = []
    real = model._generate
    model._generate = lambda prompts, seeds, **kw: calls.append(len(seeds)) or real(prompts, seeds, **kw)
    stopped, kept = _both_at_once(model, [(["house music"], [1], dict(cancel=cancel, progress=lambda f, _: cancel.set())),
                                          (["ambient pads"], [3], {})])
    assert calls == [2]
    assert isinstance(stopped, InterruptedError)
    assert np.allclose(kept.audio[0], alone.audio[0], atol=1e-5)


@pytest.mark.slow
def test_tokenising_from_many_threads_at_once_never_loses_the_padding(folder) -> None:
    """Seen in bench/serving.py with 16 users: 6 failed with "Unable to create tensor ... padding"."""
    from assistant.music.musicgen import MusicGenModel

    model = MusicGenModel(str(folder), batching=True)
    model.load()
    texts = [["house"], ["a much longer prompt with many more words in it", "jazz"]]
    tokenizer = model._processor.tokenizer

    def hammer(i):
        for _ in range(200):
            model._text_bucket(texts[i % 2], None)
            with model._text_lock:
                tokenizer(texts[1], padding=True, return_tensors="pt")

    errors = _at_once(lambda i: hammer(i), [(i,) for i in range(8)], timeout_s=60)
    assert errors == [None] * 8
