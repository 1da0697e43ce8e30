"""Where CPU-parallel work (torch, llama.cpp) runs: in a thread that ends when the work does.

torch and llama.cpp parallelise with one shared libgomp, which keeps a team of worker threads for
every thread that ever ran a parallel region, for as long as that thread lives. Once the teams'
threads outnumber the cores, libgomp stops spinning between regions and every region waits for a
wake-up. On this project's 2 cores, one idle thread that had called the LLM, or built a model, made
MusicGen's int8 layers run at 1.1 cores instead of 2, and a take 1.9x slower (14.7 s against 7.9 s
for 3 s of audio) than the same call with no such thread. The web app's threads (Gradio's workers,
each conversation's turn worker) live long, so the work runs in a passing thread: its team goes
with it, and the next call starts with the cores to itself.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable, Iterator, Optional, TypeVar

T = TypeVar("T")

CANCEL_POLL_S = 0.05  # how often a caller waiting for its turn looks at its cancel


def in_passing_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` in a new thread that ends with it; its result, or its exception, here."""
    if getattr(_HERE, "passing", False):  # already in one: no second team
        return fn(*args, **kwargs)
    outcome: dict[str, Any] = {}

    def body() -> None:
        _HERE.passing = True
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread
            outcome["error"] = err

    worker = threading.Thread(target=body, name="passing-compute", daemon=True)
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@contextlib.contextmanager
def one_at_a_time(lock: Any, cancel: Optional[Any] = None) -> Iterator[None]:
    """Hold `lock` (a Lock or a Semaphore: one CPU generation at a time, since two at once share 2
    cores between two teams, each slower than half; or the process's generation slots); a cancel
    while waiting leaves without running."""
    while not lock.acquire(timeout=CANCEL_POLL_S):
        if cancel is not None and cancel.is_set():
            raise InterruptedError("generation cancelled")
    try:
        yield
    finally:
        lock.release()


_HERE = threading.local()
