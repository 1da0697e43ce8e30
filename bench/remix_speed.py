"""Instant mix edits through the Session, and the loudness meter they spend most of their time in.

    python bench/remix_speed.py [--repeats 4]

For 2 takes of 10 s and of 3 minutes (sketch synthesiser): the seconds from sending "darker",
"brighter", "narrower", "drier" to the re-mixed takes on disk, and then pyloudnorm's meter against
ours (assistant/music/loudness.py) on one 3-minute stereo take. One run, one machine: ratios only
within this run. The issue's bounds: 2 x 10 s under 1 s, 2 x 3 min under 3 s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.music.loudness import integrated_loudness
from assistant.music.renderer import MusicRenderer
from assistant.app.session import Session
from assistant.dialogue.state import Settings

EDITS = ("darker", "brighter", "narrower", "drier")


def remix_times(seconds: float, repeats: int) -> list[float]:
    folder = Path(tempfile.mkdtemp())
    session = Session(Settings(seed=1), music=MusicRenderer("sketch", folder), duration_s=seconds)
    session.send("house at 124 bpm with piano, go")
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        record = session.send(EDITS[i % len(EDITS)])
        times.append(time.perf_counter() - started)
        assert len(record.takes) == 2 and "applied to your takes at once" in record.summary, record.summary
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs; sketch synthesiser; 2 takes per round")
    for seconds, bound in ((10.0, 1.0), (180.0, 3.0)):
        times = remix_times(seconds, args.repeats)
        print(f"re-mix 2 x {seconds:g} s: median {statistics.median(times):.2f} s, max {max(times):.2f} s "
              f"(bound {bound:g} s) [{', '.join(f'{t:.2f}' for t in times)}]")
    import pyloudnorm

    rng = np.random.default_rng(0)
    take = (rng.standard_normal((180 * 32000, 2)) * 0.2).astype(np.float32)
    started = time.perf_counter()
    theirs = pyloudnorm.Meter(32000).integrated_loudness(take)
    middle = time.perf_counter()
    ours = integrated_loudness(take, 32000)
    done = time.perf_counter()
    print(f"loudness of one 3-minute stereo take: pyloudnorm {middle - started:.2f} s, ours {done - middle:.2f} s "
          f"({(middle - started) / (done - middle):.1f}x), difference {abs(theirs - ours):.5f} LU")


if __name__ == "__main__":
    main()
