"""MusicGen generation speed on random weights of musicgen-small's exact size (same compute).

    python bench/musicgen_speed.py --seconds 2 --takes 1 --takes 4

Prints, for each configuration, seconds of audio per second of wall time, with the plain eager
transformers baseline (float32 on CPU, float16 on a GPU) measured in the same run.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.musicgen import MusicGenModel  # noqa: E402
from assistant.random_model import build_random_musicgen  # noqa: E402


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--takes", type=int, action="append")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    folder = build_random_musicgen(Path(tempfile.mkdtemp()) / "musicgen-small-random", size="small")
    model = MusicGenModel(str(folder))
    start = time.perf_counter()
    model.load()
    params = sum(p.numel() for p in model._model.parameters())
    print(f"random musicgen-small: {params / 1e6:.0f} M parameters, device {model.device}, "
          f"{args.threads} threads, load {time.perf_counter() - start:.1f} s")
    model.generate(["warm-up"], [0], 0.2)
    print(f"{'takes':>5} {'audio s':>8} {'wall s':>8} {'audio s per s':>14} {'s per take':>10}")
    for takes in args.takes or [1, 4]:
        start = time.perf_counter()
        model.generate([f"house music take {i}" for i in range(takes)], list(range(takes)), args.seconds)
        wall = time.perf_counter() - start
        print(f"{takes:>5} {args.seconds:>8.1f} {wall:>8.1f} {takes * args.seconds / wall:>14.3f} {wall / takes:>10.1f}")


if __name__ == "__main__":
    main()
