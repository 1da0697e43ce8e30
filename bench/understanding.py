"""Slot precision and recall of understanding, with and without the LLM, on labelled requests.

    python bench/understanding.py --llm off --llm embedded

Each request in tests/data/understanding.yaml is read once (extraction, plus the LLM's grounded
proposals when it is on) into an empty brief, before any default is filled in, and the values
are compared with the labels. Printed in one run: precision and recall per setting and per kind
of request (direct, indirect, slang, misspelt), and the median and 95th-percentile time per turn.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.brief import MusicBrief  # noqa: E402
from assistant.config import load_config  # noqa: E402
from assistant.dialogue import step  # noqa: E402
from assistant.services import build_understanding  # noqa: E402
from assistant.state import State  # noqa: E402
from assistant.vocab import vocabulary  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "understanding.yaml"
SINGLE = ("genre", "bpm", "tempo", "feel", "brightness", "width", "space", "mood")
LISTS = ("instruments", "production", "exclude")


def predicted(brief: MusicBrief) -> dict[str, list]:
    vocab = vocabulary()
    genre = vocab.genre(brief.style.genre)
    feel_parts = (brief.tempo.feel or "").split(", ")
    tempo = [t for p in feel_parts if p and (t := vocab.canonical("tempo", p))]
    feel = [p for p in feel_parts if p and not vocab.canonical("tempo", p)]
    return {
        "genre": [genre.name] if genre else ([brief.style.genre] if brief.style.genre else []),
        "mood": sorted(vocab.canonical_all("mood", brief.style.mood)),
        "bpm": [brief.tempo.bpm] if brief.tempo.bpm else [],
        "tempo": tempo, "feel": feel,
        "instruments": sorted(vocab.canonical_all("instrument", brief.palette.instruments)),
        "production": sorted(vocab.canonical_all("production", brief.palette.production)),
        "brightness": [brief.mix.brightness] if brief.mix.brightness else [],
        "width": [brief.mix.width] if brief.mix.width else [],
        "space": [brief.mix.space] if brief.mix.space else [],
        "exclude": list(brief.exclude),
    }


def score(pred: dict[str, list], gold: dict[str, list]) -> tuple[int, int, int, int]:
    """(true positives, predicted units, matched gold units, gold units)."""
    tp = n_pred = matched = n_gold = 0
    for slot, values in pred.items():
        want = gold.get(slot)
        if slot == "bpm" and want is None and "tempo" in gold:
            continue  # a bpm derived from "slow" is judged by the tempo label, not twice
        for value in values:
            n_pred += 1
            ok = want is not None and (want[0] <= value <= want[1] if slot == "bpm" else value in want)
            tp += ok
        if want is None:
            continue
        if slot in LISTS:
            n_gold += len(want)
            matched += len(set(values) & set(want))
        else:
            n_gold += 1
            matched += any((want[0] <= v <= want[1]) if slot == "bpm" else v in want for v in values)
    return tp, n_pred, matched, n_gold


def evaluate(items: list[dict], llm: str) -> dict:
    understand = build_understanding(llm, load_config(llm=llm))
    totals: dict[str, list[int]] = {}
    times = []
    for item in items:
        start = time.perf_counter()
        state, _ = step(State(), item["text"], understand=understand)
        times.append(time.perf_counter() - start)
        counts = score(predicted(_before_fill(state, state.brief)), item["gold"])
        for key in ("all", item["kind"]):
            totals[key] = [a + b for a, b in zip(totals.get(key, [0, 0, 0, 0]), counts)]
    return {"totals": totals, "times": times}


def _before_fill(state: State, brief: MusicBrief) -> MusicBrief:
    """The brief as understood, without values a genre profile filled in."""
    empty = MusicBrief()
    data = brief.model_dump()
    for path in state.filled_paths:
        section, _, leaf = path.partition(".")
        if leaf:
            data[section][leaf] = getattr(getattr(empty, section), leaf)
        else:
            data[section] = getattr(empty, section)
    return MusicBrief.model_validate(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llm", action="append", help="off | embedded | PATH (repeatable)")
    args = parser.parse_args()
    items = yaml.safe_load(DATA.read_text())
    kinds = ["all", "direct", "indirect", "slang", "misspelt"]
    counts = ", ".join(f"{k}: {sum(i['kind'] == k for i in items)}" for k in kinds[1:])
    print(f"{len(items)} labelled requests ({counts})")
    print(f"{'llm':<10} {'kind':<9} {'precision':>9} {'recall':>7}   {'median s/turn':>13} {'p95 s/turn':>10}")
    for llm in args.llm or ["off", "embedded"]:
        result = evaluate(items, llm)
        times = sorted(result["times"])
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        for kind in kinds:
            tp, n_pred, matched, n_gold = result["totals"].get(kind, [0, 0, 0, 0])
            timing = f"{statistics.median(times):>13.3f} {p95:>10.3f}" if kind == "all" else ""
            print(f"{llm:<10} {kind:<9} {tp / max(n_pred, 1):>9.1%} {matched / max(n_gold, 1):>7.1%}   {timing}")


if __name__ == "__main__":
    main()
