"""Slot precision and recall of understanding, with and without the LLM, on labelled requests.

    python bench/understanding.py --llm off --llm embedded

Each request in tests/data/understanding.yaml and tests/data/understanding_references.yaml is read
once (the dialogue's first turn, the LLM's choices included when it is on) into an empty brief,
before any default is filled in, and the values are compared with the labels. Printed in one run,
per setting and per kind of request:
- placed: the share that left the first turn with a fitting genre or mood and no refusal
- precision and recall of the slots (for the reference kinds, the labelled slots: genre, mood, bpm)
- leaked: prompts that carry an artist or franchise name (the request is then generated with
  "just go", and the prompt sent to MusicGen is checked)
- the median and 95th-percentile time per turn
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import yaml

from assistant.brief import MusicBrief
from assistant.app.config import load_config
from assistant.dialogue.turns import step
from assistant.understanding.references import names_in, phrase_key
from assistant.app.services import build_understanding
from assistant.dialogue.state import State
from assistant.vocab import vocabulary

DATA_DIR = Path(__file__).resolve().parent.parent / "tests" / "data"
DATA_FILES = ("understanding.yaml", "understanding_references.yaml")
REFERENCE_KINDS = ("occasion", "scene", "media", "era", "artist", "slang2")
STYLE_SLOTS = ("genre", "mood", "bpm")
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


def score(pred: dict[str, list], gold: dict[str, list], slots: tuple[str, ...] = ()) -> tuple[int, int, int, int]:
    """(true positives, predicted units, matched gold units, gold units), over `slots` when given."""
    tp = n_pred = matched = n_gold = 0
    for slot, values in pred.items():
        if slots and slot not in slots:
            continue
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


def placed(pred: dict[str, list], gold: dict[str, list], refused: bool) -> bool:
    """A fitting genre or mood, and no refusal."""
    fits = set(pred["genre"]) & set(gold.get("genre", [])) or set(pred["mood"]) & set(gold.get("mood", []))
    return bool(fits) and not refused


def leaked(state: State, item: dict, understand: object) -> bool:
    """Generate the request ("just go") and look for names in the prompt sent to MusicGen."""
    if state.phase != "generated":
        state, _ = step(state, "just go", understand=understand)
    prompt = state.last_round.prompt if state.last_round else ""
    key = f" {phrase_key(prompt)} "
    return bool(names_in(prompt)) or any(f" {phrase_key(n)} " in key for n in item.get("names", []))


def evaluate(items: list[dict], llm: str) -> dict:
    understand = build_understanding(llm, load_config(llm=llm))
    totals: dict[str, list[int]] = {}
    times: dict[str, list[float]] = {}
    for item in items:
        start = time.perf_counter()
        state, reply = step(State(), item["text"], understand=understand)
        elapsed = time.perf_counter() - start
        pred = predicted(_before_fill(state, state.brief))
        slots = STYLE_SLOTS if item["kind"] in REFERENCE_KINDS else ()
        refused = reply.action == "answer" and not state.brief.style.genre and not state.brief.style.mood
        counts = (*score(pred, item["gold"], slots), placed(pred, item["gold"], refused), 1,
                  leaked(state, item, understand))
        for key in ("all", item["kind"]):
            totals[key] = [a + b for a, b in zip(totals.get(key, [0] * 7), counts)]
            times.setdefault(key, []).append(elapsed)
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
    items = [i for name in DATA_FILES for i in yaml.safe_load((DATA_DIR / name).read_text())]
    kinds = ["all", "direct", "indirect", "slang", "misspelt", *REFERENCE_KINDS]
    counts = ", ".join(f"{k}: {sum(i['kind'] == k for i in items)}" for k in kinds[1:])
    print(f"{len(items)} labelled requests ({counts})")
    print(f"{'llm':<10} {'kind':<9} {'placed':>7} {'precision':>9} {'recall':>7} {'leaked':>6}   "
          f"{'median s/turn':>13} {'p95 s/turn':>10}")
    for llm in args.llm or ["off", "embedded"]:
        result = evaluate(items, llm)
        for kind in kinds:
            tp, n_pred, matched, n_gold, n_placed, n, n_leaked = result["totals"].get(kind, [0] * 7)
            times = sorted(result["times"].get(kind, [0.0]))
            p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
            print(f"{llm:<10} {kind:<9} {n_placed / max(n, 1):>7.1%} {tp / max(n_pred, 1):>9.1%} "
                  f"{matched / max(n_gold, 1):>7.1%} {n_leaked:>6}   {statistics.median(times):>13.3f} {p95:>10.3f}")


if __name__ == "__main__":
    main()
