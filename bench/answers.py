"""Questions answered correctly, brief never changed, time per answer: LLM off and embedded, one run.

    python bench/answers.py --llm off --llm embedded

Each item of tests/data/questions.yaml plays its `before` turns, then asks its question. It is
answered correctly when the reply holds every `expect` string (case-insensitive), and the brief must
be identical before and after the question.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import yaml

from assistant.app.config import load_config
from assistant.dialogue.turns import step
from assistant.app.services import build_understanding
from assistant.dialogue.state import State

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "questions.yaml"
KINDS = ("glossary", "genre", "compare", "why", "limits", "off_topic")


def run_item(item: dict, understand: object) -> tuple[bool, bool, float, str]:
    """(answered correctly, brief changed, seconds for the question, the reply)."""
    state = State()
    for message in item.get("before", []):
        state, _ = step(state, message, understand=understand)
    before = state.brief
    start = time.perf_counter()
    state, reply = step(state, item["ask"], understand=understand)
    elapsed = time.perf_counter() - start
    correct = all(e.lower() in reply.reply.lower() for e in item["expect"])
    return correct, state.brief != before, elapsed, reply.reply


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llm", action="append", help="off | embedded | PATH (repeatable)")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--data", type=Path, default=DATA, help="tests/data/questions_heldout.yaml: the held-out set")
    args = parser.parse_args()
    items = yaml.safe_load(args.data.read_text())
    counts = ", ".join(f"{k}: {sum(i['kind'] == k for i in items)}" for k in KINDS)
    print(f"{len(items)} labelled questions ({counts})")
    print(f"{'llm':<10} {'kind':<10} {'correct':>8} {'brief changed':>14} {'median s':>9}")
    for llm in args.llm or ["off", "embedded"]:
        understand = build_understanding(llm, load_config(llm=llm))
        results = [(item, *run_item(item, understand)) for item in items]
        for kind in ("all", *KINDS):
            rows = [r for r in results if kind == "all" or r[0]["kind"] == kind]
            correct = sum(r[1] for r in rows) / len(rows)
            changed = sum(r[2] for r in rows)
            print(f"{llm:<10} {kind:<10} {correct:>8.1%} {changed:>14} {statistics.median(r[3] for r in rows):>9.3f}")
        if args.show_misses:
            for item, ok, changed, _, text in results:
                if not ok or changed:
                    print(f"  MISS {item['ask']!r}: {text[:160]!r}{' (brief changed)' if changed else ''}")


if __name__ == "__main__":
    main()
