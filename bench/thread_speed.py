"""A take asked for from a long-lived thread, as the web app's threads ask: before assistant.compute
it ran in the calling thread while another long-lived thread (that had loaded the model or called
the LLM) kept a libgomp team; now every torch and llama.cpp call runs in a passing thread. Random
weights of musicgen-small's size, int8, CPU.

    python bench/thread_speed.py --seconds 3 --repeats 2
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

from assistant.compute import in_passing_thread
from assistant.music.musicgen import MusicGenModel
from support.random_model import build_random_musicgen


def in_thread(fn) -> float:
    """Seconds `fn` takes in a new thread (as a Gradio worker or a conversation's turn worker calls)."""
    took: list[float] = []

    def body() -> None:
        start = time.perf_counter()
        fn()
        took.append(time.perf_counter() - start)

    worker = threading.Thread(target=body)
    worker.start()
    worker.join()
    return took[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    folder = in_passing_thread(build_random_musicgen, Path(tempfile.mkdtemp()) / "musicgen", size="small")
    model = MusicGenModel(str(folder))
    model.generate(["warm-up"], [0], 1.0)
    print(f"1 take of {args.seconds:g} s from a worker thread (best of {args.repeats})")
    # Before: the model was loaded and the LLM called in the app's long-lived threads, so another
    # thread kept a libgomp team while the take was generated directly in the calling thread.
    idle, release = threading.Event(), threading.Event()

    def lives_on() -> None:
        import torch

        torch.randn(512, 512) @ torch.randn(512, 512)  # one parallel region: this thread now has a team
        idle.set()
        release.wait()

    keeper = threading.Thread(target=lives_on, daemon=True)
    keeper.start()
    idle.wait()
    before = min(in_thread(lambda: model._generate_here(["house music"], [1], args.seconds))
                 for _ in range(args.repeats))
    release.set()
    keeper.join()
    # Now: every torch and llama.cpp call runs in a passing thread, so no idle thread keeps a team.
    after = min(in_thread(lambda: model.generate(["house music"], [1], args.seconds)) for _ in range(args.repeats))
    print(f"  before: in the calling thread, beside an idle thread's team  {before:6.2f} s")
    print(f"  now: in a passing thread, no idle team                       {after:6.2f} s")
    print(f"  speed-up {before / after:.2f}x")

if __name__ == "__main__":
    main()
