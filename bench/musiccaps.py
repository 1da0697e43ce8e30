"""How much of what musicians say about music survives into the prompt (MusicCaps).

For each caption, the aspect words (from `aspect_list`, without recording-condition aspects such
as "low quality") are looked up in the prompt each system writes. Printed in one run: the share
of aspect words kept and the median prompt length, for MusicBrief's `refine` (per --llm
setting), the PyPI package text-to-music-prompt-structurer, and the caption itself.

    python bench/musiccaps.py --rows 500 --llm off --llm embedded

Rows come from the AudioSet-eval half of MusicCaps (`is_audioset_eval`), in file order; the
vocabularies were written by hand and checked for gaps against the other half only, and so were
the choices of the prompt's form (standard instrument names in the metadata, the sections a clip
has room for): `--split train` measures that half.
"""
from __future__ import annotations

import argparse
import ast
import csv
import re
import statistics
import sys
import time
from pathlib import Path

from assistant.app.config import load_config
from assistant.app.refine import refine
from assistant.app.services import build_understanding

DEFAULT_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "musiccaps-public.csv"
RECORDING_CONDITIONS = re.compile(
    r"quality|noisy|noise|amateur|recording|recorded|audio|youtube|video|home|mono|muffled|"
    r"distorted sound|poor|bad|static|hiss|microphone|mic\b|live performance|clipping|background"
)
STOPWORDS = set("a an the of with and in on at to for by no not is are it its this that some "
                "from over into as or be very has have".split())


def words(text: str) -> set[str]:
    """Lowercase word stems: 'strings' and 'string' count as the same word."""
    out = set()
    for w in re.findall(r"[a-z0-9]+", text.lower()):
        if w in STOPWORDS or len(w) < 2:
            continue
        out.add(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w)
    return out


def aspect_words(aspect_list: str) -> set[str]:
    aspects = ast.literal_eval(aspect_list)
    kept = [a for a in aspects if not RECORDING_CONDITIONS.search(a.lower())]
    return set().union(*(words(a) for a in kept)) if kept else set()


def load_rows(path: Path, count: int, split: str) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if (r["is_audioset_eval"] == "True") == (split == "eval")]
    return rows[:count]


def score(rows: list[dict[str, str]], prompts: list[str]) -> tuple[float, float]:
    kept = total = 0
    for row, prompt in zip(rows, prompts):
        wanted = aspect_words(row["aspect_list"])
        kept += len(wanted & words(prompt))
        total += len(wanted)
    return kept / max(total, 1), statistics.median(len(p.split()) for p in prompts)


def structurer_prompts(rows: list[dict[str, str]]) -> list[str]:
    from text_to_music_prompt_structurer import MusicPromptEngine, format_prompt

    engine = MusicPromptEngine()
    return [format_prompt(engine.process(r["caption"])) for r in rows]


def musicbrief_prompts(rows: list[dict[str, str]], llm: str) -> tuple[list[str], list[float]]:
    config = load_config(llm=llm)
    understand = build_understanding(llm, config)
    prompts, times = [], []
    for row in rows:
        start = time.perf_counter()
        _, prompt, _ = refine(row["caption"], understand=understand)
        times.append(time.perf_counter() - start)
        prompts.append(prompt)
    return prompts, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--split", choices=["eval", "train"], default="eval")
    parser.add_argument("--llm", action="append", help="off | embedded | PATH (repeatable)")
    args = parser.parse_args()
    rows = load_rows(args.csv, args.rows, args.split)
    print(f"MusicCaps {args.split} rows: {len(rows)}")
    print(f"{'system':<36} {'aspect words kept':>18} {'median prompt words':>20} {'median s/request':>17}")
    for llm in args.llm or ["off"]:
        prompts, times = musicbrief_prompts(rows, llm)
        share, length = score(rows, prompts)
        print(f"{'musicbrief refine --llm ' + llm:<36} {share:>18.1%} {length:>20.0f} {statistics.median(times):>17.3f}")
    share, length = score(rows, structurer_prompts(rows))
    print(f"{'text-to-music-prompt-structurer':<36} {share:>18.1%} {length:>20.0f} {'':>17}")
    share, length = score(rows, [r["caption"] for r in rows])
    print(f"{'caption itself':<36} {share:>18.1%} {length:>20.0f} {'':>17}")


if __name__ == "__main__":
    main()
